/**
 * The plain counters the request path bumps: numbers in plain objects, incremented synchronously (one add, no
 * Effect, no Map lookup per request). `Metrics.ts` reads them when `/metrics` is scraped and exposes them through
 * Effect `Metric` counters and gauges. They count per process (like Prometheus's default registry): one server
 * per process is the deployment this serves; tests that assert exact values run the server in its own process.
 */
import type { CommandError } from "../errors.js"

/** How the commands of one name ended; every command spec carries one (`CommandSpec.stats`). */
export interface CommandStats {
  /** Answered `Ok`. */
  ok: number
  /** Answered with a typed `Error` (a command error, a permission refusal). */
  error: number
  /** Failed by a defect or an internal failure: answered `internal server error`. */
  internal: number
}

/** A zeroed `CommandStats`. */
export const newCommandStats = (): CommandStats => ({ ok: 0, error: 0, internal: 0 })

/**
 * The prefixes an `Error` reply can start with, as they read on the wire (`Unauthorized` and `internal` have no
 * prefix on the wire: they are named after their texts). The index of a prefix is its slot in `errorsByPrefix`.
 */
export const ERROR_PREFIXES = [
  "KeyNotFoundError",
  "InvalidCommandError",
  "InvalidArgumentError",
  "InvalidValueError",
  "InvalidKeyError",
  "InvalidMapKeyError",
  "InvalidCharacterError",
  "InvalidIndexError",
  "InvalidReferenceError",
  "OutOfMemoryError",
  "PermissionDeniedError",
  "ProtocolError",
  "ConnectionFailed",
  "Unauthorized",
  "InternalError",
  "NoPrefix"
] as const

/** One of `ERROR_PREFIXES`. */
export type ErrorPrefix = (typeof ERROR_PREFIXES)[number]

const prefixIndex: Readonly<Record<string, number>> = Object.fromEntries(ERROR_PREFIXES.map((p, i) => [p, i]))
const NO_PREFIX = prefixIndex["NoPrefix"]!

/** The slot in `errorsByPrefix` of the reply `e` is sent as (the same classification as `errorText`). */
export const errorPrefixIndex = (e: CommandError): number => {
  switch (e._tag) {
    case "Unauthorized":
      return prefixIndex["Unauthorized"]!
    case "InternalError":
    case "SessionStoreError":
    case "StoreError":
      return prefixIndex["InternalError"]!
    case "AuthFailed":
      return prefixIndex["ConnectionFailed"]!
    case "ProtocolError":
      return prefixIndex["ProtocolError"]!
    case "PermissionDenied":
      return prefixIndex["PermissionDeniedError"]!
    case "UnknownCommand":
      return prefixIndex["InvalidCommandError"]!
    case "CommandFailed":
      return e.prefix === "" ? NO_PREFIX : (prefixIndex[e.prefix] ?? NO_PREFIX)
  }
}

/** The server's counters (see the module comment). All count up from process start unless noted. */
export const counters = {
  /** Connections accepted by the listener. */
  connectionsAccepted: 0,
  /** Connections refused at accept (a connection limit); incremented where a limit refuses one. */
  connectionsRejected: 0,
  /** Sessions created (AUTH, or at accept with authentication off). */
  sessionsCreated: 0,
  /** Sessions ended by SESSION.KILL. */
  sessionsKilled: 0,
  /** AUTH attempts refused. */
  authFailures: 0,
  /** Bytes read from clients. */
  bytesIn: 0,
  /** Bytes of replies queued to clients. */
  bytesOut: 0,
  /** Reads (socket chunks handled as one batch of requests). */
  reads: 0,
  /** `Error` replies by prefix, indexed like `ERROR_PREFIXES`. */
  errorsByPrefix: ERROR_PREFIXES.map(() => 0),
  /** AUTH's own outcomes (AUTH is not in the command table: the connection handles it). */
  auth: newCommandStats()
}

/**
 * The Effect-native Fleare client: a service with one typed method per command, over a pool of pipelined
 * connections that reconnect by a `Schedule`, plus `subscribe` for pub/sub.
 *
 *   const program = Effect.gen(function* () {
 *     const fleare = yield* FleareClient
 *     yield* fleare.set("greeting", "hello")
 *     return yield* fleare.numIncr("visits")
 *   })
 *   program.pipe(Effect.provide(FleareClient.layer({ user: "root", password: "root" })))
 *
 * Results are typed by command: numbers for counts and NUM.*, parsed JSON for LIST/MAP/JSON reads, `void` for
 * writes that answer nothing. A read of a missing key gives `""` (GET, STR.GET) or `undefined` (parsed reads).
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import { MemoryLink } from "../server/MemoryTransport.js"
import type { Dialer, Reply } from "./Connection.js"
import { type ClientError, ConnectionError, FleareError, replyError, type Unauthorized } from "./errors.js"
import { makePool } from "./Pool.js"
import { type PushMessage, subscribe, type SubscribeOptions } from "./Subscriber.js"

/** How to reach the server. Every field has a default (Fleare's: 127.0.0.1:9219, no credentials). */
export interface FleareClientConfig {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string | Redacted.Redacted<string>
  /** Connections in the pool; each is pipelined, so a few go a long way. Default 4. */
  readonly poolSize: number
  /** How long connecting and authenticating may take. Default 10 seconds. */
  readonly connectTimeout: Duration.DurationInput
  /** How a lost connection is retried (a `ConnectionError` only). Default: 50 ms doubling to 1 s, 10 tries. */
  readonly reconnect: Schedule.Schedule<unknown, unknown>
  /** Largest reply accepted. Default 512 MiB. */
  readonly maxFrameBytes: number
  /**
   * How to open a connection; undefined (the default): TCP to `host`:`port`. `FleareClient.layerTest` sets it
   * to the in-memory server's `MemoryLink`.
   */
  readonly dial: Dialer | undefined
}

/** The default reconnect policy: exponential backoff from 50 ms, capped at 1 s per wait, 10 attempts. */
export const defaultReconnect: Schedule.Schedule<unknown, unknown> = Schedule.exponential("50 millis").pipe(
  Schedule.union(Schedule.spaced("1 second")),
  Schedule.intersect(Schedule.recurs(10))
)

const defaults: FleareClientConfig = {
  host: "127.0.0.1",
  port: 9219,
  user: "",
  password: "",
  poolSize: 4,
  connectTimeout: Duration.seconds(10),
  reconnect: defaultReconnect,
  maxFrameBytes: 512 * 1024 * 1024,
  dial: undefined
}

/**
 * An argument value: strings are sent as they are, anything else as JSON (`5` → `5`, `{a:1}` → `{"a":1}`),
 * as Fleare's Node client does. The server reads list, map and JSON values as JSON where they parse.
 */
export type Value = string | number | boolean | null | object

/** The SESSION reply (field names as the server sends them; the password is always `*******`). */
export interface SessionInfo {
  readonly session_id: string
  readonly user: { readonly Username: string; readonly Password: string; readonly Role: string }
  readonly status: number
  readonly created_at: string
  readonly last_accessed_at: string
}

/** The STATUS reply: Fleare's fields and the ones fleare-ts adds. */
export interface ServerStatus {
  readonly server_status: string
  readonly up_time: string
  readonly shard_info: { readonly [key: string]: unknown }
  readonly [key: string]: unknown
}

/** The client's operations. Every method fails with `FleareError`, `Unauthorized` or `ConnectionError`. */
export interface FleareClientShape {
  /** Sends any command; an `Error` reply is returned, not failed (a lost connection still fails). */
  readonly call: (
    command: string,
    ...args: ReadonlyArray<string>
  ) => Effect.Effect<Reply, ConnectionError | Unauthorized>
  /** Sends any command and returns its result text; an `Error` reply fails with its typed error. */
  readonly command: (command: string, ...args: ReadonlyArray<string>) => Effect.Effect<string, ClientError>

  readonly ping: (...message: ReadonlyArray<string>) => Effect.Effect<string, ClientError>
  readonly status: () => Effect.Effect<ServerStatus, ClientError>
  readonly session: () => Effect.Effect<SessionInfo, ClientError>
  readonly sessionList: () => Effect.Effect<ReadonlyArray<SessionInfo>, ClientError>
  /** True when the session existed (its connection is closed). */
  readonly sessionKill: (sessionId: string) => Effect.Effect<boolean, ClientError>

  readonly set: (key: string, value: string) => Effect.Effect<void, ClientError>
  /** The stored value (`""` when missing), or with a dotted path the JSON text found there. */
  readonly get: (key: string, path?: string) => Effect.Effect<string, ClientError>
  readonly exists: (...keys: ReadonlyArray<string>) => Effect.Effect<number, ClientError>
  readonly del: (key: string) => Effect.Effect<void, ClientError>

  readonly strSet: (key: string, value: string) => Effect.Effect<void, ClientError>
  readonly strGet: (key: string) => Effect.Effect<string, ClientError>
  readonly strAppend: (key: string, ...values: ReadonlyArray<string>) => Effect.Effect<void, ClientError>
  readonly strLength: (key: string) => Effect.Effect<number, ClientError>
  readonly strRange: (key: string, start: number, length: number) => Effect.Effect<string, ClientError>

  readonly numSet: (key: string, value: number | string) => Effect.Effect<void, ClientError>
  /** The number, or `undefined` when the key is missing. */
  readonly numGet: (key: string) => Effect.Effect<number | undefined, ClientError>
  readonly numIncr: (key: string, delta?: number | string) => Effect.Effect<number, ClientError>
  readonly numDecr: (key: string, delta?: number | string) => Effect.Effect<number, ClientError>

  readonly listSet: (key: string, ...values: ReadonlyArray<Value>) => Effect.Effect<number, ClientError>
  readonly listPush: (key: string, ...values: ReadonlyArray<Value>) => Effect.Effect<number, ClientError>
  readonly listIset: (key: string, index: number, value: Value) => Effect.Effect<void, ClientError>
  /** The whole list, or the element at `index`; `undefined` when missing. */
  readonly listGet: (key: string, index?: number) => Effect.Effect<unknown, ClientError>
  readonly listLen: (key: string) => Effect.Effect<number, ClientError>
  /** Removes and returns the last element (`undefined` when there is none). */
  readonly listPop: (key: string) => Effect.Effect<unknown, ClientError>
  readonly listGPop: (key: string) => Effect.Effect<unknown, ClientError>
  /** The matching elements (empty when none match or the key is missing). */
  readonly listFind: (key: string, expr: string) => Effect.Effect<ReadonlyArray<unknown>, ClientError>
  readonly listUpdate: (key: string, expr: string, value: Value) => Effect.Effect<number, ClientError>

  readonly mapSet: (key: string, field: string, value: Value) => Effect.Effect<void, ClientError>
  readonly mapCSet: (key: string, field: string, value: Value) => Effect.Effect<void, ClientError>
  /** The whole map, or one field's value; `undefined` when missing. */
  readonly mapGet: (key: string, field?: string) => Effect.Effect<unknown, ClientError>
  readonly mapDel: (key: string, field?: string) => Effect.Effect<void, ClientError>

  readonly jsonSet: (key: string, json: Value) => Effect.Effect<void, ClientError>
  /** The document (or the value at the dotted path), with `$ref:` references at `refPaths` resolved. */
  readonly jsonGet: (
    key: string,
    path?: string,
    ...refPaths: ReadonlyArray<string>
  ) => Effect.Effect<unknown, ClientError>
  readonly jsonPGet: (key: string, path?: string) => Effect.Effect<unknown, ClientError>
  /** Sets the value at the path; returns the whole new document. */
  readonly jsonAdd: (key: string, path: string, value: Value) => Effect.Effect<unknown, ClientError>
  readonly jsonMerge: (key: string, json: Value) => Effect.Effect<unknown, ClientError>
  /** Deletes the key (no path) or the path; returns the new document (`undefined` when the key went). */
  readonly jsonRemove: (key: string, path?: string) => Effect.Effect<unknown, ClientError>
  readonly jsonSetRef: (
    key: string,
    json: Value,
    refs: { readonly [path: string]: string }
  ) => Effect.Effect<void, ClientError>

  /** Seconds left, -1 without expiry, -2 when missing. */
  readonly ttl: (key: string) => Effect.Effect<number, ClientError>
  /** Sets the expiry (`30`, `"30s"`, `"5m"`, `"2h"`, `"1d"`; 0 or less removes it); false when the key is missing. */
  readonly ttlExpire: (key: string, duration: number | string) => Effect.Effect<boolean, ClientError>

  readonly publish: (topic: string, message: Value) => Effect.Effect<void, ClientError>
  /** The messages published to `topic`, on a connection of its own (see `Subscriber.ts`). */
  readonly subscribe: (topic: string, options?: SubscribeOptions) => Stream.Stream<PushMessage, ClientError>
}

const arg = (v: Value): string => (typeof v === "string" ? v : JSON.stringify(v))

/** Parses a JSON result; the empty result (missing key) is `undefined`, a non-JSON text is returned as is. */
const json = (text: string): unknown => {
  if (text === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

const number = (command: string) => (text: string) => {
  const n = Number(text)
  return text.trim() === "" || Number.isNaN(n)
    ? Effect.fail(new FleareError({ prefix: "", message: `${command} answered a non-number: ${JSON.stringify(text)}` }))
    : Effect.succeed(n)
}

/** Builds the client over a fresh pool; the connections close with the scope. */
export const make = (
  config: Partial<FleareClientConfig> = {}
): Effect.Effect<FleareClientShape, ConnectionError | Unauthorized, Scope.Scope> =>
  Effect.gen(function* () {
    const c: FleareClientConfig = { ...defaults, ...config }
    const pool = yield* makePool(
      {
        host: c.host,
        port: c.port,
        user: c.user,
        password: Redacted.isRedacted(c.password) ? Redacted.value(c.password) : c.password,
        connectTimeout: c.connectTimeout,
        maxFrameBytes: c.maxFrameBytes,
        dial: c.dial
      },
      c.poolSize,
      c.reconnect
    )

    const call = (command: string, ...args: ReadonlyArray<string>) => pool.request(command, args)
    const run = (command: string, args: ReadonlyArray<string>): Effect.Effect<string, ClientError> =>
      Effect.flatMap(pool.request(command, args), (r) =>
        r.status === "Ok" ? Effect.succeed(r.result) : Effect.fail(replyError(r.result))
      )
    const unit = (command: string, args: ReadonlyArray<string>) => Effect.asVoid(run(command, args))
    const num = (command: string, args: ReadonlyArray<string>) => Effect.flatMap(run(command, args), number(command))
    const parsed = (command: string, args: ReadonlyArray<string>) => Effect.map(run(command, args), json)
    // The server's own JSON documents: a reply that is not JSON means the peer is not the server we think.
    const document = <A>(command: string, args: ReadonlyArray<string>) =>
      Effect.flatMap(run(command, args), (t) =>
        Effect.try({
          try: () => JSON.parse(t) as A,
          catch: () => new FleareError({ prefix: "", message: `${command} answered non-JSON: ${JSON.stringify(t)}` })
        })
      )
    const opt = (...args: ReadonlyArray<string | number | undefined>): Array<string> =>
      args.filter((a): a is string | number => a !== undefined).map(String)

    return {
      call,
      command: (command, ...args) => run(command, args),

      ping: (...message) => run("PING", message),
      status: () => document<ServerStatus>("STATUS", []),
      session: () => document<SessionInfo>("SESSION", []),
      sessionList: () => document<ReadonlyArray<SessionInfo>>("SESSION.LIST", []),
      sessionKill: (id) => Effect.map(run("SESSION.KILL", [id]), (t) => t === "1"),

      set: (key, value) => unit("SET", [key, value]),
      get: (key, path) => run("GET", opt(key, path)),
      exists: (...keys) => num("EXISTS", keys),
      del: (key) => unit("DELETE", [key]),

      strSet: (key, value) => unit("STR.SET", [key, value]),
      strGet: (key) => run("STR.GET", [key]),
      strAppend: (key, ...values) => unit("STR.APPEND", [key, ...values]),
      strLength: (key) => num("STR.LENGTH", [key]),
      strRange: (key, start, length) => run("STR.RANGE", [key, String(start), String(length)]),

      numSet: (key, value) => unit("NUM.SET", [key, String(value)]),
      numGet: (key) =>
        Effect.flatMap(run("NUM.GET", [key]), (t) => (t === "" ? Effect.succeed(undefined) : number("NUM.GET")(t))),
      numIncr: (key, delta) => num("NUM.INCR", opt(key, delta)),
      numDecr: (key, delta) => num("NUM.DECR", opt(key, delta)),

      listSet: (key, ...values) => num("LIST.SET", [key, ...values.map(arg)]),
      listPush: (key, ...values) => num("LIST.PUSH", [key, ...values.map(arg)]),
      listIset: (key, index, value) => unit("LIST.ISET", [key, String(index), arg(value)]),
      listGet: (key, index) => parsed("LIST.GET", opt(key, index)),
      listLen: (key) => num("LIST.LEN", [key]),
      listPop: (key) => parsed("LIST.POP", [key]),
      listGPop: (key) => parsed("LIST.GPOP", [key]),
      listFind: (key, expr) =>
        Effect.map(parsed("LIST.FIND", [key, expr]), (v) => (Array.isArray(v) ? (v as ReadonlyArray<unknown>) : [])),
      listUpdate: (key, expr, value) =>
        Effect.flatMap(run("LIST.UPDATE", [key, expr, arg(value)]), (t) =>
          t === "" ? Effect.succeed(0) : number("LIST.UPDATE")(t)
        ),

      mapSet: (key, field, value) => unit("MAP.SET", [key, field, arg(value)]),
      mapCSet: (key, field, value) => unit("MAP.CSET", [key, field, arg(value)]),
      mapGet: (key, field) => parsed("MAP.GET", opt(key, field)),
      mapDel: (key, field) => unit("MAP.DEL", opt(key, field)),

      jsonSet: (key, value) => unit("JSON.SET", [key, arg(value)]),
      // Like Fleare's Node client, always send a path: the empty path is the root, returned as sorted JSON.
      jsonGet: (key, path, ...refPaths) => parsed("JSON.GET", [key, path ?? "", ...refPaths]),
      jsonPGet: (key, path) => parsed("JSON.PGET", opt(key, path)),
      jsonAdd: (key, path, value) => parsed("JSON.ADD", [key, path, arg(value)]),
      jsonMerge: (key, value) => parsed("JSON.MERGE", [key, arg(value)]),
      jsonRemove: (key, path) => parsed("JSON.REMOVE", opt(key, path)),
      jsonSetRef: (key, value, refs) => unit("JSON.SETREF", [key, arg(value), JSON.stringify(refs)]),

      ttl: (key) => num("TTL", [key]),
      ttlExpire: (key, duration) => Effect.map(run("TTL.EXPIRE", [key, String(duration)]), (t) => t === "1"),

      publish: (topic, message) => unit("PUBLISH", [topic, arg(message)]),
      subscribe: (topic, options) => subscribe(pool.openDedicated, topic, c.reconnect, options)
    }
  })

/** The client as a service. */
export class FleareClient extends Context.Tag("fleare/FleareClient")<FleareClient, FleareClientShape>() {
  /** A client connected with `config` (defaults for what is left out); it fails to build if it cannot connect. */
  static layer = (
    config: Partial<FleareClientConfig> = {}
  ): Layer.Layer<FleareClient, ConnectionError | Unauthorized> => Layer.scoped(FleareClient, make(config))

  /**
   * A client whose configuration is computed by an Effect, e.g. from a server started in the same app on port 0:
   * `FleareClient.layerEffect(Effect.map(FleareServer, (s) => ({ port: s.address.port })))`.
   */
  static layerEffect = <E, R>(
    config: Effect.Effect<Partial<FleareClientConfig>, E, R>
  ): Layer.Layer<FleareClient, E | ConnectionError | Unauthorized, R> =>
    Layer.scoped(FleareClient, Effect.flatMap(config, make))

  /**
   * A client of the in-memory server of `FleareServer.layerTest` (no socket): the same client, connected
   * through the `MemoryLink` that layer provides. Credentials default to the embedded `root`/`root`.
   */
  static layerTest = (
    config: Partial<FleareClientConfig> = {}
  ): Layer.Layer<FleareClient, ConnectionError | Unauthorized, MemoryLink> =>
    Layer.scoped(
      FleareClient,
      Effect.flatMap(MemoryLink, (link) =>
        make({
          user: "root",
          password: "root",
          ...config,
          dial: (label) =>
            Effect.mapError(
              link.dial,
              (e) => new ConnectionError({ reason: "Connect", message: `could not connect to ${label}: ${e.message}` })
            )
        })
      )
    )
}

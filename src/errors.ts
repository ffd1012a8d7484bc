/**
 * The typed failures of the server. Every failure a client can see is one of these classes; the one
 * mapping to wire text lives in `protocol/Reply.ts`. Handlers return or fail with them; anything else
 * that escapes a handler is a defect and answers `internal server error`.
 */
import * as Data from "effect/Data"

const describe = (cause: unknown): string => (cause instanceof Error ? cause.message : String(cause))

/** No live session on this connection (never authenticated, expired, killed). */
export class Unauthorized extends Data.TaggedError("Unauthorized")<{}> {}

/** Something failed inside the server; the detail is logged, never sent. */
export class InternalError extends Data.TaggedError("InternalError")<{ readonly cause: unknown }> {
  override get message(): string {
    return `internal error: ${describe(this.cause)}`
  }
}

/** The session store could not answer (storage failure, not a missing session). */
export class SessionStoreError extends Data.TaggedError("SessionStoreError")<{ readonly cause: unknown }> {
  override get message(): string {
    return `session store failed: ${describe(this.cause)}`
  }
}

/**
 * A shared store (the Redis Cluster backend) could not answer in time or failed: unreachable, failing over, or
 * refusing the command. The client sees `internal server error`; the connection stays open.
 */
export class StoreError extends Data.TaggedError("StoreError")<{ readonly cause: unknown }> {
  override get message(): string {
    return `store failed: ${describe(this.cause)}`
  }
}

/** AUTH failed; the connection is closed after the reply. `message` is Fleare's text after `ConnectionFailed: `. */
export class AuthFailed extends Data.TaggedError("AuthFailed")<{ readonly message: string }> {}

/** A frame or message the server cannot accept. `fatal` frames close the connection after the reply. */
export class ProtocolError extends Data.TaggedError("ProtocolError")<{
  readonly message: string
  readonly fatal: boolean
}> {}

/** The session's role does not allow the command. */
export class PermissionDenied extends Data.TaggedError("PermissionDenied")<{
  readonly role: string
  readonly command: string
}> {}

/** The command name is not in the table (the name is echoed as sent). */
export class UnknownCommand extends Data.TaggedError("UnknownCommand")<{ readonly name: string }> {}

/**
 * A command-level failure carrying one of Fleare's error prefixes (`InvalidArgumentError`, `InvalidKeyError`, ...)
 * and its detail text. `prefix` empty means Fleare sends the detail bare (e.g. `invalid path: a.b`).
 */
export class CommandFailed extends Data.TaggedError("CommandFailed")<{
  readonly prefix: FleareErrorPrefix | ""
  readonly message: string
}> {}

/** The prefixes Fleare puts before a command error's detail, plus the ones fleare-ts adds. */
export type FleareErrorPrefix =
  | "KeyNotFoundError"
  | "InvalidCommandError"
  | "InvalidArgumentError"
  | "InvalidValueError"
  | "InvalidKeyError"
  | "InvalidMapKeyError"
  | "InvalidCharacterError"
  | "InvalidIndexError"
  | "InvalidReferenceError"
  | "OutOfMemoryError"
  | "PersistenceError"

/** Every error a command may answer with. */
export type CommandError =
  | Unauthorized
  | InternalError
  | SessionStoreError
  | StoreError
  | AuthFailed
  | ProtocolError
  | PermissionDenied
  | UnknownCommand
  | CommandFailed

const commandErrorTags: ReadonlySet<string> = new Set([
  "Unauthorized",
  "InternalError",
  "SessionStoreError",
  "StoreError",
  "AuthFailed",
  "ProtocolError",
  "PermissionDenied",
  "UnknownCommand",
  "CommandFailed"
])

/** True when `u` is one of the typed command errors (as opposed to a defect or an ok result). */
export const isCommandError = (u: unknown): u is CommandError =>
  typeof u === "object" && u !== null && commandErrorTags.has((u as { _tag?: unknown })._tag as string)

/** Shorthand constructors for the prefixed command errors, so handlers read like Fleare's texts. */
export const fail = {
  argument: (message: string) => new CommandFailed({ prefix: "InvalidArgumentError", message }),
  key: (message: string) => new CommandFailed({ prefix: "InvalidKeyError", message }),
  value: (message: string) => new CommandFailed({ prefix: "InvalidValueError", message }),
  mapKey: (message: string) => new CommandFailed({ prefix: "InvalidMapKeyError", message }),
  character: (message: string) => new CommandFailed({ prefix: "InvalidCharacterError", message }),
  index: (message: string) => new CommandFailed({ prefix: "InvalidIndexError", message }),
  reference: (message: string) => new CommandFailed({ prefix: "InvalidReferenceError", message }),
  notFound: (message: string) => new CommandFailed({ prefix: "KeyNotFoundError", message }),
  outOfMemory: (message: string) => new CommandFailed({ prefix: "OutOfMemoryError", message }),
  bare: (message: string) => new CommandFailed({ prefix: "", message })
} as const

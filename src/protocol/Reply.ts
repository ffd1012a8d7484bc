/**
 * What a command answers: ok text (or bytes), or a typed error. `errorText` is the ONE place where typed
 * errors become the wire's error results, so every handler's failure reads the same way on every connection.
 */
import type { CommandError } from "../errors.js"

/** A successful result: text (sent as UTF-8) or raw stored bytes. */
export type OkResult = string | Uint8Array

/**
 * What a command answers when it sends no reply frame at all (a successful SUBSCRIBE or UNSUBSCRIBE, SPEC §4.9).
 */
export const NO_REPLY: unique symbol = Symbol.for("fleare/NoReply")
export type NoReply = typeof NO_REPLY

/** The outcome of a command as the connection sees it: an ok result, or a typed error to send as `Error`. */
export type Reply = OkResult | CommandError

/** Exactly Fleare's texts for the session errors (no prefix, no newline). */
export const UNAUTHORIZED_TEXT = "unauthorized or session not found"
export const INTERNAL_ERROR_TEXT = "internal server error"

/** The `result` text of an `Error` reply for a typed error. */
export const errorText = (e: CommandError): string => {
  switch (e._tag) {
    case "Unauthorized":
      return UNAUTHORIZED_TEXT
    case "InternalError":
    case "SessionStoreError":
    case "StoreError":
      return INTERNAL_ERROR_TEXT
    case "AuthFailed":
      return `ConnectionFailed: ${e.message}`
    case "ProtocolError":
      return `ProtocolError: ${e.message}`
    case "PermissionDenied":
      return `PermissionDeniedError: role ${e.role} may not run ${e.command}`
    case "UnknownCommand":
      return `InvalidCommandError: The system could not process your request due to an unrecognized command input -> "${e.name}"`
    case "CommandFailed":
      return e.prefix === "" ? e.message : `${e.prefix}: ${e.message}`
  }
}

/**
 * The client's typed failures. A server `Error` reply becomes a `FleareError` (a command refused, with the
 * server's prefix) or `Unauthorized` (no session: AUTH refused, or the session expired or was killed); a
 * socket that cannot be opened, times out or dies becomes a `ConnectionError`.
 */
import * as Data from "effect/Data"

/** A command the server answered with `Error`: `prefix` is its error class (`InvalidArgumentError`, ...). */
export class FleareError extends Data.TaggedError("FleareError")<{
  /** The text before the first `": "` when it names an error class (`InvalidArgumentError`), else empty. */
  readonly prefix: string
  /** The rest of the text (the whole text when there is no prefix, e.g. `internal server error`). */
  readonly message: string
}> {
  /** The server's text as sent: `<prefix>: <message>`, or just the message. */
  get text(): string {
    return this.prefix === "" ? this.message : `${this.prefix}: ${this.message}`
  }
}

/** The server refused the credentials (`ConnectionFailed: ...`) or the connection has no live session. */
export class Unauthorized extends Data.TaggedError("Unauthorized")<{
  /** `AuthFailed`: AUTH was refused (the server closed the connection); `NoSession`: no live session. */
  readonly reason: "AuthFailed" | "NoSession"
  /** The server's text, e.g. `ConnectionFailed: The username or password you entered is incorrect. ...`. */
  readonly message: string
}> {}

/** The socket could not be opened, timed out, was closed, or carried bytes that are not Fleare frames. */
export class ConnectionError extends Data.TaggedError("ConnectionError")<{
  readonly reason: "Connect" | "Timeout" | "Closed" | "Protocol"
  readonly message: string
  readonly cause?: unknown
}> {}

/** Every failure a client call can have. */
export type ClientError = FleareError | Unauthorized | ConnectionError

/** Exactly the server's text for a connection without a live session (SPEC A.2). */
const NO_SESSION_TEXT = "unauthorized or session not found"
const AUTH_FAILED_PREFIX = "ConnectionFailed: "
/** An error class name at the start of a text: `InvalidArgumentError`, `PermissionDeniedError`, ... */
const PREFIX = /^([A-Z][A-Za-z]*Error): /

/**
 * The typed error for the result text of an `Error` reply. Fleare ends command errors with a newline; it is
 * dropped, so texts from Fleare and from fleare-ts read the same.
 */
export const replyError = (result: string): FleareError | Unauthorized => {
  const text = result.endsWith("\n") ? result.slice(0, -1) : result
  if (text === NO_SESSION_TEXT) return new Unauthorized({ reason: "NoSession", message: text })
  if (text.startsWith(AUTH_FAILED_PREFIX)) return new Unauthorized({ reason: "AuthFailed", message: text })
  const m = PREFIX.exec(text)
  return m
    ? new FleareError({ prefix: m[1]!, message: text.slice(m[0].length) })
    : new FleareError({ prefix: "", message: text })
}

/** The text a user should see for any client error (what the server said, or what went wrong locally). */
export const errorMessage = (e: ClientError): string => (e._tag === "FleareError" ? e.text : e.message)

/**
 * The promise a connection waits on before it acknowledges writes. After running a batch of commands, the
 * connection asks for a barrier: an Effect that completes once every write made so far is as durable as the
 * configured policy promises (with `fsync: always`, fsynced; many connections share one fsync). Replies are sent
 * only after it completes; if it fails, the replies to the batch's writes become `PersistenceError` replies, so
 * nothing unlogged is ever acknowledged. Without persistence the barrier is absent and costs nothing.
 *
 * While the log cannot be written (`failure()` is set), write commands are refused up front with
 * `failure().refusal`, before they change anything; reads, AUTH, SESSION, PING and STATUS go on, and their
 * replies wait for nothing. The log retries in the background and clears `failure()` once it can write again.
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { CommandFailed } from "../errors.js"

/**
 * Writes could not be made durable (the log's disk failed, or the log is closed). `reason` is the short cause a
 * client may see (e.g. `ENOSPC: no space left on device, write`: no file names); `sinceMillis` is when the log
 * began failing (Clock time).
 */
export class DurabilityError extends Data.TaggedError("DurabilityError")<{
  readonly cause: unknown
  readonly reason: string
  readonly sinceMillis: number
}> {
  override get message(): string {
    return `write-ahead log failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }

  /** The answer to a write command refused up front while the log cannot be written: nothing was changed. */
  get refusal(): CommandFailed {
    return (this.refused ??= new CommandFailed({
      prefix: "PersistenceError",
      message: `writes are refused while the log cannot be written (${this.reason}); nothing was changed`
    }))
  }

  /**
   * The answer to a write that was applied in memory but whose log record could not be written: it is not
   * acknowledged. The record is kept and written once the log can be written again (unless the server stops
   * first), so a later read, or a restart after the disk recovered, may show it.
   */
  get unlogged(): CommandFailed {
    return (this.notLogged ??= new CommandFailed({
      prefix: "PersistenceError",
      message: `the log cannot be written (${this.reason}); this write is applied in memory but not logged`
    }))
  }

  private refused: CommandFailed | undefined
  private notLogged: CommandFailed | undefined
}

/** What a client may be told of why the log cannot be written: the system's error text, without file names. */
export const failureReason = (cause: unknown): string => {
  const e = Cause.isCause(cause) ? Cause.squash(cause) : cause
  if (typeof e === "object" && e !== null) {
    // A platform SystemError: `description` is the system's text (`ENOSPC: no space left on device, write`).
    const description = (e as { readonly description?: unknown }).description
    if (typeof description === "string" && description !== "") return description
    const code = (e as { readonly code?: unknown }).code
    if (typeof code === "string") return code
    const reason = (e as { readonly reason?: unknown }).reason
    if (typeof reason === "string") return reason
  }
  return "an I/O error"
}

/** The durability service. */
export interface DurabilityShape {
  /**
   * An Effect to await before acknowledging the writes made so far, or undefined when nothing needs waiting
   * (no write on its way, or the log is failing: then the writes are refused, see `failure`).
   */
  readonly barrier: () => Effect.Effect<void, DurabilityError> | undefined
  /**
   * The callback form of `barrier`, for a hot path that should not wake a fiber per request: false when nothing
   * needs waiting (then `done` is never called); otherwise `done` is called, exactly once, when everything
   * appended so far is durable (with undefined) or cannot be made durable (with the error), possibly at once.
   * Callbacks registered one after another are called in that order. `done` should not throw.
   */
  readonly afterDurable: (done: (error: DurabilityError | undefined) => void) => boolean
  /**
   * Why the log cannot be written now, or undefined while it can: a connection refuses write commands with its
   * `refusal` before running them, and answers with its `unlogged` the writes it ran before the log began
   * failing. A plain call (a field read): it is asked once per write command.
   */
  readonly failure: () => DurabilityError | undefined
}

export class Durability extends Context.Tag("fleare/Durability")<Durability, DurabilityShape>() {
  /** No persistence: writes are acknowledged at once. */
  static none: DurabilityShape = { barrier: () => undefined, afterDurable: () => false, failure: () => undefined }

  static layerNone: Layer.Layer<Durability> = Layer.succeed(Durability, Durability.none)
}

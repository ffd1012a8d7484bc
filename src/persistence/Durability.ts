/**
 * The promise a connection waits on before it acknowledges writes. After running a batch of commands, the
 * connection asks for a barrier: an Effect that completes once every write made so far is as durable as the
 * configured policy promises (with `fsync: always`, fsynced; many connections share one fsync). Replies are sent
 * only after it completes; if it fails, the batch's replies are dropped and the connection is closed, so nothing
 * unlogged is ever acknowledged. Without persistence the barrier is absent and costs nothing.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** Writes could not be made durable (the log's disk failed). */
export class DurabilityError extends Data.TaggedError("DurabilityError")<{ readonly cause: unknown }> {
  override get message(): string {
    return `write-ahead log failed: ${this.cause instanceof Error ? this.cause.message : String(this.cause)}`
  }
}

/** The durability service. */
export interface DurabilityShape {
  /** An Effect to await before acknowledging the writes made so far, or undefined when nothing needs waiting. */
  readonly barrier: () => Effect.Effect<void, DurabilityError> | undefined
  /**
   * The callback form of `barrier`, for a hot path that should not wake a fiber per request: false when nothing
   * needs waiting (then `done` is never called); otherwise `done` is called, exactly once, when everything
   * appended so far is durable (with undefined) or cannot be made durable (with the error), possibly at once.
   * Callbacks registered one after another are called in that order. `done` should not throw.
   */
  readonly afterDurable: (done: (error: DurabilityError | undefined) => void) => boolean
}

export class Durability extends Context.Tag("fleare/Durability")<Durability, DurabilityShape>() {
  /** No persistence: writes are acknowledged at once. */
  static none: DurabilityShape = { barrier: () => undefined, afterDurable: () => false }

  static layerNone: Layer.Layer<Durability> = Layer.succeed(Durability, Durability.none)
}

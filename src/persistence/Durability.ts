/**
 * The promise a connection waits on before it acknowledges writes. After running a batch of commands, the
 * connection asks for a barrier: an Effect that completes once every write made so far is as durable as the
 * configured policy promises (with `fsync: always`, fsynced; many connections share one fsync). Replies are sent
 * only after it completes; if it fails, the batch's replies are dropped and the connection is closed, so nothing
 * unlogged is ever acknowledged. Without persistence the barrier is absent and costs nothing.
 */
import { Context, Data, type Effect, Layer } from "effect"

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
}

export class Durability extends Context.Tag("fleare/Durability")<Durability, DurabilityShape>() {
  /** No persistence: writes are acknowledged at once. */
  static none: DurabilityShape = { barrier: () => undefined }

  static layerNone: Layer.Layer<Durability> = Layer.succeed(Durability, Durability.none)
}

/**
 * A batch of log records on its way to disk, and everyone waiting for it: connections wait either as an Effect
 * (`await`) or with a plain callback (`onSettled`, which costs no fiber wake-up). A batch settles once, with
 * success or a `DurabilityError`; waiters that come later get the outcome at once.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import type { DurabilityError } from "./Durability.js"

/** See the module comment. */
export class Batch {
  private settled = false
  private error: DurabilityError | undefined
  private deferred: Deferred.Deferred<void, DurabilityError> | undefined
  private callbacks: Array<(error: DurabilityError | undefined) => void> | undefined

  /** @param seq the batch's place in the log's order (a later batch has a larger number). */
  constructor(readonly seq: number) {}

  /** Completes when the batch settles; fails with its error. */
  await(): Effect.Effect<void, DurabilityError> {
    if (this.settled) return this.error === undefined ? Effect.void : Effect.fail(this.error)
    this.deferred ??= Deferred.unsafeMake<void, DurabilityError>(FiberId.none)
    return Deferred.await(this.deferred)
  }

  /** Calls `callback` when the batch settles (at once if it has), with its error or undefined. */
  onSettled(callback: (error: DurabilityError | undefined) => void): void {
    if (this.settled) return callback(this.error)
    ;(this.callbacks ??= []).push(callback)
  }

  /**
   * Settles the batch (only the first call counts); callbacks run now, in the order they were added. Returns
   * what callbacks threw (a throwing callback does not keep the others from running), for the caller to log.
   */
  settle(error?: DurabilityError): ReadonlyArray<unknown> {
    if (this.settled) return []
    this.settled = true
    this.error = error
    if (this.deferred !== undefined)
      Deferred.unsafeDone(this.deferred, error === undefined ? Exit.void : Exit.fail(error))
    const callbacks = this.callbacks
    this.callbacks = undefined
    if (callbacks === undefined) return []
    const thrown: Array<unknown> = []
    for (const cb of callbacks) {
      try {
        cb(error)
      } catch (defect) {
        thrown.push(defect)
      }
    }
    return thrown
  }
}

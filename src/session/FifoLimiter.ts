/**
 * Runs Effects at most `max` at a time, the rest waiting in arrival order. Effect's `Semaphore` is not fair: a
 * newcomer may take a permit that was freed for a waiter, and the waiter goes to the back, so under a steady
 * flood of AUTHs a real login could wait forever behind them. Here a freed slot is handed to the oldest waiter
 * directly. A waiter interrupted while queued leaves the queue; one interrupted while running frees its slot.
 */
import * as Effect from "effect/Effect"

/** The limiter; see the module comment. */
export class FifoLimiter {
  private running = 0
  private readonly queue: Array<() => void> = []

  constructor(private readonly max: number) {}

  /** How many are waiting (for tests and logs). */
  get waiting(): number {
    return this.queue.length
  }

  private readonly acquire: Effect.Effect<void> = Effect.async<void>((resume) => {
    if (this.running < this.max) {
      this.running++
      return resume(Effect.void)
    }
    const waiter = () => resume(Effect.void)
    this.queue.push(waiter)
    return Effect.sync(() => {
      const i = this.queue.indexOf(waiter)
      if (i >= 0) this.queue.splice(i, 1)
    })
  })

  private readonly release: Effect.Effect<void> = Effect.sync(() => {
    const next = this.queue.shift()
    // Hand the slot over (the count stays), or free it.
    if (next !== undefined) next()
    else this.running--
  })

  /**
   * `effect`, once a slot is free; or `skipped` at once, without running `effect`, when `proceed` (asked when
   * the slot comes) answers false: the caller no longer wants the work it queued for (e.g. its address got
   * locked out meanwhile), so a long queue drains fast.
   */
  run<A, E, R>(
    effect: Effect.Effect<A, E, R>,
    proceed?: () => boolean,
    skipped?: Effect.Effect<A, E, R>
  ): Effect.Effect<A, E, R> {
    return Effect.uninterruptibleMask((restore) =>
      Effect.zipRight(
        restore(this.acquire),
        Effect.ensuring(
          Effect.suspend(() =>
            proceed === undefined || skipped === undefined || proceed() ? restore(effect) : skipped
          ),
          this.release
        )
      )
    )
  }
}

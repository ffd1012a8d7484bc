/**
 * One lock per key, held while a write command on that key runs on this server. Commands on the same key from
 * this server's connections then take turns instead of racing each other's version checks, so optimistic
 * retries happen only between servers. A key's lock exists only while someone holds or waits for it.
 */
import * as Effect from "effect/Effect"

interface Held {
  readonly semaphore: Effect.Semaphore
  users: number
}

/** Per-key mutual exclusion for Effects. */
export class KeyLocks {
  private readonly locks = new Map<string, Held>()

  /** Runs `effect` holding `key`'s lock (released on any exit, interruption included). */
  withLock<A, E, R>(key: string, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> {
    return Effect.suspend(() => {
      let held = this.locks.get(key)
      if (held === undefined) this.locks.set(key, (held = { semaphore: Effect.unsafeMakeSemaphore(1), users: 0 }))
      const h = held
      h.users += 1
      return h.semaphore
        .withPermits(1)(effect)
        .pipe(
          Effect.ensuring(
            Effect.sync(() => {
              h.users -= 1
              if (h.users === 0 && this.locks.get(key) === h) this.locks.delete(key)
            })
          )
        )
    })
  }

  /** Keys with a holder or a waiter (for tests). */
  get size(): number {
    return this.locks.size
  }
}

import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { FifoLimiter } from "../../src/session/FifoLimiter.js"

describe("FifoLimiter", () => {
  it.effect("runs at most max at once; a freed slot goes to the oldest waiter, not to a newcomer", () =>
    Effect.gen(function* () {
      const limiter = new FifoLimiter(1)
      const order: Array<string> = []
      const gate = yield* Deferred.make<void>()
      const job = (name: string, wait?: Deferred.Deferred<void>) =>
        limiter.run(
          Effect.zipRight(
            wait ? Deferred.await(wait) : Effect.void,
            Effect.sync(() => order.push(name))
          )
        )
      const first = yield* Effect.fork(job("first", gate))
      yield* Effect.yieldNow()
      const second = yield* Effect.fork(job("second"))
      const third = yield* Effect.fork(job("third"))
      yield* Effect.yieldNow()
      expect(limiter.waiting).toBe(2)
      yield* Deferred.succeed(gate, undefined)
      // A newcomer arriving just as the slot frees still queues behind the waiters.
      const late = yield* Effect.fork(job("late"))
      yield* Fiber.join(Fiber.zip(Fiber.zip(first, second), Fiber.zip(third, late)))
      expect(order).toEqual(["first", "second", "third", "late"])
      expect(limiter.waiting).toBe(0)
    })
  )

  it.effect(
    "a waiter that no longer wants its turn is skipped without running; an interrupted waiter leaves the queue",
    () =>
      Effect.gen(function* () {
        const limiter = new FifoLimiter(1)
        const gate = yield* Deferred.make<void>()
        let ran = 0
        const holder = yield* Effect.fork(limiter.run(Deferred.await(gate)))
        yield* Effect.yieldNow()
        const skipped = yield* Effect.fork(
          limiter.run(
            Effect.sync(() => ++ran),
            () => false,
            Effect.succeed(-1)
          )
        )
        const interrupted = yield* Effect.fork(limiter.run(Effect.sync(() => ++ran)))
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(interrupted)
        expect(limiter.waiting).toBe(1)
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(holder)
        expect(yield* Fiber.join(skipped)).toBe(-1)
        expect(ran).toBe(0)
        // The slot is free again.
        expect(yield* limiter.run(Effect.succeed("free"))).toBe("free")
      })
  )
})

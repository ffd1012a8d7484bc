import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { connectionScheduler } from "../../src/server/ConnectionScheduler.js"

describe("connectionScheduler", () => {
  it.effect("runs yielding fibers in turn, in the order they yield", () =>
    Effect.gen(function* () {
      const order: Array<string> = []
      const worker = (name: string) =>
        Effect.gen(function* () {
          for (let i = 0; i < 3; i++) {
            order.push(`${name}${i}`)
            yield* Effect.yieldNow()
          }
        })
      const a = yield* Effect.fork(worker("a"))
      const b = yield* Effect.fork(worker("b"))
      yield* Fiber.join(a)
      yield* Fiber.join(b)
      expect(order).toEqual(["a0", "b0", "a1", "b1", "a2", "b2"])
    }).pipe(Effect.withScheduler(connectionScheduler))
  )

  it.effect("a fiber that yields thousands of times in a row still lets timers fire", () =>
    Effect.gen(function* () {
      let fired = false
      const timer = setTimeout(() => (fired = true), 0)
      // More drains in a row than the microtask queue is given (2,048): a timer turn comes in between.
      let yields = 0
      while (!fired && yields < 10_000) {
        yield* Effect.yieldNow()
        yields++
      }
      clearTimeout(timer)
      expect(fired).toBe(true)
      expect(yields).toBeGreaterThan(100)
    }).pipe(Effect.withScheduler(connectionScheduler))
  )
})

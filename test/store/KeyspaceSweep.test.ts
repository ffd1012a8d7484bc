/**
 * The active expiry sweep's timer: it wakes at the next deadline, not on a fixed tick. Under `TestClock` a day of
 * simulated time with three pending expiries costs three sweep runs; on a real clock an idle keyspace never
 * wakes. The runs are counted through `onSweep`, which the sweep fiber calls after each run.
 */
import { describe, expect, it } from "@effect/vitest"
import { Clock, type Duration, Effect, TestClock } from "effect"
import { Keyspace } from "../../src/store/Keyspace.js"
import type { Value } from "../../src/store/Value.js"

const S = 1_000_000_000n
const text = (s: string): Value => ({ kind: "Default", value: s })
const now = Clock.currentTimeNanos

/** A scoped keyspace whose sweep runs are counted. */
const counted = (options: { readonly sweepInterval?: Duration.DurationInput } = {}) =>
  Effect.gen(function* () {
    const runs: Array<number> = []
    const ks = yield* Keyspace.makeScoped({ shardCount: 2, ...options, onSweep: (removed) => runs.push(removed) })
    return { ks, runs }
  })

describe("the active expiry sweep sleeps until the next deadline", () => {
  it.scoped("TestClock.adjust('1 day') with three pending expiries runs the sweep three times", () =>
    Effect.gen(function* () {
      const { ks, runs } = yield* counted()
      const t0 = yield* now
      ks.set("a", text("x"), t0, t0 + 1n * S)
      ks.set("b", text("x"), t0, t0 + 60n * S)
      ks.set("c", text("x"), t0, t0 + 3600n * S)
      ks.set("forever", text("x"), t0)
      yield* TestClock.adjust("1 day")
      expect(ks.memory()).toMatchObject({ keys: 1, expiredKeys: 3 })
      // One run per deadline, each removing its key: the work follows the expiries, not the simulated time
      // (a 100 ms tick would have run 864,000 times).
      expect(runs).toEqual([1, 1, 1])
    })
  )

  it.scoped("with nothing to expire the sweep never runs; the first expiry scheduled wakes it", () =>
    Effect.gen(function* () {
      const { ks, runs } = yield* counted()
      yield* TestClock.adjust("1 day")
      expect(runs).toEqual([])
      const t = yield* now
      ks.set("k", text("x"), t, t + 5n * S)
      yield* TestClock.adjust("5 seconds")
      expect(runs).toEqual([1])
      expect(ks.memory().keys).toBe(0)
    })
  )

  it.scoped("an expiry earlier than the one the sweep waits for re-arms it", () =>
    Effect.gen(function* () {
      const { ks, runs } = yield* counted()
      const t0 = yield* now
      ks.set("late", text("x"), t0, t0 + 3600n * S)
      yield* TestClock.adjust("1 second")
      ks.set("soon", text("x"), t0, t0 + 2n * S)
      yield* TestClock.adjust("1 second")
      expect(ks.memory().keys).toBe(1)
      expect(runs).toEqual([1])
    })
  )

  it.scoped("keys falling due closer together than sweepInterval are removed by one run", () =>
    Effect.gen(function* () {
      const { ks, runs } = yield* counted({ sweepInterval: "1 second" })
      const t0 = yield* now
      ks.set("a", text("x"), t0, t0 + S)
      for (let i = 1; i <= 5; i++) ks.set(`b${i}`, text("x"), t0, t0 + S + BigInt(i) * 100_000_000n)
      yield* TestClock.adjust("1 minute")
      expect(ks.memory().keys).toBe(0)
      // At 1 s "a"; no sooner than 1 s later, the five keys due between 1.1 s and 1.5 s together.
      expect(runs).toEqual([1, 5])
    })
  )

  it.scoped("a key rewritten without expiry leaves a stale deadline: one run that removes nothing", () =>
    Effect.gen(function* () {
      const { ks, runs } = yield* counted()
      const t0 = yield* now
      ks.set("k", text("x"), t0, t0 + S)
      ks.set("k", text("y"), t0)
      yield* TestClock.adjust("1 day")
      expect(ks.get("k", yield* now)?.value).toEqual(text("y"))
      expect(runs).toEqual([0])
    })
  )

  // Real time: the point is that an idle keyspace does not wake on a timer (the old sweep ran every 100 ms).
  // The bounds are loose (a loaded machine may run timers late), and only the count of runs is asserted.
  it.live("on a real clock an idle keyspace does not wake, and a due key is removed by a single run", () =>
    Effect.scoped(
      Effect.gen(function* () {
        const { ks, runs } = yield* counted()
        yield* Effect.sleep("500 millis")
        expect(runs).toEqual([])
        const t = yield* now
        ks.set("k", text("x"), t, t + 200_000_000n)
        yield* Effect.sleep("700 millis")
        expect(runs).toEqual([1])
        expect(ks.memory().keys).toBe(0)
      })
    )
  )
})

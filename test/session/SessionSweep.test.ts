/**
 * The idle-session sweep's timer: it sleeps until the least recently used session could expire, and with no
 * session until one is created. Runs are counted through `onSweep`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer, TestClock } from "effect"
import { SessionStore } from "../../src/session/SessionStore.js"
import { nowNanos } from "../../src/session/Timestamp.js"

const alice = { username: "alice", role: "User" } as const

/** A store with the given idle timeout whose sweep runs are recorded in `runs`. */
const counted = (timeout: Duration.DurationInput) => {
  const runs: Array<number> = []
  return { runs, layer: SessionStore.layerMemory(timeout, { onSweep: (removed) => runs.push(removed) }) }
}

describe("the idle-session sweep sleeps until the next deadline", () => {
  it.effect("TestClock.adjust('1 day') with three idle sessions: work per expiry, not per simulated second", () => {
    const { runs, layer } = counted(Duration.minutes(5))
    return Effect.gen(function* () {
      const store = yield* SessionStore
      yield* store.create("a", alice, yield* nowNanos)
      yield* TestClock.adjust("1 minute")
      yield* store.create("b", alice, yield* nowNanos)
      yield* store.create("c", alice, yield* nowNanos)
      yield* TestClock.adjust("1 day")
      expect(yield* store.list).toEqual([])
      // At 5 min "a"; at 6 min "b" and "c" together. A 1 s tick would have run 86,400 times.
      expect(runs).toEqual([1, 2])
    }).pipe(Effect.provide(layer))
  })

  it.effect("with no session the sweep never runs; the first session created wakes it", () => {
    const { runs, layer } = counted(Duration.seconds(10))
    return Effect.gen(function* () {
      const store = yield* SessionStore
      yield* TestClock.adjust("1 day")
      expect(runs).toEqual([])
      yield* store.create("a", alice, yield* nowNanos)
      yield* TestClock.adjust("11 seconds")
      expect(runs).toEqual([1])
      expect(yield* store.list).toEqual([])
    }).pipe(Effect.provide(layer))
  })

  it.effect(
    "a session touched before its deadline is not swept: the sweep wakes, sees the later deadline, sleeps on",
    () => {
      const { runs, layer } = counted(Duration.seconds(10))
      return Effect.gen(function* () {
        const store = yield* SessionStore
        const h = yield* store.create("a", alice, yield* nowNanos)
        yield* TestClock.adjust("9 seconds")
        expect(h.touch(yield* nowNanos)).toBe(true)
        yield* TestClock.adjust("5 seconds")
        expect(runs).toEqual([])
        expect((yield* store.list).map((s) => s.sessionId)).toEqual(["a"])
        yield* TestClock.adjust("1 day")
        expect(runs).toEqual([1])
      }).pipe(Effect.provide(layer))
    }
  )

  // Real time: the old sweep ran every second whatever the sessions; now a store whose sessions are far from
  // their deadline does not wake. Only the count of runs is asserted, so a slow machine cannot fail it.
  it.live("on a real clock a store with fresh sessions does not wake", () => {
    const { runs, layer } = counted(Duration.minutes(10))
    return Effect.gen(function* () {
      const store = yield* SessionStore
      yield* store.create("a", alice, yield* nowNanos)
      yield* Effect.sleep("1500 millis")
      expect(runs).toEqual([])
    }).pipe(Effect.provide(Layer.fresh(layer)))
  })
})

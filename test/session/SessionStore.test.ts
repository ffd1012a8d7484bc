import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, TestClock } from "effect"
import { SessionStore } from "../../src/session/SessionStore.js"
import { nowNanos } from "../../src/session/Timestamp.js"

const alice = { username: "alice", role: "User" } as const

describe("SessionStore.layerMemory (used alone, as an embedder would)", () => {
  it.effect("creates, touches and lists sessions with Clock time", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      yield* TestClock.setTime(1_000)
      const s = yield* store.create("1-127.0.0.1:1", alice, yield* nowNanos)
      expect(s.createdAt).toBe(1_000_000_000n)
      expect(s.status).toBe(1)
      yield* TestClock.adjust("250 millis")
      const t = yield* store.touch("1-127.0.0.1:1", yield* nowNanos)
      expect(t.lastAccessedAt).toBe(1_250_000_000n)
      expect(t.createdAt).toBe(1_000_000_000n)
      expect((yield* store.list).map((x) => x.sessionId)).toEqual(["1-127.0.0.1:1"])
      expect(yield* store.remove("1-127.0.0.1:1")).toBe(true)
      expect(Exit.isFailure(yield* Effect.exit(store.get("1-127.0.0.1:1")))).toBe(true)
    }).pipe(Effect.provide(SessionStore.layerMemory(Duration.zero)))
  )

  it.effect("never expires sessions when the idle timeout is 0", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      yield* store.create("a", alice, yield* nowNanos)
      yield* TestClock.adjust("3650 days")
      expect((yield* store.get("a")).sessionId).toBe("a")
    }).pipe(Effect.provide(SessionStore.layerMemory(Duration.zero)))
  )

  it.effect("expires exactly past the idle timeout: alive 1 ns before and at it, gone 1 ns after", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      for (const id of ["before", "at", "after"]) yield* store.create(id, alice, 0n)
      const timeout = 10_000_000_000n
      expect((yield* Effect.exit(store.touch("before", timeout - 1n)))._tag).toBe("Success")
      expect((yield* Effect.exit(store.touch("at", timeout)))._tag).toBe("Success")
      const after = yield* Effect.exit(store.touch("after", timeout + 1n))
      expect(Exit.isFailure(after) && after.cause._tag === "Fail" && after.cause.error._tag).toBe("Unauthorized")
      // An expired session has left the store for good.
      expect((yield* store.list).map((s) => s.sessionId).sort()).toEqual(["at", "before"])
    }).pipe(Effect.provide(SessionStore.layerMemory(Duration.seconds(10))))
  )

  it.effect("the background sweep removes idle sessions without any access", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      yield* store.create("idle", alice, yield* nowNanos)
      yield* TestClock.adjust("4 seconds")
      yield* store.create("fresh", alice, yield* nowNanos)
      yield* TestClock.adjust("2 seconds")
      // At 6 s: "idle" (6 s idle) is past the 5 s timeout and was swept; "fresh" (2 s) lives.
      expect((yield* store.expireIdle(yield* nowNanos)).length).toBe(0)
      expect((yield* store.list).map((s) => s.sessionId)).toEqual(["fresh"])
    }).pipe(Effect.provide(SessionStore.layerMemory(Duration.seconds(5))))
  )
})

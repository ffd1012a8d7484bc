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
      const handle = yield* store.create("1-127.0.0.1:1", alice, yield* nowNanos)
      expect(handle.current().createdAt).toBe(1_000_000_000n)
      expect(handle.current().status).toBe(1)
      yield* TestClock.adjust("250 millis")
      expect(handle.touch(yield* nowNanos)).toBe(true)
      const t = yield* store.get("1-127.0.0.1:1")
      expect(t.lastAccessedAt).toBe(1_250_000_000n)
      expect(t.createdAt).toBe(1_000_000_000n)
      expect((yield* store.list).map((x) => x.sessionId)).toEqual(["1-127.0.0.1:1"])
      expect(yield* store.remove("1-127.0.0.1:1")).toBe(true)
      expect(Exit.isFailure(yield* Effect.exit(store.get("1-127.0.0.1:1")))).toBe(true)
    }).pipe(Effect.provide(SessionStore.layerMemory(Duration.zero)))
  )

  it.effect("a removed (killed) session's handle refuses further touches; re-AUTH gives a new live handle", () =>
    Effect.gen(function* () {
      const store = yield* SessionStore
      const first = yield* store.create("k", alice, 0n)
      expect(yield* store.remove("k")).toBe(true)
      expect(first.touch(1n)).toBe(false)
      const second = yield* store.create("k", alice, 2n)
      expect(second.touch(3n)).toBe(true)
      expect(first.touch(4n)).toBe(false)
      expect((yield* store.get("k")).lastAccessedAt).toBe(3n)
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
      const before = yield* store.create("before", alice, 0n)
      const at = yield* store.create("at", alice, 0n)
      const after = yield* store.create("after", alice, 0n)
      const timeout = 10_000_000_000n
      expect(before.touch(timeout - 1n)).toBe(true)
      expect(at.touch(timeout)).toBe(true)
      expect(after.touch(timeout + 1n)).toBe(false)
      // An expired session has left the store for good, and its handle stays dead.
      expect(after.touch(timeout + 2n)).toBe(false)
      expect(after.current().status).toBe(2)
      const gone = yield* Effect.exit(store.get("after"))
      expect(Exit.isFailure(gone) && gone.cause._tag === "Fail" && gone.cause.error._tag).toBe("Unauthorized")
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

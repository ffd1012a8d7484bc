/**
 * The connection actor under TestClock: the real server layers over an in-memory transport, so session
 * timestamps and idle expiry are checked exactly, without sleeping.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Duration, Effect, Layer, Logger, TestClock } from "effect"
import type { DeepPartial, ServerConfigShape } from "../../src/config/ServerConfig.js"
import { SessionStoreError } from "../../src/errors.js"
import type { SessionUser } from "../../src/session/Session.js"
import { SessionStore } from "../../src/session/SessionStore.js"
import { memoryServer } from "../support/MemoryTransport.js"

const serverWith = (config: DeepPartial<ServerConfigShape>, sessions?: Layer.Layer<SessionStore>) =>
  memoryServer({ config, ...(sessions !== undefined ? { sessions } : {}) })

const sessionOf = (result: string) =>
  JSON.parse(result) as { session_id: string; status: number; created_at: string; last_accessed_at: string }

describe("sessions under TestClock", () => {
  it.scoped("created_at and last_accessed_at are the Clock's time, exactly formatted", () => {
    const { layer, connect } = serverWith({})
    return Effect.gen(function* () {
      // Jump before the server starts: TestClock would otherwise run every periodic sweep tick since 1970.
      yield* TestClock.setTime(Date.parse("2025-05-01T17:33:15Z"))
      yield* Effect.gen(function* () {
        const c = yield* connect()
        expect((yield* c.call("AUTH", "root", "root")).result).toBe("Connected")
        const r = yield* c.call("SESSION")
        expect(r.status).toBe("Ok")
        expect(r.result).toBe(
          `{"session_id":"${r.clientId}","user":{"Username":"root","Password":"*******","Role":"root"},"status":1,` +
            `"created_at":"2025-05-01T17:33:15Z","last_accessed_at":"2025-05-01T17:33:15Z"}`
        )
      }).pipe(Effect.provide(layer))
    })
  })

  it.scoped("sub-microsecond fractions come through to the reply", () => {
    const { layer, connect } = serverWith({})
    return Effect.gen(function* () {
      // TestClock keeps milliseconds as a float: 1500.000123 ms is exactly 1_500_000_123 ns after flooring.
      yield* TestClock.setTime(1500.000123)
      const c = yield* connect()
      yield* c.call("AUTH", "root", "root")
      const s = sessionOf((yield* c.call("SESSION")).result)
      expect(s.created_at).toBe("1970-01-01T00:00:01.500000123Z")
      yield* TestClock.adjust(Duration.millis(498.5))
      const t = sessionOf((yield* c.call("SESSION")).result)
      expect(t.created_at).toBe("1970-01-01T00:00:01.500000123Z")
      expect(t.last_accessed_at).toBe("1970-01-01T00:00:01.998500123Z")
    }).pipe(Effect.provide(layer))
  })

  it.scoped("every command moves last_accessed_at to when it was received; re-AUTH renews created_at", () => {
    const { layer, connect } = serverWith({})
    return Effect.gen(function* () {
      const c = yield* connect()
      yield* c.call("AUTH", "root", "root")
      yield* TestClock.adjust("1500 millis")
      expect((yield* c.call("PING")).result).toBe("PONG ")
      yield* TestClock.adjust("1 second")
      const s = sessionOf((yield* c.call("SESSION")).result)
      expect(s.created_at).toBe("1970-01-01T00:00:00Z")
      expect(s.last_accessed_at).toBe("1970-01-01T00:00:02.5Z")
      yield* TestClock.adjust("1 second")
      yield* c.call("AUTH", "root", "root")
      const t = sessionOf((yield* c.call("SESSION")).result)
      expect(t.session_id).toBe(s.session_id)
      expect(t.created_at).toBe("1970-01-01T00:00:03.5Z")
    }).pipe(Effect.provide(layer))
  })

  it.scoped("idle expiry at the boundary: alive 1 ns before and at the timeout, expired 1 ns after", () => {
    const { layer, connect } = serverWith({ security: { session_idle_timeout_seconds: 10 } })
    return Effect.gen(function* () {
      const c = yield* connect()
      yield* c.call("AUTH", "root", "root")
      yield* TestClock.adjust(Duration.nanos(10_000_000_000n - 1n))
      expect((yield* c.call("PING")).result).toBe("PONG ")
      // Idle exactly 10 s since that PING: still alive.
      yield* TestClock.adjust("10 seconds")
      const s = yield* c.call("SESSION")
      expect(s.status).toBe("Ok")
      expect(sessionOf(s.result).last_accessed_at).toBe("1970-01-01T00:00:19.999999999Z")
      // Idle 10 s + 1 ns: expired.
      yield* TestClock.adjust(Duration.nanos(10_000_000_001n))
      const e = yield* c.call("SESSION")
      expect([e.status, e.result]).toEqual(["Error", "unauthorized or session not found"])
      expect((yield* c.call("PING")).result).toBe("unauthorized or session not found")
      // A new AUTH brings the connection back.
      expect((yield* c.call("AUTH", "root", "root")).result).toBe("Connected")
      expect((yield* c.call("SESSION")).status).toBe("Ok")
    }).pipe(Effect.provide(layer))
  })

  it.scoped("an idle session leaves SESSION.LIST by itself (the sweep), while an active one stays", () => {
    const { layer, connect } = serverWith({ security: { session_idle_timeout_seconds: 5 } })
    return Effect.gen(function* () {
      const idle = yield* connect()
      yield* idle.call("AUTH", "root", "root")
      const admin = yield* connect()
      yield* admin.call("AUTH", "root", "root")
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust("3 seconds")
        yield* admin.call("PING")
      }
      const list = JSON.parse((yield* admin.call("SESSION.LIST")).result) as Array<{ session_id: string }>
      expect(list).toHaveLength(1)
      expect((yield* idle.call("SESSION")).result).toBe("unauthorized or session not found")
    }).pipe(Effect.provide(layer))
  })
})

describe("a failing session store", () => {
  // A store whose sessions cannot be read: `current()` throws, as a store that lost its backend would.
  const unreadable = (thrown: unknown) =>
    Layer.effect(
      SessionStore,
      Effect.sync(() => {
        const memory = SessionStore.makeMemory(Duration.zero)
        return {
          ...memory,
          create: (id: string, user: SessionUser, now: bigint) =>
            Effect.map(memory.create(id, user, now), (handle) => ({
              sessionId: handle.sessionId,
              touch: (at: bigint) => handle.touch(at),
              live: (at: bigint) => handle.live(at),
              current: () => {
                throw thrown
              }
            }))
        }
      })
    )
  const failingGet = unreadable(new SessionStoreError({ cause: "disk on fire" }))
  const dyingGet = unreadable(new Error("bug in the store"))

  for (const [name, store] of [
    ["fails", failingGet],
    ["dies", dyingGet]
  ] as const) {
    it.scoped(
      `SESSION answers "internal server error" when the store ${name}, logs the cause, and the connection lives on`,
      () => {
        const { layer, connect } = serverWith({}, store)
        const logs: Array<string> = []
        const capture = Logger.make(({ message, cause }) => {
          logs.push(`${String(message)} | ${Cause.pretty(cause)}`)
        })
        return Effect.gen(function* () {
          const c = yield* connect()
          yield* c.call("AUTH", "root", "root")
          const r = yield* c.call("SESSION")
          expect([r.status, r.result]).toEqual(["Error", "internal server error"])
          expect((yield* c.call("PING", "still", "here")).result).toBe("PONG still here")
          expect(
            logs.some((l) => l.includes("SESSION") && (l.includes("disk on fire") || l.includes("bug in the store")))
          ).toBe(true)
        }).pipe(Effect.provide(layer), Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
      }
    )
  }

  it.scoped("SESSION.LIST answers internal server error when the store's list fails; the connection lives on", () => {
    const failingList = Layer.effect(
      SessionStore,
      Effect.sync(() => ({
        ...SessionStore.makeMemory(Duration.zero),
        list: Effect.fail(new SessionStoreError({ cause: "index lost" }))
      }))
    )
    const { layer, connect } = serverWith({}, failingList)
    return Effect.gen(function* () {
      const c = yield* connect()
      yield* c.call("AUTH", "root", "root")
      const r = yield* c.call("SESSION.LIST")
      expect([r.status, r.result]).toEqual(["Error", "internal server error"])
      expect((yield* c.call("SESSION")).status).toBe("Ok")
    }).pipe(Effect.provide(layer))
  })
})

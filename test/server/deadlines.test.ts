/**
 * Connection deadlines under TestClock (issue 10): the AUTH deadline (`security.auth_timeout_seconds`) and the
 * idle timeout (`misc.timeout_seconds`), driven by the server's deadline sweep on the Effect Clock, with the
 * real server layers over an in-memory transport.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, TestClock } from "effect"
import type { DeepPartial, ServerConfigShape } from "../../src/config/ServerConfig.js"
import { FleareServer } from "../../src/server/Server.js"
import { Keyspace } from "../../src/store/Keyspace.js"
import { memoryServer } from "../support/MemoryTransport.js"

const serverWith = (config: DeepPartial<ServerConfigShape>) =>
  // The key expiry sweep ticks hourly here: TestClock runs every tick a clock move passes over.
  memoryServer({ config, keyspace: Keyspace.layerMemory({ shardCount: 2, sweepInterval: "1 hour" }) })

/** The number of live connections once the fibers woken by a clock move have run. */
const liveConnections = Effect.gen(function* () {
  const server = yield* FleareServer
  for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
  return server.connections.size
})

describe("connection deadlines (TestClock)", () => {
  it.scoped("a connection that has not authenticated within security.auth_timeout_seconds is closed", () => {
    const { layer, connect } = serverWith({ security: { auth_timeout_seconds: 10 } })
    return Effect.gen(function* () {
      yield* connect() // never sends AUTH
      const authed = yield* connect()
      expect((yield* authed.call("AUTH", "root", "root")).result).toBe("Connected")
      expect(yield* liveConnections).toBe(2)
      yield* TestClock.adjust("9 seconds")
      expect(yield* liveConnections).toBe(2)
      yield* TestClock.adjust("1 second")
      expect(yield* liveConnections).toBe(1)
      // The authenticated one is unaffected.
      expect((yield* authed.call("PING", "x")).result).toBe("PONG x")
    }).pipe(Effect.provide(layer))
  })

  it.scoped("misc.timeout_seconds closes a connection idle that long; any request restarts the count", () => {
    const { layer, connect } = serverWith({ misc: { timeout_seconds: 30 }, security: { auth_timeout_seconds: 0 } })
    return Effect.gen(function* () {
      const c = yield* connect()
      yield* c.call("AUTH", "root", "root")
      yield* TestClock.adjust("20 seconds")
      expect((yield* c.call("PING", "a")).result).toBe("PONG a")
      yield* TestClock.adjust("20 seconds")
      expect(yield* liveConnections).toBe(1)
      expect((yield* c.call("PING", "b")).result).toBe("PONG b")
      yield* TestClock.adjust("29 seconds")
      expect(yield* liveConnections).toBe(1)
      yield* TestClock.adjust("2 seconds")
      expect(yield* liveConnections).toBe(0)
    }).pipe(Effect.provide(layer))
  })

  it.scoped(
    "a subscriber is exempt from misc.timeout_seconds (it only listens, as Fleare's pub/sub client does)",
    () => {
      const { layer, connect } = serverWith({ misc: { timeout_seconds: 30 }, security: { auth_timeout_seconds: 0 } })
      return Effect.gen(function* () {
        const listener = yield* connect()
        yield* listener.call("AUTH", "root", "root")
        yield* listener.send("SUBSCRIBE", "news") // no reply
        const idle = yield* connect()
        yield* idle.call("AUTH", "root", "root")
        yield* TestClock.adjust("31 seconds")
        // The idle one is closed; the subscriber stays.
        expect(yield* liveConnections).toBe(1)
        yield* TestClock.adjust("1 day")
        expect(yield* liveConnections).toBe(1)
      }).pipe(Effect.provide(layer))
    }
  )

  it.scoped("timeout 0 turns both off: a connection lives through a day of silence", () => {
    const { layer, connect } = serverWith({ misc: { timeout_seconds: 0 }, security: { auth_timeout_seconds: 0 } })
    return Effect.gen(function* () {
      yield* connect()
      const c = yield* connect()
      yield* c.call("AUTH", "root", "root")
      yield* TestClock.adjust("1 day")
      expect(yield* liveConnections).toBe(2)
      expect((yield* c.call("PING", "up")).result).toBe("PONG up")
    }).pipe(Effect.provide(layer))
  })

  it.scoped("with authentication off there is no AUTH deadline, only the idle timeout", () => {
    const { layer, connect } = serverWith({
      security: { enable_auth: false, auth_timeout_seconds: 5 },
      misc: { timeout_seconds: 60 }
    })
    return Effect.gen(function* () {
      const c = yield* connect()
      yield* TestClock.adjust("50 seconds")
      expect(yield* liveConnections).toBe(1)
      expect((yield* c.call("PING", "anon")).result).toBe("PONG anon")
      yield* TestClock.adjust("61 seconds")
      expect(yield* liveConnections).toBe(0)
    }).pipe(Effect.provide(layer))
  })
})

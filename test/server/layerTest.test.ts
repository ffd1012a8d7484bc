/**
 * `FleareServer.layerTest` with `FleareClient.layerTest`: the whole server and the Effect client with no socket,
 * in the test's runtime, so `TestClock` drives key TTLs and session idle expiry.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer, TestClock } from "effect"
import { Client, FleareServer, Keyspace, MemoryLink } from "../../src/index.js"

const { FleareClient } = Client

const TestServer = FleareServer.layerTest({ security: { session_idle_timeout_seconds: 60 } })
const TestApp = FleareClient.layerTest({ poolSize: 1 }).pipe(Layer.provideMerge(TestServer))

describe("FleareServer.layerTest", () => {
  describe("with FleareClient.layerTest (a fresh server per test)", () => {
    it.effect("commands go through the whole server: AUTH, a session, replies", () =>
      Effect.gen(function* () {
        const fleare = yield* FleareClient
        expect(yield* fleare.ping("hello")).toBe("PONG hello")
        expect((yield* fleare.session()).user.Username).toBe("root")
        yield* fleare.set("greeting", "hi")
        expect(yield* fleare.get("greeting")).toBe("hi")
      }).pipe(Effect.provide(TestApp))
    )

    it.effect("a key's TTL runs out under TestClock; a simulated day costs no real time", () =>
      Effect.gen(function* () {
        const fleare = yield* FleareClient
        const keyspace = yield* Keyspace
        yield* fleare.set("token", "abc")
        expect(yield* fleare.ttlExpire("token", "30s")).toBe(true)
        yield* TestClock.adjust("29 seconds")
        expect(yield* fleare.get("token")).toBe("abc")
        yield* TestClock.adjust("1 second")
        // Gone without any read: the active sweep woke at the deadline.
        expect(keyspace.memory().expiredKeys).toBe(1)
        expect(yield* fleare.exists("token")).toBe(0)
        yield* TestClock.adjust("1 day")
        expect(keyspace.memory().keys).toBe(0)
      }).pipe(Effect.provide(TestApp))
    )

    it.effect("an idle session expires after session_idle_timeout_seconds: the next command is Unauthorized", () =>
      Effect.gen(function* () {
        const fleare = yield* FleareClient
        yield* TestClock.adjust("59 seconds")
        expect(yield* fleare.ping("still here")).toBe("PONG still here")
        yield* TestClock.adjust("61 seconds")
        const exit = yield* Effect.exit(fleare.ping())
        expect(exit).toMatchObject(Exit.fail({ _tag: "Unauthorized", reason: "NoSession" }))
      }).pipe(Effect.provide(TestApp))
    )
  })

  it.scoped("MemoryLink.dial fails clearly once the server is closed", () =>
    Effect.gen(function* () {
      const link = yield* Effect.scoped(Effect.provide(MemoryLink, TestServer))
      const exit = yield* Effect.exit(link.dial)
      expect(exit).toMatchObject(Exit.fail({ _tag: "TransportError", message: "the in-memory server is not serving" }))
    })
  )

  it.effect("a bad patch fails the layer with the ConfigError", () =>
    Effect.gen(function* () {
      const exit = yield* Effect.exit(
        Effect.provide(FleareServer, FleareServer.layerTest({ shard: { shard_count: 0 } }))
      )
      expect(exit).toMatchObject(
        Exit.fail({
          _tag: "ConfigError",
          message: "invalid configuration: shard.shard_count: Expected a positive number, actual 0"
        })
      )
    })
  )
})

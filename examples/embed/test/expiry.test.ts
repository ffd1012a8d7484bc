import { describe, expect, it } from "@effect/vitest"
import { FleareClient, FleareServer } from "fleare-ts"
import { Effect, Exit, Layer, TestClock } from "effect"

// The whole server in memory (no socket), sessions expiring after 60 s idle, and a client of it.
const TestApp = FleareClient.layerTest({ poolSize: 1 }).pipe(
  Layer.provideMerge(FleareServer.layerTest({ security: { session_idle_timeout_seconds: 60 } }))
)

describe("expiry under TestClock", () => {
  it.effect("a key is gone once its TTL has run out", () =>
    Effect.gen(function* () {
      const fleare = yield* FleareClient
      yield* fleare.set("token", "abc")
      yield* fleare.ttlExpire("token", "30s")
      yield* TestClock.adjust("29 seconds")
      expect(yield* fleare.get("token")).toBe("abc")
      yield* TestClock.adjust("1 second")
      expect(yield* fleare.exists("token")).toBe(0)
    }).pipe(Effect.provide(TestApp))
  )

  it.effect("an idle session expires: the next command is Unauthorized", () =>
    Effect.gen(function* () {
      const fleare = yield* FleareClient
      expect((yield* fleare.session()).user.Username).toBe("root")
      yield* TestClock.adjust("61 seconds")
      const exit = yield* Effect.exit(fleare.ping("hello"))
      expect(exit).toMatchObject(Exit.fail({ _tag: "Unauthorized" }))
    }).pipe(Effect.provide(TestApp))
  )
})

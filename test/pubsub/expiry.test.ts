/**
 * Session expiry ends subscriptions, under TestClock (the real server layers over an in-memory transport): a
 * subscriber idle for longer than the timeout receives nothing more, even before the sweep or its next command
 * notices, and the broker's tables are emptied.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, TestClock } from "effect"
import { Broker } from "../../src/pubsub/Broker.js"
import { SessionStore } from "../../src/session/SessionStore.js"
import { memoryServer } from "../support/MemoryTransport.js"

const TIMEOUT_SECONDS = 60

const server = () =>
  memoryServer({
    config: { security: { session_idle_timeout_seconds: TIMEOUT_SECONDS } },
    sessions: SessionStore.layerMemory(Duration.seconds(TIMEOUT_SECONDS))
  })

describe("session expiry and pub/sub, under TestClock", () => {
  it.scoped("exactly at the timeout a subscriber still receives; just past it, nothing, and the tables empty", () => {
    const { layer, connect } = server()
    return Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
      yield* Effect.gen(function* () {
        const broker = yield* Broker
        const sub = yield* connect()
        expect((yield* sub.call("AUTH", "root", "root")).result).toBe("Connected")
        yield* sub.send("SUBSCRIBE", "clock")
        expect((yield* sub.call("PING")).result).toBe("PONG ")
        expect(broker.stats().subscribers).toBe(1)

        // The publisher's own session stays fresh: it authenticates at each step.
        const publishAt = (message: string) =>
          Effect.gen(function* () {
            const pub = yield* connect()
            expect((yield* pub.call("AUTH", "root", "root")).result).toBe("Connected")
            expect((yield* pub.call("PUBLISH", "clock", message)).status).toBe("Ok")
          })

        // Exactly at the timeout the session is still alive (SPEC A.2: idle for longer expires).
        yield* TestClock.adjust(Duration.seconds(TIMEOUT_SECONDS))
        yield* publishAt("on time")
        const push = yield* sub.next
        expect([push.topic, push.result]).toEqual(["clock", '"on time"'])

        // That push was not an access: the session's clock still runs from the PING.
        yield* TestClock.adjust(Duration.millis(1))
        yield* publishAt("too late")
        expect(broker.stats()).toMatchObject({ subscribers: 0, topics: 0, delivered: 1, published: 2 })
        // The subscriber's next frame is the refusal of its PING: no push came.
        const r = yield* sub.call("PING")
        expect([r.topic, r.status, r.result]).toEqual(["", "Error", "unauthorized or session not found"])
      }).pipe(Effect.provide(layer))
    })
  })
})

/** The bench's pub/sub row against the real server: every push passes its byte check, deliveries are counted. */
import { describe, expect, it } from "@effect/vitest"
import { runPubSub } from "../../src/bench/pubsub.js"
import { withServer } from "../support/server.js"

describe("the pub/sub bench row", () => {
  it("1 publisher, 5 subscribers: no errors, and every publish reaches every subscriber", () =>
    withServer({}, async ({ port }) => {
      const r = await runPubSub(
        { host: "127.0.0.1", port, user: "root", password: "root", connectTimeoutS: 10 },
        { subscribers: 5, pipeline: 4, warmupS: 0.1, seconds: 0.3 }
      )
      expect(r.errors.toData()).toEqual({ total: 0, kinds: [] })
      expect(r.published).toBeGreaterThan(0)
      // Deliveries in the window are about 5 per publish (the window's edges cut a few either way).
      expect(r.delivered).toBeGreaterThan(r.published * 5 * 0.8)
      expect(r.delivered).toBeLessThan(r.published * 5 * 1.2 + 50)
    }))
})

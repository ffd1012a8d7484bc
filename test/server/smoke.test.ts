import { describe, expect, it } from "@effect/vitest"
import { withServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"

describe("smoke", () => {
  it("AUTH then SESSION over TCP", () =>
    withServer({}, async ({ port }) => {
      const c = await WireClient.authed(port)
      const r = await c.call("SESSION")
      expect(r.status).toBe("Ok")
      expect(JSON.parse(r.result).user.Username).toBe("root")
      c.destroy()
    }))
})

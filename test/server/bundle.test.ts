/**
 * `npm start` runs the bundle `scripts/transpile.mjs` writes (dist/fleare-server.mjs), not the source: this builds
 * it and checks that it serves, so a bundling problem (a dependency esbuild cannot inline, a missing `require`)
 * fails the suite rather than the first start on a user's machine.
 */
import { execFileSync } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { spawnServer } from "../support/process.js"
import { WireClient } from "../support/wire.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

describe("the bundled server (npm start)", () => {
  it("builds, starts on the embedded defaults and answers AUTH, SET/GET and SESSION", async () => {
    execFileSync(process.execPath, ["scripts/transpile.mjs"], { cwd: root, stdio: "pipe" })
    const server = await spawnServer(["--config", "{persistence: {enable: false}}"], {}, ["dist/fleare-server.mjs"])
    try {
      expect(server.output()).toMatch(/fleare-ts \S+ listening on 127\.0\.0\.1:\d+/)
      const c = await WireClient.authed(server.port)
      expect(await c.call("SET", "k", "v")).toMatchObject({ status: "Ok", result: "" })
      expect(await c.call("GET", "k")).toMatchObject({ status: "Ok", result: "v" })
      const session = await c.call("SESSION")
      expect(session.status).toBe("Ok")
      expect(JSON.parse(session.result).user).toEqual({ Username: "root", Password: "*******", Role: "root" })
      c.destroy()
    } finally {
      expect(await server.stop()).toBe(0)
    }
  }, 60_000)
})

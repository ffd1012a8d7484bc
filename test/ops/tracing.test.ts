/**
 * Optional tracing: with `tracing.enable`, every command run gets a span exported over OTLP/HTTP (JSON) to
 * `tracing.otlp_url` (here a local receiver), named after the command, carrying the client id, and marked failed
 * with the error reply's text when the command failed; effect commands (STATUS) too. The server's real layers run
 * in this process; closing the server flushes the last spans.
 */
import * as http from "node:http"
import { Layer, Logger, LogLevel, ManagedRuntime } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { ServerConfig } from "../../src/config/ServerConfig.js"
import { tracingLayer } from "../../src/ops/Tracing.js"
import { FleareServer } from "../../src/server/Server.js"
import { WireClient } from "../support/wire.js"

interface OtlpSpan {
  readonly name: string
  readonly kind: number
  readonly attributes: ReadonlyArray<{ key: string; value: { stringValue?: string } }>
  readonly status?: { code?: number; message?: string }
}

const bodies: Array<unknown> = []
const receiver = http.createServer((req, res) => {
  let body = ""
  req.on("data", (d: Buffer) => (body += d.toString()))
  req.on("end", () => {
    if (req.url === "/v1/traces") bodies.push(JSON.parse(body))
    res.writeHead(200, { "content-type": "application/json" }).end("{}")
  })
})
afterAll(() => new Promise<void>((resolve) => receiver.close(() => resolve())))

const spans = (): Array<OtlpSpan> =>
  bodies.flatMap((b) =>
    (b as { resourceSpans: Array<{ scopeSpans: Array<{ spans: Array<OtlpSpan> }> }> }).resourceSpans.flatMap((r) =>
      r.scopeSpans.flatMap((s) => s.spans)
    )
  )
const attr = (s: OtlpSpan, key: string) => s.attributes.find((a) => a.key === key)?.value.stringValue

describe("tracing", () => {
  it("exports a span per command over OTLP, failures marked with the error reply", async () => {
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
    const otlpPort = (receiver.address() as import("node:net").AddressInfo).port
    const config = ServerConfig.unsafeMake({
      server: { host: "127.0.0.1", port: 0 },
      tracing: { enable: true, otlp_url: `http://127.0.0.1:${otlpPort}/v1/traces`, export_interval_seconds: 60 }
    })
    const runtime = ManagedRuntime.make(
      FleareServer.layerNode.pipe(
        Layer.provide(ServerConfig.layer(config)),
        Layer.provide(tracingLayer(config)),
        Layer.provide(Logger.minimumLogLevel(LogLevel.None))
      )
    )
    try {
      const server = await runtime.runPromise(FleareServer)
      const c = await WireClient.authed(server.address.port)
      expect(await c.ok("SET", "k", "v")).toBe("")
      expect(await c.ok("GET", "k")).toBe("v")
      expect((await c.call("SET")).result).toMatch(/^InvalidArgumentError: /)
      expect(await c.ok("STATUS")).toContain("server_status")
      const auth = await c.call("SESSION")
      c.destroy()
      await c.closed
      // Closing the server flushes the spans not yet exported (the export interval is a minute).
      await runtime.dispose()
      const all = spans()
      expect(all.map((s) => s.name)).toEqual(["SET", "GET", "SET", "STATUS", "SESSION"])
      for (const s of all) {
        expect(attr(s, "fleare.client_id")).toBe(auth.clientId)
        expect(attr(s, "db.system")).toBe("fleare")
        expect(s.kind).toBe(2) // SPAN_KIND_SERVER
      }
      const failed = all[2]!
      expect(failed.status?.code).toBe(2) // STATUS_CODE_ERROR
      expect(attr(failed, "fleare.error")).toMatch(/^InvalidArgumentError: /)
      expect(all[0]!.status?.code ?? 0).not.toBe(2)
    } finally {
      await runtime.dispose()
    }
  })
})

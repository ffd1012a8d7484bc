/**
 * /health and /ready through a server's life, in this process with the real layers (persistence on, a log to
 * replay): 503 `starting` while the server has not come up (held before the log replays), 200 once the log is
 * replayed and the listener is up, 503 `stopping` while a shutdown runs (held after the server stopped
 * accepting), and nothing listening once it is done. Gates make every step an event, not a race.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { Context, Deferred, Effect, Exit, Fiber, FiberId, Layer, Logger, LogLevel } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { ServerConfig } from "../../src/config/ServerConfig.js"
import { MetricsServer } from "../../src/ops/HttpServer.js"
import { Ops } from "../../src/ops/Ops.js"
import { encodeRecords, MAGIC } from "../../src/persistence/Record.js"
import { FleareServer } from "../../src/server/Server.js"
import { httpGet } from "../support/ops.js"
import { parsePrometheus, valueOf } from "../support/prometheus.js"
import { WireClient } from "../support/wire.js"

const dir = mkdtempSync(nodePath.join(tmpdir(), "fleare-health-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const KEYS = 50

/** Polls `path` until `accept` holds (at most `ms`); returns the last response. */
const until = async (
  port: number,
  path: string,
  accept: (r: { status: number; body: string }) => boolean,
  ms = 15_000
) => {
  const deadline = performance.now() + ms
  for (;;) {
    const r = await httpGet(port, path)
    if (accept(r) || performance.now() > deadline) return r
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

describe("/health and /ready", () => {
  it("503 before the replay, 200 after it, 503 while shutting down, gone after", async () => {
    const records = Array.from({ length: KEYS }, (_, i) => ({
      op: "set" as const,
      key: `k${i}`,
      value: { kind: "Default" as const, value: `v${i}` },
      expiresAt: 0n
    }))
    writeFileSync(nodePath.join(dir, "fleare.wal"), Buffer.concat([MAGIC, encodeRecords(records)]))
    const config = ServerConfig.unsafeMake({
      server: { host: "127.0.0.1", port: 0 },
      persistence: { enable: true, path: dir, fsync: "always" }
    })
    const started = Deferred.unsafeMake<void>(FiberId.none)
    const release = Deferred.unsafeMake<void>(FiberId.none)
    const metricsPort = Deferred.unsafeMake<number>(FiberId.none)
    // Acquired after the metrics server and before the server (so before the replay); released after the server.
    const startGate = Layer.effectDiscard(Deferred.await(started))
    const stopGate = Layer.scopedDiscard(Effect.addFinalizer(() => Deferred.await(release)))
    const ops = Layer.provideMerge(
      MetricsServer.layer({ host: "127.0.0.1", port: 0, sampleSeconds: 1 }).pipe(
        Layer.tap((ctx) => Deferred.succeed(metricsPort, Context.get(ctx, MetricsServer).port))
      ),
      Ops.layer
    )
    const app = FleareServer.layerNode.pipe(
      Layer.tap((ctx) => Effect.sync(() => (serverPort = Context.get(ctx, FleareServer).address.port))),
      Layer.provide(Layer.mergeAll(ServerConfig.layer(config), startGate, stopGate)),
      Layer.provide(ops),
      Layer.provide(Logger.minimumLogLevel(LogLevel.None))
    )
    let serverPort = 0
    const fiber = Effect.runFork(Layer.launch(app))
    try {
      const port = await Effect.runPromise(Deferred.await(metricsPort))

      const before = await httpGet(port, "/health")
      expect(before.status).toBe(503)
      expect(JSON.parse(before.body)).toMatchObject({ status: "starting" })
      const readyBefore = await httpGet(port, "/ready")
      expect([readyBefore.status, readyBefore.body]).toEqual([503, "not ready: starting\n"])
      expect(valueOf(parsePrometheus((await httpGet(port, "/metrics")).body), "fleare_ready")).toBe(0)

      await Effect.runPromise(Deferred.succeed(started, undefined))
      const up = await until(port, "/health", (r) => r.status === 200)
      expect(up.status).toBe(200)
      expect(JSON.parse(up.body)).toMatchObject({ status: "ok", version: expect.any(String), connections: 0 })
      expect(await httpGet(port, "/ready")).toMatchObject({ status: 200, body: "ready\n" })
      // The log was replayed before the server said ok.
      const c = await WireClient.authed(serverPort)
      expect(await c.ok("GET", `k${KEYS - 1}`)).toBe(`v${KEYS - 1}`)
      c.destroy()
      const scraped = parsePrometheus((await httpGet(port, "/metrics")).body)
      const keys = scraped.find((f) => f.name === "fleare_keys")!.samples.reduce((a, s) => a + s.value, 0)
      expect(keys).toBe(KEYS)

      // Shutdown: the server stops accepting first; the health check says so while the rest runs.
      const stopping = Effect.runPromise(Fiber.interrupt(fiber))
      const during = await until(port, "/health", (r) => r.status === 503)
      expect(during.status).toBe(503)
      expect(JSON.parse(during.body)).toMatchObject({ status: "stopping" })
      expect((await httpGet(port, "/ready")).status).toBe(503)
      await Effect.runPromise(Deferred.succeed(release, undefined))
      expect(Exit.isInterrupted(await stopping)).toBe(true)
      await expect(httpGet(port, "/health")).rejects.toThrow(/ECONNREFUSED/)
    } finally {
      await Effect.runPromise(Deferred.succeed(started, undefined))
      await Effect.runPromise(Deferred.succeed(release, undefined))
      await Effect.runPromise(Fiber.interrupt(fiber))
    }
  })
})

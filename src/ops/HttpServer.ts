/**
 * The metrics server: `@effect/platform`'s HttpServer on node:http, separate from the Fleare listener and
 * usually bound to loopback (`metrics.host`, `metrics.port`). Routes:
 *
 *   GET /metrics      Prometheus text format (metrics brought up to date at each scrape)
 *   GET /health       200 and a small JSON once the log is replayed and the listener is up; 503 before that and
 *                     during shutdown (the body says which)
 *   GET /ready        the same decision as plain text, for load balancers
 *   GET /             the status page (HTML and SVG, no scripts; reloads itself)
 *   GET /status.json  the status page's samples
 *
 * It is built before the server (so it answers 503 while the log replays) and closed after it (so it answers 503
 * while the server drains).
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as http from "node:http"
import { VERSION } from "../version.js"
import { collect } from "./Metrics.js"
import { Ops, type OpsState } from "./Ops.js"
import { ProcessStats } from "./ProcessStats.js"
import { PROMETHEUS_CONTENT_TYPE, prometheusText } from "./Prometheus.js"
import { renderStatusPage, runSampler, SampleRing, sampleNow } from "./StatusPage.js"

/** Where the metrics server listens and how often the status page samples. */
export interface MetricsServerOptions {
  readonly host: string
  /** 0 picks a free port (main.ts treats 0 in the configuration as "off" and never passes it). */
  readonly port: number
  readonly sampleSeconds: number
}

/** The running metrics server. */
export interface MetricsServerShape {
  readonly host: string
  readonly port: number
}

/** The `/health` body. */
export const healthBody = (ops: OpsState, nowNanos: bigint) => ({
  status: ops.phase === "serving" ? "ok" : ops.phase,
  version: VERSION,
  uptime_seconds: ops.server === undefined ? 0 : Math.max(0, Math.floor(Number(nowNanos - ops.server.startedAt) / 1e9)),
  connections: ops.server?.connections.size ?? 0
})

const routes = (ops: OpsState, processStats: ProcessStats, ring: SampleRing, sampleSeconds: number) =>
  HttpRouter.empty.pipe(
    HttpRouter.get(
      "/metrics",
      Effect.map(collect(ops, processStats), () =>
        HttpServerResponse.text(prometheusText(), { contentType: PROMETHEUS_CONTENT_TYPE })
      )
    ),
    HttpRouter.get(
      "/health",
      Effect.map(Clock.currentTimeNanos, (now) =>
        HttpServerResponse.unsafeJson(healthBody(ops, now), { status: ops.ready ? 200 : 503 })
      )
    ),
    HttpRouter.get(
      "/ready",
      Effect.sync(() =>
        ops.ready
          ? HttpServerResponse.text("ready\n", { status: 200 })
          : HttpServerResponse.text(`not ready: ${ops.phase}\n`, { status: 503 })
      )
    ),
    HttpRouter.get(
      "/",
      Effect.map(sampleNow(ops), (now) =>
        HttpServerResponse.html(renderStatusPage(ops, ring.list(), now, sampleSeconds))
      )
    ),
    HttpRouter.get(
      "/status.json",
      Effect.map(sampleNow(ops), (now) =>
        HttpServerResponse.unsafeJson({ phase: ops.phase, samples: ring.list(), now })
      )
    )
  )

export class MetricsServer extends Context.Tag("fleare/MetricsServer")<MetricsServer, MetricsServerShape>() {
  /** Serves the routes above over `Ops` until the layer's scope closes. */
  static layer = (options: MetricsServerOptions): Layer.Layer<MetricsServer, ServeError, Ops> =>
    Layer.scoped(
      MetricsServer,
      Effect.gen(function* () {
        const ops = yield* Ops
        const processStats = yield* Effect.acquireRelease(
          Effect.sync(() => new ProcessStats()),
          (p) => Effect.sync(() => p.close())
        )
        const ring = new SampleRing()
        const every = Duration.seconds(options.sampleSeconds)
        yield* Effect.forkScoped(runSampler(ops, ring, every))
        const server = yield* NodeHttpServer.make(() => http.createServer(), {
          host: options.host,
          port: options.port
        })
        yield* server.serve(routes(ops, processStats, ring, options.sampleSeconds))
        const address = server.address
        const port = address._tag === "TcpAddress" ? address.port : options.port
        yield* Effect.logInfo(`metrics, health and status page on http://${options.host}:${port}/`)
        return { host: options.host, port }
      })
    )
}

/**
 * /metrics of the real server program after a scripted workload: every counter the workload moves has exactly
 * the value the workload implies (commands by name and outcome, AUTH failures, sessions created and killed,
 * errors by prefix, log appends), and the whole scrape passes the strict text-format parser.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ERROR_PREFIXES } from "../../src/ops/Counters.js"
import { httpGet, type OpsServer, spawnWithMetrics } from "../support/ops.js"
import { type Family, parsePrometheus, valueOf } from "../support/prometheus.js"
import { WireClient } from "../support/wire.js"

const dir = mkdtempSync(nodePath.join(tmpdir(), "fleare-metrics-"))
let server: OpsServer | undefined
afterAll(async () => {
  await server?.stop()
  rmSync(dir, { recursive: true, force: true })
})

const config = `{
  security: {users: [{username: root, password: "r00t-pw", role: root}, {username: reader, password: "read-pw", role: ReadOnly}]},
  persistence: {enable: true, path: "${dir}", fsync: always}
}`

const scrape = async (port: number): Promise<Array<Family>> => {
  const r = await httpGet(port, "/metrics")
  expect(r.status).toBe(200)
  expect(r.contentType).toBe("text/plain; version=0.0.4; charset=utf-8")
  return parsePrometheus(r.body)
}

describe("/metrics after a scripted workload", () => {
  it("counts exactly what happened, in a scrape the strict parser accepts", async () => {
    server = await spawnWithMetrics(["--config", config])
    const port = server.port

    const before = await scrape(server.metricsPort)
    expect(valueOf(before, "fleare_ready")).toBe(1)
    expect(valueOf(before, "fleare_connections_accepted_total")).toBe(0)

    // c1: root; two SETs, two GETs, one SET without arguments, one unknown command.
    const c1 = await WireClient.connect(port)
    const auth1 = await c1.call("AUTH", "root", "r00t-pw")
    expect(auth1.result).toBe("Connected")
    expect((await c1.call("SET", "k1", "v1")).status).toBe("Ok")
    expect((await c1.call("SET", "k2", "v2")).status).toBe("Ok")
    expect((await c1.call("GET", "k1")).result).toBe("v1")
    expect((await c1.call("GET", "k2")).result).toBe("v2")
    expect((await c1.call("SET")).result).toMatch(/^InvalidArgumentError: /)
    expect((await c1.call("NOPE")).result).toMatch(/^InvalidCommandError: /)
    // c2: a wrong password (the server closes the connection).
    const c2 = await WireClient.connect(port)
    expect((await c2.call("AUTH", "root", "not-the-password")).result).toMatch(/^ConnectionFailed: /)
    await c2.closed
    // c3: no AUTH at all.
    const c3 = await WireClient.connect(port)
    expect((await c3.call("GET", "k1")).result).toBe("unauthorized or session not found")
    // c4: a ReadOnly user tries to write.
    const c4 = await WireClient.authed(port, "reader", "read-pw")
    expect((await c4.call("SET", "k3", "v")).result).toMatch(/^PermissionDeniedError: /)
    // c5: root kills c1's session.
    const c5 = await WireClient.authed(port, "root", "r00t-pw")
    expect(await c5.ok("SESSION.KILL", auth1.clientId)).toBe("1")
    await c1.closed

    const after = await scrape(server.metricsPort)
    const commands = (command: string, outcome: string) => valueOf(after, "fleare_commands_total", { command, outcome })
    expect(commands("AUTH", "ok")).toBe(3)
    expect(commands("AUTH", "error")).toBe(1)
    expect(commands("SET", "ok")).toBe(2)
    expect(commands("SET", "error")).toBe(2)
    expect(commands("GET", "ok")).toBe(2)
    expect(commands("SESSION.KILL", "ok")).toBe(1)
    // Nothing else ran: every other series is absent or zero.
    const ran = after
      .find((f) => f.name === "fleare_commands_total")!
      .samples.filter((s) => s.value > 0)
      .map((s) => `${s.labels["command"]}/${s.labels["outcome"]}`)
      .sort()
    expect(ran).toEqual(["AUTH/error", "AUTH/ok", "GET/ok", "SESSION.KILL/ok", "SET/error", "SET/ok"])

    const expectedErrors: Record<string, number> = {
      InvalidArgumentError: 1,
      InvalidCommandError: 1,
      ConnectionFailed: 1,
      Unauthorized: 1,
      PermissionDeniedError: 1
    }
    for (const prefix of ERROR_PREFIXES)
      expect([prefix, valueOf(after, "fleare_errors_total", { prefix })]).toEqual([prefix, expectedErrors[prefix] ?? 0])

    expect(valueOf(after, "fleare_auth_failures_total")).toBe(1)
    expect(valueOf(after, "fleare_sessions_created_total")).toBe(3)
    expect(valueOf(after, "fleare_sessions_killed_total")).toBe(1)
    expect(valueOf(after, "fleare_sessions_expired_total")).toBe(0)
    expect(valueOf(after, "fleare_sessions")).toBe(2)
    expect(valueOf(after, "fleare_connections_accepted_total")).toBe(5)
    expect(valueOf(after, "fleare_connections")).toBe(3)
    expect(valueOf(after, "fleare_wal_appends_total")).toBe(2)
    const fsyncs = valueOf(after, "fleare_wal_fsyncs_total")!
    expect(fsyncs).toBeGreaterThanOrEqual(1)
    expect(valueOf(after, "fleare_wal_fsync_duration_seconds_count")).toBe(fsyncs)
    const keys = after.find((f) => f.name === "fleare_keys")!.samples.reduce((a, s) => a + s.value, 0)
    expect(keys).toBe(2)
    expect(valueOf(after, "fleare_net_input_bytes_total")).toBeGreaterThan(0)
    expect(valueOf(after, "fleare_net_output_bytes_total")).toBeGreaterThan(0)
    expect(valueOf(after, "fleare_pubsub_subscribers")).toBe(0)
    expect(valueOf(after, "process_resident_memory_bytes")).toBeGreaterThan(1024 * 1024)
    expect(valueOf(after, "nodejs_heap_used_bytes")).toBeGreaterThan(0)
    expect(valueOf(after, "nodejs_eventloop_delay_p99_seconds")).toBeGreaterThanOrEqual(0)
    expect(after.find((f) => f.name === "fleare_request_duration_seconds")?.type).toBe("histogram")
    // Every family has help text and a type.
    for (const f of after.filter((f) => f.name.startsWith("fleare_"))) {
      expect(f.help, f.name).toBeTruthy()
      expect(f.type, f.name).not.toBe("untyped")
    }
    // Counters never go back: a second scrape with no traffic reads the same.
    const again = await scrape(server.metricsPort)
    expect(valueOf(again, "fleare_commands_total", { command: "SET", outcome: "ok" })).toBe(2)
    for (const c of [c3, c4, c5]) c.destroy()

    // The Grafana dashboard queries only metrics the server serves (a renamed metric would leave a panel empty).
    const dashboard = JSON.parse(
      readFileSync(new URL("../../docs/grafana-dashboard.json", import.meta.url), "utf8")
    ) as {
      panels: Array<{ targets?: Array<{ expr: string }> }>
    }
    const exprs = dashboard.panels.flatMap((p) => p.targets ?? []).map((t) => t.expr)
    expect(exprs.length).toBeGreaterThan(20)
    const served = new Set(after.map((f) => f.name))
    for (const expr of exprs)
      for (const [name] of expr.matchAll(/\b(?:fleare|process|nodejs)_[a-z0-9_]+/g))
        expect(served, `${name} in ${expr}`).toContain(name.replace(/_bucket$/, ""))
  })
})

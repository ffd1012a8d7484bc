/**
 * The built-in status page at `/` of the metrics server: plain HTML with inline SVG charts, no scripts, reloading
 * itself (`<meta http-equiv="refresh">`) every sampling period. A sampler fiber records the server's figures every
 * `metrics.sample_seconds` on the Effect clock into a ring of the last `HISTORY` samples; the page draws ops/s by
 * command, connections, sessions and memory against the limit over that window, plus the figures right now.
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { allCommands } from "../commands/registry.js"
import { VERSION } from "../version.js"
import { counters } from "./Counters.js"
import type { OpsState } from "./Ops.js"

/** How many samples the page keeps (at the default 5 s period, the last 10 minutes). */
export const HISTORY = 120

/** The server's figures at one moment. */
export interface Sample {
  /** Epoch milliseconds (Effect clock). */
  readonly at: number
  /** Commands run so far, by name (only those run at least once). */
  readonly commands: Readonly<Record<string, number>>
  readonly connections: number
  readonly sessions: number
  readonly keys: number
  readonly memoryBytes: number
  /** 0: no limit. */
  readonly memoryLimitBytes: number
}

/** A ring of the latest samples, oldest first. */
export class SampleRing {
  private readonly items: Array<Sample> = []
  constructor(readonly capacity: number = HISTORY) {}

  add(s: Sample): void {
    this.items.push(s)
    if (this.items.length > this.capacity) this.items.shift()
  }

  /** The samples, oldest first. */
  list(): ReadonlyArray<Sample> {
    return this.items
  }
}

/** The figures of the server registered in `ops` at `at` (zeros before it listens). */
export const takeSample = (ops: OpsState, at: number, nowNanos: bigint): Sample => {
  const commands: Record<string, number> = {}
  for (const c of allCommands) {
    const n = c.stats.ok + c.stats.error + c.stats.internal
    if (n > 0) commands[c.name] = n
  }
  const auth = counters.auth.ok + counters.auth.error + counters.auth.internal
  if (auth > 0) commands["AUTH"] = auth
  const server = ops.server
  if (server === undefined)
    return { at, commands, connections: 0, sessions: 0, keys: 0, memoryBytes: 0, memoryLimitBytes: 0 }
  let keys = 0
  for (const s of server.keyspace.stats(nowNanos)) keys += s.keys
  const memory = server.keyspace.memory()
  return {
    at,
    commands,
    connections: server.connections.size,
    sessions: server.sessions.stats?.().sessions ?? 0,
    keys,
    memoryBytes: memory.usedBytes,
    memoryLimitBytes: memory.maxBytes
  }
}

/** A sample taken now on the Effect clock. */
export const sampleNow = (ops: OpsState): Effect.Effect<Sample> =>
  Effect.map(Clock.currentTimeNanos, (nanos) => takeSample(ops, Number(nanos / 1_000_000n), nanos))

/** Samples into `ring` every `every`, forever (fork it in the metrics server's scope). */
export const runSampler = (ops: OpsState, ring: SampleRing, every: Duration.DurationInput): Effect.Effect<never> =>
  // Nothing to record before the server listens (the log may be replaying).
  Effect.flatMap(sampleNow(ops), (s) => Effect.sync(() => ops.server !== undefined && ring.add(s))).pipe(
    Effect.repeat(Schedule.spaced(every)),
    Effect.zipRight(Effect.never)
  )

/** Commands per second between consecutive samples: one series per command, plus `total`. */
export const rates = (samples: ReadonlyArray<Sample>): Map<string, Array<[number, number]>> => {
  const out = new Map<string, Array<[number, number]>>([["total", []]])
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1]!
    const b = samples[i]!
    const dt = (b.at - a.at) / 1000
    if (dt <= 0) continue
    let total = 0
    for (const [name, n] of Object.entries(b.commands)) {
      const r = Math.max(0, n - (a.commands[name] ?? 0)) / dt
      total += r
      let series = out.get(name)
      if (series === undefined) out.set(name, (series = []))
      series.push([b.at, r])
    }
    out.get("total")!.push([b.at, total])
  }
  return out
}

const escapeHtml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"]

/** A number for people: 1234567 as 1.23M. */
const human = (n: number): string => {
  const abs = Math.abs(n)
  if (abs >= 1e9) return `${(n / 1e9).toFixed(2)}G`
  if (abs >= 1e6) return `${(n / 1e6).toFixed(2)}M`
  if (abs >= 1e4) return `${(n / 1e3).toFixed(1)}k`
  return Number.isInteger(n) ? String(n) : n.toFixed(1)
}

const bytes = (n: number): string =>
  n >= 1024 * 1024 * 1024
    ? `${(n / 1024 ** 3).toFixed(2)} GiB`
    : n >= 1024 * 1024
      ? `${(n / 1024 ** 2).toFixed(1)} MiB`
      : n >= 1024
        ? `${(n / 1024).toFixed(1)} KiB`
        : `${n} B`

interface Series {
  readonly name: string
  readonly points: ReadonlyArray<readonly [number, number]>
  readonly dashed?: boolean
}

const W = 560
const H = 140
const PAD_LEFT = 56
const PAD_BOTTOM = 18

/** An SVG line chart of `series` over [from, to] (epoch ms), with a legend. */
const chart = (
  id: string,
  title: string,
  series: ReadonlyArray<Series>,
  from: number,
  to: number,
  unit: (n: number) => string
): string => {
  const max = Math.max(1, ...series.flatMap((s) => s.points.map(([, v]) => v)))
  const x = (t: number) => PAD_LEFT + ((t - from) / Math.max(1, to - from)) * (W - PAD_LEFT - 8)
  const y = (v: number) => 8 + (1 - v / max) * (H - 8 - PAD_BOTTOM)
  const lines = series.map((s, i) => {
    const color = PALETTE[i % PALETTE.length]!
    const pts = s.points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(" ")
    return `<polyline fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5,4"' : ""} points="${pts}"><title>${escapeHtml(s.name)}</title></polyline>`
  })
  const legend = series
    .map((s, i) => {
      const last = s.points.length > 0 ? s.points[s.points.length - 1]![1] : 0
      return `<span class="key" data-series="${escapeHtml(s.name)}"><i style="background:${PALETTE[i % PALETTE.length]}"></i>${escapeHtml(s.name)} ${escapeHtml(unit(last))}</span>`
    })
    .join(" ")
  const minutes = Math.round((to - from) / 60000)
  return `<section id="${id}"><h2>${escapeHtml(title)}</h2>
<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeHtml(title)}">
<line x1="${PAD_LEFT}" y1="${H - PAD_BOTTOM}" x2="${W - 8}" y2="${H - PAD_BOTTOM}" stroke="#999"/>
<line x1="${PAD_LEFT}" y1="8" x2="${PAD_LEFT}" y2="${H - PAD_BOTTOM}" stroke="#999"/>
<text x="${PAD_LEFT - 4}" y="14" text-anchor="end" font-size="11">${escapeHtml(unit(max))}</text>
<text x="${PAD_LEFT - 4}" y="${H - PAD_BOTTOM}" text-anchor="end" font-size="11">0</text>
<text x="${PAD_LEFT}" y="${H - 4}" font-size="11">-${minutes < 1 ? `${Math.round((to - from) / 1000)} s` : `${minutes} min`}</text>
<text x="${W - 8}" y="${H - 4}" text-anchor="end" font-size="11">now</text>
${lines.join("\n")}
</svg>
<div class="legend">${legend}</div></section>`
}

/** The page: figures now (`now`, a sample taken for this request) and charts over the recorded samples. */
export const renderStatusPage = (
  ops: OpsState,
  samples: ReadonlyArray<Sample>,
  now: Sample,
  sampleSeconds: number
): string => {
  const refreshSeconds = Math.max(1, Math.round(sampleSeconds))
  const all = [...samples, now]
  const from = all[0]!.at
  const to = now.at
  const r = rates(all)
  // The busiest commands over the window get their own line; the rest are in `total`.
  const busiest = [...r.entries()]
    .filter(([name]) => name !== "total")
    .map(([name, pts]) => [name, pts.reduce((a, [, v]) => a + v, 0)] as const)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 6)
    .map(([name]) => name)
  const opsSeries: Array<Series> = [
    { name: "total", points: r.get("total")! },
    ...busiest.map((name) => ({ name, points: r.get(name)! }))
  ]
  const last = (name: string) => {
    const pts = r.get(name)
    return pts !== undefined && pts.length > 0 ? pts[pts.length - 1]![1] : 0
  }
  const series = (pick: (s: Sample) => number) => all.map((s) => [s.at, pick(s)] as const)
  const memorySeries: Array<Series> = [{ name: "used", points: series((s) => s.memoryBytes) }]
  if (now.memoryLimitBytes > 0)
    memorySeries.push({ name: "limit", points: series((s) => s.memoryLimitBytes), dashed: true })
  const commandRows = Object.entries(now.commands)
    .sort((a, b) => b[1] - a[1])
    .map(
      ([name, total]) =>
        `<tr data-command="${escapeHtml(name)}"><td>${escapeHtml(name)}</td><td class="num">${human(last(name))}</td><td class="num">${total}</td></tr>`
    )
    .join("\n")
  const uptime =
    ops.server === undefined
      ? 0
      : Math.max(0, Math.floor(now.at / 1000 - Number(ops.server.startedAt / 1_000_000_000n)))
  const address = ops.server?.address()
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${refreshSeconds}">
<title>fleare-ts status</title>
<style>
body{font:14px system-ui,sans-serif;margin:16px;color:#222;max-width:1200px}
h1{font-size:18px;margin:0 0 8px} h2{font-size:14px;margin:12px 0 4px}
.grid{display:flex;flex-wrap:wrap;gap:8px 24px}
dl.now{display:grid;grid-template-columns:auto auto;gap:2px 12px;margin:0}
dt{color:#666} dd{margin:0;font-weight:600}
.legend{font-size:12px} .key{margin-right:12px;white-space:nowrap}
.key i{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
table{border-collapse:collapse;font-size:13px} td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}
.num{text-align:right;font-variant-numeric:tabular-nums}
.ready{color:#2ca02c} .notready{color:#d62728}
</style></head>
<body>
<h1>fleare-ts ${escapeHtml(VERSION)}${address === undefined ? "" : ` on ${escapeHtml(address.host)}:${address.port}`} — <span id="phase" class="${ops.ready ? "ready" : "notready"}">${ops.phase}</span></h1>
<div class="grid">
<dl class="now">
<dt>uptime</dt><dd id="uptime">${uptime} s</dd>
<dt>ops/s</dt><dd id="ops">${human(last("total"))}</dd>
<dt>connections</dt><dd id="connections">${now.connections}</dd>
<dt>sessions</dt><dd id="sessions">${now.sessions}</dd>
<dt>keys</dt><dd id="keys">${now.keys}</dd>
<dt>memory</dt><dd id="memory">${bytes(now.memoryBytes)}${now.memoryLimitBytes > 0 ? ` of ${bytes(now.memoryLimitBytes)}` : " (no limit)"}</dd>
</dl>
<section><h2>commands</h2><table id="commands"><thead><tr><th>command</th><th class="num">ops/s</th><th class="num">total</th></tr></thead><tbody>
${commandRows}
</tbody></table></section>
</div>
${chart("chart-ops", "ops/s by command", opsSeries, from, to, human)}
${chart(
  "chart-connections",
  "connections and sessions",
  [
    { name: "connections", points: series((s) => s.connections) },
    { name: "sessions", points: series((s) => s.sessions) }
  ],
  from,
  to,
  human
)}
${chart("chart-memory", "memory (estimated) against the limit", memorySeries, from, to, bytes)}
<p class="legend">Sampled every ${sampleSeconds} s, last ${all.length} samples; this page reloads itself every ${refreshSeconds} s. Metrics: <a href="/metrics">/metrics</a>, health: <a href="/health">/health</a>.</p>
</body></html>
`
}

/**
 * Text forms of benchmark results: the per-test report of `fleare-benchmark` and small number formatters
 * shared with the harness.
 */
import type { LoadResult } from "./load.js"
import { Histogram } from "./stats.js"

/** 1234567.8 -> "1,234,568". */
export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-")

/** Nanoseconds as milliseconds with 3 decimals. */
export const fmtMs = (ns: number): string => (ns / 1e6).toFixed(3)

/** The latency summary of a result, in nanoseconds. */
export interface LatencySummary {
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
  readonly mean: number
}

/** p50/p90/p99/max/mean of a result's latencies (nanoseconds). */
export const latencyOf = (r: LoadResult): LatencySummary => {
  const h = Histogram.fromData(r.latencyNs)
  return { p50: h.percentile(50), p90: h.percentile(90), p99: h.percentile(99), max: h.max, mean: h.mean() }
}

/** The report of one test, redis-benchmark style. */
export const formatResult = (r: LoadResult): string => {
  const l = latencyOf(r)
  const lines = [
    `====== ${r.label} ======`,
    `  ${fmtInt(r.measured)} replies in ${r.elapsedS.toFixed(3)} s (sent ${fmtInt(r.sent)}, received ${fmtInt(r.received)}; stopped by ${r.stopReason})`,
    `  ${r.connections} connections, pipeline ${r.pipeline}${r.test === "set" || r.test === "get" ? `, ${r.dataSize}-byte values` : ""}`,
    `  ops/s: ${fmtInt(r.opsPerSec)}`,
    `  latency ms: p50=${fmtMs(l.p50)} p90=${fmtMs(l.p90)} p99=${fmtMs(l.p99)} max=${fmtMs(l.max)} mean=${fmtMs(l.mean)}`,
    `  errors: ${fmtInt(r.errors.total)}`
  ]
  for (const k of r.errors.kinds) lines.push(`    ${fmtInt(k.count)} x ${k.text}`)
  return lines.join("\n")
}

/** One summary row per test. */
export const formatSummary = (results: ReadonlyArray<LoadResult>): string => {
  const head = ["test", "ops/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "errors"]
  const rows = results.map((r) => {
    const l = latencyOf(r)
    return [
      r.label,
      fmtInt(r.opsPerSec),
      fmtMs(l.p50),
      fmtMs(l.p90),
      fmtMs(l.p99),
      fmtMs(l.max),
      fmtInt(r.errors.total)
    ]
  })
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")
  return [line(head), ...rows.map(line)].join("\n")
}

/**
 * The report of `npm run bench`: medians over the rounds, the issue's targets, the PASS/FAIL of every row, and
 * the markdown that is printed and appended to docs/PERFORMANCE.md. Pure: the harness measures, this judges.
 */
import type { Chart } from "./chart.js"
import type { LoadResult } from "./load.js"
import { fmtInt, latencyOf } from "./report.js"
import { ErrorTally, median } from "./stats.js"
import type { TestName } from "./workload.js"

/** The issue's targets. KB and MB are binary (as /proc counts kB). */
export const TARGETS = {
  /** ops/s ratio ours/baseline at pipeline 1, for these commands only (every command of the matrix). */
  pipeline1: { ratio: 0.9, tests: ["ping", "set", "get", "session", "incr"] as ReadonlyArray<TestName> },
  /** ops/s ratio at pipeline 16, every command of the matrix. */
  pipeline16: 0.9,
  /** ops/s ratio with the memory limit against without, for these commands (what the limit may cost). */
  limitCost: { ratio: 0.9, tests: ["set", "get"] as ReadonlyArray<TestName> },
  /** Server CPU per request, ours/baseline, every cell. */
  cpuRatio: 1.25,
  bytesPerKey: 260,
  bytesPerConnection: 14 * 1024,
  idleRss: 80 * 1024 * 1024
}

/** One server's run of one cell in one round. */
export interface CellRun {
  readonly result: LoadResult
  /** Server CPU seconds over the cell / replies received, in microseconds. */
  readonly cpuUsPerRequest: number
}

/** One Redis run of one cell (redis-benchmark's figures and the server's CPU per request). */
export interface RedisRun {
  readonly opsPerSec: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly cpuUsPerRequest: number
}

/** One cell of the matrix: runs[i] are server i's runs, one per round (server 0 is fleare-ts). */
export interface Cell {
  readonly test: TestName
  readonly pipeline: number
  readonly runs: ReadonlyArray<ReadonlyArray<CellRun>>
  /** fleare-ts in the limited configuration (`BenchRun.limited`), one run per round; absent: not measured. */
  readonly limited?: ReadonlyArray<CellRun>
  /** Redis, one run per round; absent: not measured, or no Redis equivalent (SESSION). */
  readonly redis?: ReadonlyArray<RedisRun>
}

/** One server's memory figures (bytes). */
export interface Memory {
  readonly idleRss: number
  readonly bytesPerKey: number
  readonly bytesPerConnection: number
  /**
   * The same at steady state: measured on a fresh process, both readings after a long idle time and a GC, once
   * V8 has given back the memory of the burst of handshakes; undefined when not measured.
   */
  readonly steadyBytesPerConnection: number | undefined
  /** Errors while loading the keys: the per-key figure is void if there are any. */
  readonly keyErrors: ErrorTally
  readonly peakRss: number
  readonly endRss: number
}

/** Everything a report says. Server 0 is fleare-ts, server 1 (if any) the baseline. */
export interface BenchRun {
  /** The header line: when, and how the run was made. */
  readonly title: string
  /** Lines of context (machine, load, method) printed under the title. */
  readonly context: ReadonlyArray<string>
  readonly keys: number
  readonly idleConnections: number
  /** The idle time before each steady-state reading, in seconds. */
  readonly steadySeconds: number
  readonly cells: ReadonlyArray<Cell>
  /** Per server as `cells`; empty when memory was not measured. */
  readonly memory: ReadonlyArray<Memory>
  /** The limited configuration's description (e.g. "memory.max_size_mb: 1024, eviction_policy: LRU"). */
  readonly limited?: string
}

/** Medians over the rounds of one server's runs of one cell. */
interface CellSummary {
  readonly ops: number
  readonly p50: number
  readonly p99: number
  readonly cpuUs: number
  readonly errors: ErrorTally
}

const summarise = (runs: ReadonlyArray<CellRun>): CellSummary => {
  const errors = new ErrorTally()
  for (const r of runs) errors.merge(r.result.errors)
  const lat = runs.map((r) => latencyOf(r.result))
  return {
    ops: median(runs.map((r) => r.result.opsPerSec)),
    p50: median(lat.map((l) => l.p50)),
    p99: median(lat.map((l) => l.p99)),
    cpuUs: median(runs.map((r) => r.cpuUsPerRequest)),
    errors
  }
}

/** The command as a reader knows it. */
export const LABEL: Record<TestName, string> = {
  ping: "PING",
  set: "SET",
  get: "GET",
  session: "SESSION",
  incr: "NUM.INCR"
}

const ms = (ns: number) => (ns / 1e6).toFixed(2)
const mb = (b: number) => `${(b / 1048576).toFixed(1)} MB`
const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`
const bytes = (b: number) => `${b.toFixed(0)} B`

/** The ops/s ratio a cell must reach, or undefined when the issue sets none. */
export const opsTarget = (test: TestName, pipeline: number): number | undefined =>
  pipeline === 1 ? (TARGETS.pipeline1.tests.includes(test) ? TARGETS.pipeline1.ratio : undefined) : TARGETS.pipeline16

const throughputRow = (cell: Cell, errorNotes: Array<string>): { row: string; failed: boolean } => {
  const [a, b] = cell.runs.map(summarise) as [CellSummary, CellSummary | undefined]
  const name = `${LABEL[cell.test]} P=${cell.pipeline}`
  a.errors.toData().kinds.forEach((k) => errorNotes.push(`- fleare-ts ${name}: ${fmtInt(k.count)} x ${k.text}`))
  b?.errors.toData().kinds.forEach((k) => errorNotes.push(`- baseline ${name}: ${fmtInt(k.count)} x ${k.text}`))
  const target = opsTarget(cell.test, cell.pipeline)
  const ratio = b ? a.ops / b.ops : NaN
  const cpuRatio = b ? a.cpuUs / b.cpuUs : NaN
  const errors = a.errors.total + (b?.errors.total ?? 0)
  const fails = [
    b && target !== undefined && !(ratio >= target) ? "ops" : "",
    b && !(cpuRatio <= TARGETS.cpuRatio) ? "cpu" : "",
    errors > 0 ? "errors" : ""
  ].filter((f) => f !== "")
  const verdict = fails.length > 0 ? `FAIL (${fails.join(", ")})` : b ? "PASS" : "n/a"
  const cells = [
    LABEL[cell.test],
    String(cell.pipeline),
    fmtInt(a.ops),
    b ? fmtInt(b.ops) : "-",
    b ? ratio.toFixed(2) : "-",
    target !== undefined ? `>= ${target}` : "-",
    `${ms(a.p50)} / ${ms(a.p99)}`,
    b ? `${ms(b.p50)} / ${ms(b.p99)}` : "-",
    a.cpuUs.toFixed(2),
    b ? b.cpuUs.toFixed(2) : "-",
    b ? cpuRatio.toFixed(2) : "-",
    String(errors),
    verdict
  ]
  return { row: `| ${cells.join(" | ")} |`, failed: fails.length > 0 }
}

/** The markdown report and the number of rows that fail their target. */
export const renderReport = (run: BenchRun): { readonly markdown: string; readonly failures: number } => {
  let failures = 0
  const errorNotes: Array<string> = []
  const rows = run.cells.map((cell) => {
    const { row, failed } = throughputRow(cell, errorNotes)
    if (failed) failures++
    return row
  })
  const [ma, mbase] = run.memory as [Memory | undefined, Memory | undefined]
  const limitedRows = run.cells.some((c) => c.limited !== undefined && c.limited.length > 0)
    ? limitedTable(run, errorNotes)
    : undefined
  if (limitedRows !== undefined) failures += limitedRows.failures
  for (const [m, name] of [
    [ma, "fleare-ts"],
    [mbase, "baseline"]
  ] as const)
    m?.keyErrors.toData().kinds.forEach((k) => errorNotes.push(`- ${name} key loading: ${fmtInt(k.count)} x ${k.text}`))
  const memRow = (
    ma: Memory,
    what: string,
    fmt: (n: number) => string,
    pick: (m: Memory) => number,
    limit: number,
    valid = true
  ) => {
    const ok = valid && pick(ma) <= limit
    if (!ok) failures++
    return `| ${what} | ${fmt(pick(ma))} | ${mbase ? fmt(pick(mbase)) : "-"} | <= ${fmt(limit)} | ${ok ? "PASS" : "FAIL"} |`
  }
  const markdown = [
    `### ${run.title}`,
    "",
    ...run.context,
    "",
    "| command | pipeline | fleare-ts ops/s | baseline ops/s | ratio | target | fleare-ts p50 / p99 ms | baseline p50 / p99 ms | fleare-ts CPU us/req | baseline CPU us/req | CPU ratio (<= 1.25) | errors | result |",
    "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- |",
    ...rows,
    "",
    ...(limitedRows?.lines ?? []),
    ...redisTable(run),
    ...(ma === undefined ? [] : memoryTable(ma)),
    ...(errorNotes.length > 0 ? ["Errors:", "", ...errorNotes, ""] : []),
    `Result: ${failures === 0 ? "all PASS" : `${failures} row(s) FAIL`}.`,
    ""
  ].join("\n")
  return { markdown, failures }

  function memoryTable(ma: Memory): Array<string> {
    return [
      "| memory | fleare-ts | baseline | target | result |",
      "| --- | --: | --: | --: | --- |",
      memRow(ma, "idle RSS after start", mb, (m) => m.idleRss, TARGETS.idleRss),
      memRow(
        ma,
        `RSS growth per key (${fmtInt(run.keys)} keys x 100 B, SET pipelined, after GC${run.keys < 1_000_000 ? "; coarse below 1,000,000 keys" : ""})`,
        bytes,
        (m) => m.bytesPerKey,
        TARGETS.bytesPerKey,
        ma.keyErrors.total === 0
      ),
      memRow(
        ma,
        `RSS growth per idle authenticated connection (${fmtInt(run.idleConnections)}, 1 s after connecting, after GC)`,
        kb,
        (m) => m.bytesPerConnection,
        TARGETS.bytesPerConnection
      ),
      ...(ma.steadyBytesPerConnection === undefined
        ? []
        : [
            memRow(
              ma,
              `the same at steady state (fresh process; before and after: ${run.steadySeconds} s idle, then GC)`,
              kb,
              (m) => m.steadyBytesPerConnection ?? Number.NaN,
              TARGETS.bytesPerConnection
            )
          ]),
      `| peak / final RSS over the throughput matrix | ${mb(ma.peakRss)} / ${mb(ma.endRss)} | ${mbase ? `${mb(mbase.peakRss)} / ${mb(mbase.endRss)}` : "-"} | - | - |`,
      ""
    ]
  }
}

/**
 * The limited configuration's rows: its ops/s against the baseline (the matrix's targets) and against fleare-ts
 * without a limit in the same rounds (what the limit costs: `TARGETS.limitCost`), and its CPU per request.
 */
const limitedTable = (run: BenchRun, errorNotes: Array<string>): { lines: Array<string>; failures: number } => {
  let failures = 0
  const rows = run.cells.flatMap((cell) => {
    if (cell.limited === undefined || cell.limited.length === 0) return []
    const l = summarise(cell.limited)
    const a = summarise(cell.runs[0]!)
    const b = cell.runs[1] !== undefined ? summarise(cell.runs[1]) : undefined
    const name = `${LABEL[cell.test]} P=${cell.pipeline}`
    l.errors.toData().kinds.forEach((k) => errorNotes.push(`- limited ${name}: ${fmtInt(k.count)} x ${k.text}`))
    const target = opsTarget(cell.test, cell.pipeline)
    const ratio = b ? l.ops / b.ops : NaN
    const cost = l.ops / a.ops
    const costTarget = TARGETS.limitCost.tests.includes(cell.test) ? TARGETS.limitCost.ratio : undefined
    const cpuRatio = b ? l.cpuUs / b.cpuUs : NaN
    const fails = [
      b && target !== undefined && !(ratio >= target) ? "ops" : "",
      costTarget !== undefined && !(cost >= costTarget) ? "limit cost" : "",
      b && !(cpuRatio <= TARGETS.cpuRatio) ? "cpu" : "",
      l.errors.total > 0 ? "errors" : ""
    ].filter((f) => f !== "")
    if (fails.length > 0) failures++
    const verdict = fails.length > 0 ? `FAIL (${fails.join(", ")})` : "PASS"
    return [
      `| ${[
        LABEL[cell.test],
        String(cell.pipeline),
        fmtInt(l.ops),
        b ? fmtInt(b.ops) : "-",
        b ? ratio.toFixed(2) : "-",
        target !== undefined ? `>= ${target}` : "-",
        fmtInt(a.ops),
        cost.toFixed(2),
        costTarget !== undefined ? `>= ${costTarget}` : "-",
        `${ms(l.p50)} / ${ms(l.p99)}`,
        l.cpuUs.toFixed(2),
        b ? cpuRatio.toFixed(2) : "-",
        String(l.errors.total),
        verdict
      ].join(" | ")} |`
    ]
  })
  const lines = [
    `With a memory limit (${run.limited ?? "limited"}): the same rounds, interleaved with the others.`,
    "",
    "| command | pipeline | limited ops/s | baseline ops/s | ratio | target | no limit ops/s | limited / no limit | target | limited p50 / p99 ms | limited CPU us/req | CPU ratio (<= 1.25) | errors | result |",
    "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --- |",
    ...rows,
    ""
  ]
  return { lines, failures }
}

/** The Redis reference rows (informative: no target). */
const redisTable = (run: BenchRun): Array<string> => {
  const rows = run.cells.flatMap((cell) => {
    if (cell.redis === undefined || cell.redis.length === 0) return []
    const r = {
      ops: median(cell.redis.map((x) => x.opsPerSec)),
      p50: median(cell.redis.map((x) => x.p50Ms)),
      p99: median(cell.redis.map((x) => x.p99Ms)),
      cpuUs: median(cell.redis.map((x) => x.cpuUsPerRequest))
    }
    const a = summarise(cell.runs[0]!)
    const b = cell.runs[1] !== undefined ? summarise(cell.runs[1]) : undefined
    return [
      `| ${LABEL[cell.test]} | ${cell.pipeline} | ${fmtInt(r.ops)} | ${r.p50.toFixed(2)} / ${r.p99.toFixed(2)} | ${r.cpuUs.toFixed(2)} | ${(a.ops / r.ops).toFixed(2)} | ${b ? (b.ops / r.ops).toFixed(2) : "-"} |`
    ]
  })
  if (rows.length === 0) return []
  return [
    "Reference: Redis 7 (`redis-server`, persistence off) loaded by `redis-benchmark` (its own client, in C) with the same connections, pipeline, 3-byte values and keyspace, in the same rounds. Informative, not a target.",
    "",
    "| command | pipeline | Redis ops/s | Redis p50 / p99 ms | Redis CPU us/req | fleare-ts / Redis | baseline / Redis |",
    "| --- | --: | --: | --: | --: | --: | --: |",
    ...rows,
    ""
  ]
}

/** Bar colours of the chart, per series. */
const CHART_COLORS = { ours: "#1f77b4", limited: "#6baed6", baseline: "#ff7f0e", redis: "#d62728" }

/**
 * The chart of a run: one panel per pipeline depth, one group per command, bars for fleare-ts, fleare-ts with
 * the limit, the baseline and Redis (the series that were measured).
 */
export const chartOf = (run: BenchRun, title: string, subtitle?: string): Chart => {
  const any = (f: (c: Cell) => boolean) => run.cells.some(f)
  const series = [
    { name: "fleare-ts", color: CHART_COLORS.ours, pick: (c: Cell) => opsOf(c.runs[0]) },
    ...(any((c) => (c.limited?.length ?? 0) > 0)
      ? [
          {
            name: `fleare-ts, ${run.limited ?? "limited"}`,
            color: CHART_COLORS.limited,
            pick: (c: Cell) => opsOf(c.limited)
          }
        ]
      : []),
    ...(any((c) => c.runs[1] !== undefined)
      ? [{ name: "baseline (bare Node)", color: CHART_COLORS.baseline, pick: (c: Cell) => opsOf(c.runs[1]) }]
      : []),
    ...(any((c) => (c.redis?.length ?? 0) > 0)
      ? [
          {
            name: "Redis 7 (redis-benchmark)",
            color: CHART_COLORS.redis,
            pick: (c: Cell) => (c.redis && c.redis.length > 0 ? median(c.redis.map((r) => r.opsPerSec)) : undefined)
          }
        ]
      : [])
  ]
  const pipelines = [...new Set(run.cells.map((c) => c.pipeline))].sort((a, b) => a - b)
  return {
    title,
    ...(subtitle !== undefined ? { subtitle } : {}),
    series: series.map(({ name, color }) => ({ name, color })),
    panels: pipelines.map((p) => ({
      title: `pipeline ${p}`,
      groups: run.cells
        .filter((c) => c.pipeline === p)
        .map((c) => ({ label: LABEL[c.test], values: series.map((s) => s.pick(c)) }))
    }))
  }
}

const opsOf = (runs: ReadonlyArray<CellRun> | undefined): number | undefined =>
  runs === undefined || runs.length === 0 ? undefined : median(runs.map((r) => r.result.opsPerSec))

/** One persistence row's runs: ops/s per round of each configuration, at one connection count. */
export interface PersistenceRow {
  readonly connections: number
  readonly off: ReadonlyArray<number>
  readonly always: ReadonlyArray<number>
  readonly everysec: ReadonlyArray<number>
  readonly errors: number
}

/** The target of `fsync: always` against persistence off, at 50 connections (group commit); none at 1. */
export const persistenceTarget = (connections: number): number | undefined => (connections >= 50 ? 0.3 : undefined)

/** The persistence table: SET at pipeline 1, persistence off, `fsync: always` and `fsync: everysec`. */
export const renderPersistence = (rows: ReadonlyArray<PersistenceRow>): { markdown: string; failures: number } => {
  let failures = 0
  const lines = rows.map((r) => {
    const off = median(r.off)
    const always = median(r.always)
    const everysec = median(r.everysec)
    const target = persistenceTarget(r.connections)
    const pass = r.errors === 0 && (target === undefined || always / off >= target)
    if (!pass) failures++
    return (
      `| SET | ${r.connections} | ${fmtInt(off)} | ${fmtInt(always)} | ${(always / off).toFixed(2)} | ` +
      `${target === undefined ? "-" : `>= ${target}`} | ${fmtInt(everysec)} | ${(everysec / off).toFixed(2)} | ${r.errors} | ${pass ? "PASS" : "FAIL"} |`
    )
  })
  const markdown = [
    "",
    "Persistence: `fsync: always` (every reply waits for its fsync; concurrent writers share one) and `fsync: everysec` (replies do not wait; the log is synced once a second) against persistence off, fleare-ts all three, pipeline 1, interleaved, medians.",
    "",
    "| command | connections | persistence off ops/s | fsync always ops/s | ratio | target | fsync everysec ops/s | ratio | errors | result |",
    "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --- |",
    ...lines,
    ""
  ].join("\n")
  return { markdown, failures }
}

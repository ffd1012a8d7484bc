/**
 * The report of `npm run bench`: medians over the rounds, the issue's targets, the PASS/FAIL of every row, and
 * the markdown that is printed and appended to docs/PERFORMANCE.md. Pure: the harness measures, this judges.
 */
import type { LoadResult } from "./load.js"
import { fmtInt, latencyOf } from "./report.js"
import { ErrorTally, median } from "./stats.js"
import type { TestName } from "./workload.js"

/** The issue's targets. KB and MB are binary (as /proc counts kB). */
export const TARGETS = {
  /** ops/s ratio ours/baseline at pipeline 1, for these commands only. */
  pipeline1: { ratio: 0.9, tests: ["ping", "set", "get", "session"] as ReadonlyArray<TestName> },
  /** ops/s ratio at pipeline 16, every command of the matrix. */
  pipeline16: 0.8,
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

/** One cell of the matrix: runs[i] are server i's runs, one per round (server 0 is fleare-ts). */
export interface Cell {
  readonly test: TestName
  readonly pipeline: number
  readonly runs: ReadonlyArray<ReadonlyArray<CellRun>>
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
  readonly memory: ReadonlyArray<Memory>
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
  const [ma, mbase] = run.memory as [Memory, Memory | undefined]
  for (const [m, name] of [
    [ma, "fleare-ts"],
    [mbase, "baseline"]
  ] as const)
    m?.keyErrors.toData().kinds.forEach((k) => errorNotes.push(`- ${name} key loading: ${fmtInt(k.count)} x ${k.text}`))
  const memRow = (
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
    "| memory | fleare-ts | baseline | target | result |",
    "| --- | --: | --: | --: | --- |",
    memRow("idle RSS after start", mb, (m) => m.idleRss, TARGETS.idleRss),
    memRow(
      `RSS growth per key (${fmtInt(run.keys)} keys x 100 B, SET pipelined, after GC${run.keys < 1_000_000 ? "; coarse below 1,000,000 keys" : ""})`,
      bytes,
      (m) => m.bytesPerKey,
      TARGETS.bytesPerKey,
      ma.keyErrors.total === 0
    ),
    memRow(
      `RSS growth per idle authenticated connection (${fmtInt(run.idleConnections)}, 1 s after connecting, after GC)`,
      kb,
      (m) => m.bytesPerConnection,
      TARGETS.bytesPerConnection
    ),
    ...(ma.steadyBytesPerConnection === undefined
      ? []
      : [
          memRow(
            `the same at steady state (fresh process; before and after: ${run.steadySeconds} s idle, then GC)`,
            kb,
            (m) => m.steadyBytesPerConnection ?? Number.NaN,
            TARGETS.bytesPerConnection
          )
        ]),
    `| peak / final RSS over the throughput matrix | ${mb(ma.peakRss)} / ${mb(ma.endRss)} | ${mbase ? `${mb(mbase.peakRss)} / ${mb(mbase.endRss)}` : "-"} | - | - |`,
    "",
    ...(errorNotes.length > 0 ? ["Errors:", "", ...errorNotes, ""] : []),
    `Result: ${failures === 0 ? "all PASS" : `${failures} row(s) FAIL`}.`,
    ""
  ].join("\n")
  return { markdown, failures }
}

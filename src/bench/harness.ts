/**
 * `npm run bench`: measures fleare-ts against the bare-Node baseline (`../shared/tools/fleare-mock-server.mjs`,
 * when present) on this machine and appends the result to docs/PERFORMANCE.md.
 *
 * 1. Memory, on fresh processes: RSS growth per key for N keys of 100-byte values (SET, pipelined); idle RSS
 *    after start; RSS growth per idle authenticated connection (1000 connections). RSS growth is read after a
 *    settle time and a full GC on both sides (see target.ts).
 * 2. Throughput: PING, SET, GET, SESSION, NUM.INCR x pipeline 1 and 16 x 50 connections, each cell a few
 *    seconds, the two servers interleaved cell by cell (A B, B A, A B, ...: which one goes first alternates),
 *    medians over the rounds. Server CPU per request = the server's utime+stime over the cell (/proc) / the replies it sent.
 *
 * Each figure is checked against the issue's targets and marked PASS or FAIL; the exit status is 1 when any row
 * fails. The load generator runs in this process (one thread), so it competes with the servers for the CPU:
 * absolute figures depend on the machine, the ratios are the point.
 */
import { existsSync, appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import { execFileSync } from "node:child_process"
import { dirname, join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { measureCluster } from "./cluster.js"
import { connectAll } from "./connect.js"
import { defaultLoadOptions } from "./load.js"
import { type CellRun, LABEL, type Memory, renderReport } from "./benchReport.js"
import { fmtInt } from "./report.js"
import { runLoad } from "./runLoad.js"
import { ErrorTally } from "./stats.js"
import { mockSpec, oursSpec, packageRoot, startTarget, type Target, type TargetSpec } from "./target.js"
import type { TestName } from "./workload.js"

const TESTS: ReadonlyArray<TestName> = ["ping", "set", "get", "session", "incr"]
const PIPELINES = [1, 16]
const CONNECTIONS = 50

interface HarnessOptions {
  readonly quick: boolean
  readonly compiled: boolean
  readonly rounds: number
  readonly seconds: number
  readonly warmup: number
  readonly keys: number
  readonly idleConnections: number
  readonly steadySeconds: number
  readonly baseline: string | undefined
  readonly out: string | undefined
  /** Run only the cluster row (a local Redis Cluster, two fleare-ts servers on it, ioredis direct). */
  readonly clusterOnly: boolean
}

const parseOptions = (argv: ReadonlyArray<string>): HarnessOptions => {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: "boolean" },
      compiled: { type: "boolean" },
      tsx: { type: "boolean" },
      rounds: { type: "string" },
      seconds: { type: "string" },
      warmup: { type: "string" },
      keys: { type: "string" },
      "idle-connections": { type: "string" },
      "steady-seconds": { type: "string" },
      baseline: { type: "string" },
      "no-baseline": { type: "boolean" },
      out: { type: "string" },
      "no-append": { type: "boolean" },
      "cluster-only": { type: "boolean" },
      help: { type: "boolean" }
    }
  })
  if (values.help) {
    console.log(`usage: npm run bench -- [--quick] [--rounds N] [--seconds S] [--warmup S] [--keys N]
       [--idle-connections N] [--steady-seconds S] [--baseline PATH | --no-baseline] [--out FILE | --no-append]

  --quick              1 round, 1 s per cell, 100,000 keys: about two minutes
  --compiled           run dist/fleare-server.mjs, as npm start does (the default; built first)
  --tsx                run src/main.ts under tsx instead
  --rounds N           interleaved rounds per cell, medians reported            [3]
  --seconds S          measured seconds per cell and server                     [3]
  --warmup S           unmeasured seconds before each cell                       [0.5]
  --keys N             keys for the RSS-per-key measurement                      [1000000]
  --idle-connections N connections for the RSS-per-connection measurement       [1000]
  --steady-seconds S   idle time before each steady-state reading (0: skip it)   [25]
  --baseline PATH      the baseline server        [../shared/tools/fleare-mock-server.mjs]
  --out FILE           the report is appended here                      [docs/PERFORMANCE.md]
  --cluster-only       only the Redis Cluster row (needs redis-server)`)
    process.exit(0)
  }
  const quick = values.quick ?? false
  const num = (name: string, raw: string | undefined, fallback: number, min: number): number => {
    if (raw === undefined) return fallback
    const n = Number(raw)
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}`)
    return n
  }
  const defaultBaseline = resolve(packageRoot, "../shared/tools/fleare-mock-server.mjs")
  const baseline = values["no-baseline"] ? undefined : (values.baseline ?? defaultBaseline)
  if (values.baseline !== undefined && !existsSync(values.baseline))
    throw new Error(`no baseline at ${values.baseline}`)
  // Measure what `npm start` runs: the bundle dist/fleare-server.mjs (tsx's loader costs memory and time).
  const compiled = !(values.tsx ?? false)
  if (compiled) execFileSync(process.execPath, [join(packageRoot, "scripts/transpile.mjs")], { stdio: "inherit" })
  return {
    quick,
    compiled,
    rounds: Math.floor(num("rounds", values.rounds, quick ? 1 : 3, 1)),
    seconds: num("seconds", values.seconds, quick ? 1 : 3, 0.1),
    warmup: num("warmup", values.warmup, quick ? 0.2 : 0.5, 0),
    keys: Math.floor(num("keys", values.keys, quick ? 100_000 : 1_000_000, 1000)),
    idleConnections: Math.floor(num("idle-connections", values["idle-connections"], 1000, 10)),
    steadySeconds: num("steady-seconds", values["steady-seconds"], 25, 0),
    baseline: baseline !== undefined && existsSync(baseline) ? baseline : undefined,
    out: values["no-append"] ? undefined : (values.out ?? join(packageRoot, "docs/PERFORMANCE.md")),
    clusterOnly: values["cluster-only"] ?? false
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** RSS after a settle time and a full GC. */
const settledRss = async (t: Target, settleMs: number): Promise<number> => {
  await sleep(settleMs)
  await t.gc()
  await sleep(300)
  return t.rss()
}

const authOf = (t: Target) => ({ ...defaultLoadOptions, host: "127.0.0.1", port: t.port })

/** RSS growth per key: a fresh server, N sequential SETs of 100-byte values (pipeline 16), settle, GC. */
const measureKeys = async (spec: TargetSpec, keys: number): Promise<{ bytesPerKey: number; errors: ErrorTally }> => {
  const t = await startTarget(spec)
  try {
    const before = await settledRss(t, 1000)
    const r = await runLoad({
      ...authOf(t),
      test: "set",
      dataSize: 100,
      keyspace: keys,
      keyPattern: "sequential",
      requests: keys,
      pipeline: 16,
      connections: CONNECTIONS,
      maxTimeS: 600
    })
    const after = await settledRss(t, 2000)
    const errors = new ErrorTally()
    errors.merge(r.errors)
    if (r.received !== keys) errors.add(`SET: ${keys - r.received} of ${keys} keys not acknowledged`)
    return { bytesPerKey: (after - before) / keys, errors }
  } finally {
    await t.stop()
  }
}

/**
 * RSS growth per idle authenticated connection at steady state, on a fresh server: both readings after `seconds`
 * of idle time and a full GC. A burst of handshakes grows V8's young generation (it doubles whenever what
 * survives outgrows it) and V8 gives that memory back only after some idle time, so the reading 1 s after
 * connecting includes it; this one is what the connections themselves keep.
 */
const measureSteadyConnections = async (spec: TargetSpec, n: number, seconds: number): Promise<number> => {
  const t = await startTarget(spec)
  try {
    const before = await settledRss(t, seconds * 1000)
    const sockets = await connectAll(authOf(t), n)
    try {
      const after = await settledRss(t, seconds * 1000)
      return (after - before) / n
    } finally {
      for (const s of sockets) s.destroy()
    }
  } finally {
    await t.stop()
  }
}

/** Idle RSS of a just-started server, then RSS growth per idle authenticated connection. */
const measureIdle = async (t: Target, n: number): Promise<{ idleRss: number; bytesPerConnection: number }> => {
  await sleep(1000)
  const idleRss = t.rss()
  const before = await settledRss(t, 0)
  const sockets = await connectAll(authOf(t), n)
  try {
    const after = await settledRss(t, 1000)
    return { idleRss, bytesPerConnection: (after - before) / n }
  } finally {
    for (const s of sockets) s.destroy()
    await sleep(500)
  }
}

const runCell = async (
  t: Target,
  test: TestName,
  pipeline: number,
  o: HarnessOptions,
  connections = CONNECTIONS
): Promise<CellRun> => {
  const cpu0 = t.cpuSeconds()
  const result = await runLoad({
    ...authOf(t),
    test,
    pipeline,
    connections,
    durationS: o.seconds,
    warmupS: o.warmup,
    maxTimeS: o.warmup + o.seconds + 60
  })
  const cpu = t.cpuSeconds() - cpu0
  return { result, cpuUsPerRequest: result.received > 0 ? (cpu * 1e6) / result.received : NaN }
}

const machine = (): string => {
  const cpuModel =
    /model name\s*:\s*(.*)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? os.cpus()[0]?.model
  let nproc = String(os.availableParallelism())
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim()
  } catch {
    // keep os.availableParallelism()
  }
  return `${cpuModel ?? "unknown CPU"}, nproc ${nproc}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, node ${process.version}`
}

const loadAvg = () =>
  os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")

const median = (xs: ReadonlyArray<number>): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/**
 * The persistence row: SET (pipeline 1) against fleare-ts with `fsync: always` (a log in a temp dir) and against
 * the persistence-off server, interleaved, at 50 connections (target: >= 0.3x, which needs group commit) and at
 * 1 connection (one fsync per request: the disk's fsync latency, no target).
 */
const measurePersistence = async (
  off: Target,
  o: HarnessOptions,
  log: (s: string) => void
): Promise<{ markdown: string; failures: number }> => {
  const dir = mkdtempSync(join(os.tmpdir(), "fleare-bench-wal-"))
  const on = await startTarget(
    oursSpec(o.compiled, `{persistence: {enable: true, fsync: always, path: ${JSON.stringify(dir)}}}`, "fsync always")
  )
  try {
    const rows: Array<string> = []
    let failures = 0
    for (const connections of [CONNECTIONS, 1]) {
      const offOps: Array<number> = []
      const onOps: Array<number> = []
      let errors = 0
      for (let round = 0; round < o.rounds; round++) {
        const pair = round % 2 === 0 ? [off, on] : [on, off]
        for (const t of pair) {
          const run = await runCell(t, "set", 1, o, connections)
          errors += run.result.errors.total
          ;(t === on ? onOps : offOps).push(run.result.opsPerSec)
        }
        log(
          `round ${round + 1}/${o.rounds} SET P=1 c=${connections}: off ${fmtInt(offOps.at(-1)!)}, fsync always ${fmtInt(onOps.at(-1)!)} ops/s`
        )
      }
      const ratio = median(onOps) / median(offOps)
      const target = connections === CONNECTIONS ? 0.3 : undefined
      const pass = errors === 0 && (target === undefined || ratio >= target)
      if (!pass) failures++
      rows.push(
        `| SET | ${connections} | ${fmtInt(median(offOps))} | ${fmtInt(median(onOps))} | ${ratio.toFixed(2)} | ` +
          `${target === undefined ? "-" : `>= ${target}`} | ${errors} | ${pass ? "PASS" : "FAIL"} |`
      )
    }
    const markdown = [
      "",
      "Persistence: `fsync: always` (every reply waits for its fsync; concurrent writers share one) against persistence off, fleare-ts both, pipeline 1, interleaved, medians.",
      "",
      "| command | connections | persistence off ops/s | fsync always ops/s | ratio | target | errors | result |",
      "| --- | --: | --: | --: | --: | --: | --: | --- |",
      ...rows,
      ""
    ].join("\n")
    return { markdown, failures }
  } finally {
    await on.stop()
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Appends a report to the results file (created with its heading when missing). */
const appendReport = (o: HarnessOptions, report: string, log: (s: string) => void): void => {
  if (o.out === undefined) return
  mkdirSync(dirname(o.out), { recursive: true })
  if (!existsSync(o.out)) writeFileSync(o.out, "# Performance\n\nResults of `npm run bench`, newest last.\n\n")
  appendFileSync(o.out, `\n${report}`)
  log(`appended to ${o.out}`)
}

/** `--cluster-only`: the cluster row alone, with its own heading. */
const mainCluster = async (o: HarnessOptions): Promise<number> => {
  const log = (s: string) => console.error(s)
  const started = new Date()
  const loadAtStart = loadAvg()
  const row = await measureCluster(o, log)
  const how = `cluster row only, fleare-ts ${o.compiled ? "bundled" : "under tsx"}`
  const report = [
    `### ${started.toISOString().slice(0, 16).replace("T", " ")} UTC (${how})`,
    "",
    `Machine: ${machine()}. Load average ${loadAtStart} at the start, ${loadAvg()} at the end.`,
    row.markdown
  ].join("\n")
  console.log(`\n${report}`)
  appendReport(o, report, log)
  return row.failures === 0 ? 0 : 1
}

const main = async (): Promise<number> => {
  const o = parseOptions(process.argv.slice(2))
  if (o.clusterOnly) return mainCluster(o)
  const specs: Array<TargetSpec> = [oursSpec(o.compiled), ...(o.baseline !== undefined ? [mockSpec(o.baseline)] : [])]
  const hasBaseline = specs.length === 2
  // Wall-clock date for the report header: a benchmark report records when it ran.
  const started = new Date()
  const loadAtStart = loadAvg()
  const log = (s: string) => console.error(s)
  log(`fleare bench: ${machine()}`)
  if (!hasBaseline) log("fleare bench: no baseline server found: measuring fleare-ts alone (no ratios)")

  // 1. Memory per key, each server fresh.
  const keyFigures: Array<{ bytesPerKey: number; errors: ErrorTally }> = []
  for (const spec of specs) {
    log(`memory: ${spec.name}: ${fmtInt(o.keys)} keys of 100 bytes ...`)
    keyFigures.push(await measureKeys(spec, o.keys))
  }

  // 2. Per-connection RSS at steady state, each server fresh (both at once: they only wait).
  if (o.steadySeconds > 0)
    log(`memory: ${fmtInt(o.idleConnections)} idle connections at steady state (${o.steadySeconds} s idle) ...`)
  const steady = await Promise.all(
    specs.map((spec) =>
      o.steadySeconds > 0 ? measureSteadyConnections(spec, o.idleConnections, o.steadySeconds) : undefined
    )
  )

  // 3. Idle RSS and per-connection RSS, then the throughput matrix, on the same fresh processes.
  const targets = await Promise.all(specs.map((s) => startTarget(s)))
  try {
    const idle: Array<{ idleRss: number; bytesPerConnection: number }> = []
    for (const t of targets) {
      log(`memory: ${t.name}: idle RSS and ${fmtInt(o.idleConnections)} idle connections ...`)
      idle.push(await measureIdle(t, o.idleConnections))
    }
    const cells = TESTS.flatMap((test) => PIPELINES.map((pipeline) => ({ test, pipeline })))
    const runs = cells.map(() => targets.map((): Array<CellRun> => []))
    for (let round = 0; round < o.rounds; round++) {
      for (const [ci, cell] of cells.entries()) {
        // Alternate which server goes first, so neither always runs on the warmer (or cooler) machine.
        const order = targets.map((_, i) => i)
        if ((round + ci) % 2 === 1) order.reverse()
        const line: Array<string> = []
        for (const i of order) {
          const run = await runCell(targets[i]!, cell.test, cell.pipeline, o)
          runs[ci]![i]!.push(run)
          line.push(
            `${targets[i]!.name} ${fmtInt(run.result.opsPerSec)} ops/s ${run.cpuUsPerRequest.toFixed(2)} us/req`
          )
        }
        log(`round ${round + 1}/${o.rounds} ${LABEL[cell.test]} P=${cell.pipeline}: ${line.join(", ")}`)
      }
    }
    const memory: Array<Memory> = targets.map((t, i) => ({
      ...idle[i]!,
      steadyBytesPerConnection: steady[i],
      bytesPerKey: keyFigures[i]!.bytesPerKey,
      keyErrors: keyFigures[i]!.errors,
      peakRss: t.peakRss(),
      endRss: t.rss()
    }))

    const how = `${o.quick ? "quick" : "full"} run, fleare-ts ${o.compiled ? "bundled (dist/fleare-server.mjs)" : "under tsx (src/main.ts)"}`
    const { markdown: md, failures } = renderReport({
      title: `${started.toISOString().slice(0, 16).replace("T", " ")} UTC (${how})`,
      context: [
        `Machine: ${machine()}. Load average ${loadAtStart} at the start, ${loadAvg()} at the end (other work on the machine makes the figures noisy).`,
        `Throughput: ${o.rounds} round(s) x ${o.seconds} s per cell (after ${o.warmup} s warm-up), ${CONNECTIONS} connections, 3-byte values, 100,000 keys; ${hasBaseline ? "fleare-ts and the baseline (fleare-mock-server.mjs) interleaved, medians of the rounds" : "no baseline"}. Client: fleare-benchmark's load loop, one thread, on the same machine.`
      ],
      keys: o.keys,
      idleConnections: o.idleConnections,
      steadySeconds: o.steadySeconds,
      cells: cells.map((c, i) => ({ ...c, runs: runs[i]! })),
      memory
    })
    const durable = await measurePersistence(targets[0]!, o, log)
    const cluster = await measureCluster(o, log)
    const report = `${md}\n${durable.markdown}\n${cluster.markdown}`
    const allFailures = failures + durable.failures + cluster.failures
    console.log(`\n${report}`)
    appendReport(o, report, log)
    return allFailures === 0 ? 0 : 1
  } finally {
    await Promise.all(targets.map((t) => t.stop()))
  }
}

// A hard bound on the whole run, whatever hangs: children are killed by target.ts's exit handler.
const guard = setTimeout(() => {
  console.error("fleare bench: gave up after 30 minutes")
  process.exit(1)
}, 30 * 60_000)
guard.unref()

main().then(
  (code) => {
    process.exitCode = code
  },
  (e: unknown) => {
    console.error(`fleare bench: ${e instanceof Error ? e.message : String(e)}`)
    process.exitCode = 1
  }
)

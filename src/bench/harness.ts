/**
 * `npm run bench`: measures fleare-ts against the bare-Node baseline (`../shared/tools/fleare-mock-server.mjs`,
 * when present) on this machine and appends the result to docs/PERFORMANCE.md.
 *
 * 1. Memory, on fresh processes: RSS growth per key for N keys of 100-byte values (SET, pipelined); idle RSS
 *    after start; RSS growth per idle authenticated connection (1000 connections). RSS growth is read after a
 *    settle time and a full GC on both sides (see target.ts).
 * 2. Throughput: PING, SET, GET, SESSION, NUM.INCR x pipeline 1 and 16 x 50 connections, each cell a few
 *    seconds, the servers interleaved cell by cell (which one goes first rotates), medians over the rounds:
 *    fleare-ts as configured by default (no memory limit), fleare-ts with `memory.max_size_mb: 1024` and
 *    `eviction_policy: LRU` (Fleare's own default configuration), the baseline, and, when `redis-server` and
 *    `redis-benchmark` are installed, Redis 7 loaded by redis-benchmark (informative). Server CPU per request =
 *    the server's utime+stime over the cell (/proc) / the replies it sent.
 * 3. Persistence: SET against fleare-ts with `fsync: always` and with `fsync: everysec` against persistence off.
 * 4. A chart of the matrix (docs/bench.svg, next to the report).
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
import { renderChart } from "./chart.js"
import { measureCluster } from "./cluster.js"
import { connectAll } from "./connect.js"
import { defaultLoadOptions } from "./load.js"
import {
  type BenchRun,
  type CellRun,
  chartOf,
  LABEL,
  type Memory,
  type PersistenceRow,
  type RedisRun,
  renderPersistence,
  renderReport
} from "./benchReport.js"
import { freePort, redisBenchmarkArgs, redisSpec, redisTestOf, runRedisBenchmark, which } from "./redis.js"
import { fmtInt } from "./report.js"
import { runLoad } from "./runLoad.js"
import { ErrorTally } from "./stats.js"
import { measurePubSub } from "./pubsub.js"
import { mockSpec, oursSpec, packageRoot, startTarget, type Target, type TargetSpec } from "./target.js"
import type { TestName } from "./workload.js"

const TESTS: ReadonlyArray<TestName> = ["ping", "set", "get", "session", "incr"]
const PIPELINES = [1, 16]
const CONNECTIONS = 50
/** The keyspace of the matrix's SET and GET (fleare-benchmark's default), also given to redis-benchmark. */
const KEYSPACE = 100_000
/** The limited configuration: Fleare's own defaults for the memory section. */
const LIMITED_CONFIG = "{persistence: {enable: false}, memory: {max_size_mb: 1024, eviction_policy: LRU}}"
const LIMITED_LABEL = "memory.max_size_mb: 1024, eviction_policy: LRU"

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
  readonly chart: string | undefined
  readonly tests: ReadonlyArray<TestName>
  readonly pipelines: ReadonlyArray<number>
  readonly memory: boolean
  readonly persistence: boolean
  readonly limited: boolean
  /** redis-server and redis-benchmark; undefined when left out (`redisSkipped`) or not installed. */
  readonly redis: { readonly server: string; readonly benchmark: string } | undefined
  /** `--no-redis`: no Redis reference, and no notice that it is missing. */
  readonly redisSkipped: boolean
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
      chart: { type: "string" },
      tests: { type: "string" },
      pipelines: { type: "string" },
      "no-memory": { type: "boolean" },
      "no-persistence": { type: "boolean" },
      "no-limited": { type: "boolean" },
      "no-redis": { type: "boolean" },
      "redis-server": { type: "string" },
      "redis-benchmark": { type: "string" },
      "cluster-only": { type: "boolean" },
      help: { type: "boolean" }
    }
  })
  if (values.help) {
    console.log(`usage: npm run bench -- [--quick] [--rounds N] [--seconds S] [--warmup S] [--keys N]
       [--idle-connections N] [--steady-seconds S] [--baseline PATH | --no-baseline] [--out FILE | --no-append]
       [--chart FILE] [--tests LIST] [--pipelines LIST] [--no-memory] [--no-persistence] [--no-limited]
       [--no-redis] [--redis-server PATH] [--redis-benchmark PATH]

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
  --no-append          print the report only (and write no chart unless --chart is given)
  --chart FILE         the SVG chart of the matrix    [docs/bench.svg, unless --tests or --pipelines is given]
  --tests LIST         the matrix's commands              [ping,set,get,session,incr]
  --pipelines LIST     the matrix's pipeline depths                             [1,16]
  --no-memory          skip the memory measurements (targeted throughput runs)
  --no-persistence     skip the persistence row
  --no-limited         skip the limited configuration (1024 MB + LRU)
  --no-redis           skip the Redis reference (run when redis-server and redis-benchmark are on PATH)
  --redis-server PATH, --redis-benchmark PATH   where they are                  [from PATH]
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
    // The default chart is the whole matrix's (the README shows it): a run of some commands or pipelines only
    // writes one when asked with --chart.
    chart:
      values.chart ??
      (values["no-append"] || values.tests !== undefined || values.pipelines !== undefined
        ? undefined
        : join(packageRoot, "docs/bench.svg")),
    tests: listOption("tests", values.tests, TESTS, (t) => TESTS.find((x) => x === t)),
    pipelines: listOption("pipelines", values.pipelines, PIPELINES, (p) =>
      /^[1-9]\d*$/.test(p) ? Number(p) : undefined
    ),
    memory: !(values["no-memory"] ?? false),
    persistence: !(values["no-persistence"] ?? false),
    limited: !(values["no-limited"] ?? false),
    redis: values["no-redis"] ? undefined : findRedis(values["redis-server"], values["redis-benchmark"]),
    redisSkipped: values["no-redis"] ?? false,
    clusterOnly: values["cluster-only"] ?? false
  }
}

/** A comma-separated option's items, each checked by `parse` (undefined: not allowed). */
const listOption = <A>(
  name: string,
  raw: string | undefined,
  fallback: ReadonlyArray<A>,
  parse: (s: string) => A | undefined
): ReadonlyArray<A> => {
  if (raw === undefined) return fallback
  return raw.split(",").map((item) => {
    const v = parse(item.trim())
    if (v === undefined) throw new Error(`--${name}: ${item} is not one of ${fallback.join(",")}`)
    return v
  })
}

/** redis-server and redis-benchmark, from the flags or PATH; undefined unless both exist. */
const findRedis = (
  server: string | undefined,
  benchmark: string | undefined
): { server: string; benchmark: string } | undefined => {
  const s = server ?? which("redis-server")
  const b = benchmark ?? which("redis-benchmark")
  if ((server !== undefined && !existsSync(server)) || (benchmark !== undefined && !existsSync(benchmark)))
    throw new Error("--redis-server / --redis-benchmark: no such file")
  return s !== undefined && b !== undefined ? { server: s, benchmark: b } : undefined
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

/**
 * The persistence rows: SET (pipeline 1) against fleare-ts with `fsync: always` and with `fsync: everysec` (each
 * with a log in a temp dir) and against the persistence-off server, interleaved, at 50 connections (target for
 * `always`: >= 0.3x, which needs group commit) and at 1 connection (one fsync per request: the disk's fsync
 * latency, no target).
 */
const measurePersistence = async (
  off: Target,
  o: HarnessOptions,
  log: (s: string) => void
): Promise<{ markdown: string; failures: number }> => {
  const dirs = [0, 1].map(() => mkdtempSync(join(os.tmpdir(), "fleare-bench-wal-")))
  const durable = (fsync: string, dir: string) =>
    oursSpec(
      o.compiled,
      `{persistence: {enable: true, fsync: ${fsync}, path: ${JSON.stringify(dir)}}}`,
      `fsync ${fsync}`
    )
  const always = await startTarget(durable("always", dirs[0]!))
  const everysec = await startTarget(durable("everysec", dirs[1]!))
  try {
    const rows: Array<PersistenceRow> = []
    for (const connections of [CONNECTIONS, 1]) {
      const ops = new Map<Target, Array<number>>([
        [off, []],
        [always, []],
        [everysec, []]
      ])
      let errors = 0
      for (let round = 0; round < o.rounds; round++) {
        for (const t of rotate([off, always, everysec], round)) {
          const run = await runCell(t, "set", 1, o, connections)
          errors += run.result.errors.total
          ops.get(t)!.push(run.result.opsPerSec)
        }
        log(
          `round ${round + 1}/${o.rounds} SET P=1 c=${connections}: off ${fmtInt(ops.get(off)!.at(-1)!)}, ` +
            `fsync always ${fmtInt(ops.get(always)!.at(-1)!)}, everysec ${fmtInt(ops.get(everysec)!.at(-1)!)} ops/s`
        )
      }
      rows.push({ connections, off: ops.get(off)!, always: ops.get(always)!, everysec: ops.get(everysec)!, errors })
    }
    return renderPersistence(rows)
  } finally {
    await Promise.all([always.stop(), everysec.stop()])
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  }
}

/** `xs` rotated left by `by`: which server goes first moves on every cell and round. */
const rotate = <A>(xs: ReadonlyArray<A>, by: number): Array<A> => {
  const k = xs.length === 0 ? 0 : by % xs.length
  return [...xs.slice(k), ...xs.slice(0, k)]
}

/** Redis: its server and redis-benchmark's figures for one cell, with a run before it to size the measured one. */
interface RedisSide {
  readonly target: Target
  readonly benchmark: string
  /** The last rate seen per cell, to size the next run to about `seconds`. */
  readonly rates: Map<string, number>
}

const runRedisCell = async (r: RedisSide, test: TestName, pipeline: number, o: HarnessOptions): Promise<RedisRun> => {
  const t = redisTestOf(test)!
  const id = `${test}/${pipeline}`
  const args = (requests: number) =>
    redisBenchmarkArgs({
      port: r.target.port,
      test: t.arg,
      connections: CONNECTIONS,
      pipeline,
      requests,
      dataSize: 3,
      keyspace: KEYSPACE
    })
  const timeoutMs = (o.warmup + o.seconds + 60) * 1000
  // redis-benchmark counts requests, not seconds: the first run of a cell (its warm-up) measures the rate.
  const warm = Math.max(1000, Math.round((r.rates.get(id) ?? 20_000 * pipeline) * Math.max(o.warmup, 0.2)))
  const first = await runRedisBenchmark(r.benchmark, args(warm), t.csvName, timeoutMs)
  r.rates.set(id, first.opsPerSec)
  const requests = Math.max(1000, Math.round(first.opsPerSec * o.seconds))
  const cpu0 = r.target.cpuSeconds()
  const row = await runRedisBenchmark(r.benchmark, args(requests), t.csvName, timeoutMs)
  const cpu = r.target.cpuSeconds() - cpu0
  r.rates.set(id, row.opsPerSec)
  return { opsPerSec: row.opsPerSec, p50Ms: row.p50Ms, p99Ms: row.p99Ms, cpuUsPerRequest: (cpu * 1e6) / requests }
}

const startRedis = async (o: HarnessOptions, log: (s: string) => void): Promise<RedisSide | undefined> => {
  if (o.redis === undefined) {
    if (!o.redisSkipped)
      log("fleare bench: redis-server / redis-benchmark not found: no Redis reference (apt-get install redis-server)")
    return undefined
  }
  try {
    const port = await freePort()
    const target = await startTarget(redisSpec(o.redis.server, port))
    const version = execFileSync(o.redis.server, ["--version"], { encoding: "utf8" }).trim()
    log(`fleare bench: reference ${version} on port ${port}`)
    return { target, benchmark: o.redis.benchmark, rates: new Map() }
  } catch (e) {
    log(`fleare bench: Redis did not start, no Redis reference: ${e instanceof Error ? e.message : String(e)}`)
    return undefined
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
  if (o.memory)
    for (const spec of specs) {
      log(`memory: ${spec.name}: ${fmtInt(o.keys)} keys of 100 bytes ...`)
      keyFigures.push(await measureKeys(spec, o.keys))
    }

  // 2. Per-connection RSS at steady state, each server fresh (both at once: they only wait).
  if (o.memory && o.steadySeconds > 0)
    log(`memory: ${fmtInt(o.idleConnections)} idle connections at steady state (${o.steadySeconds} s idle) ...`)
  const steady = await Promise.all(
    specs.map((spec) =>
      o.memory && o.steadySeconds > 0 ? measureSteadyConnections(spec, o.idleConnections, o.steadySeconds) : undefined
    )
  )

  // 3. Idle RSS and per-connection RSS, then the throughput matrix, on the same fresh processes; the limited
  //    configuration and Redis join the matrix's rounds.
  const targets = await Promise.all(specs.map((s) => startTarget(s)))
  const limited = o.limited ? await startTarget(oursSpec(o.compiled, LIMITED_CONFIG, "fleare-ts limited")) : undefined
  const redis = await startRedis(o, log)
  try {
    const idle: Array<{ idleRss: number; bytesPerConnection: number }> = []
    if (o.memory)
      for (const t of targets) {
        log(`memory: ${t.name}: idle RSS and ${fmtInt(o.idleConnections)} idle connections ...`)
        idle.push(await measureIdle(t, o.idleConnections))
      }
    const cells = o.tests.flatMap((test) => o.pipelines.map((pipeline) => ({ test, pipeline })))
    const runs = cells.map(() => targets.map((): Array<CellRun> => []))
    const limitedRuns = cells.map((): Array<CellRun> => [])
    const redisRuns = cells.map((): Array<RedisRun> => [])
    for (let round = 0; round < o.rounds; round++) {
      for (const [ci, cell] of cells.entries()) {
        // Rotate which server goes first, so none always runs on the warmer (or cooler) machine.
        type Side =
          | { readonly kind: "ours"; readonly i: number }
          | { readonly kind: "limited" }
          | { readonly kind: "redis" }
        const sides: Array<Side> = [
          ...targets.map((_, i): Side => ({ kind: "ours", i })),
          ...(limited !== undefined ? [{ kind: "limited" } as const] : []),
          ...(redis !== undefined && redisTestOf(cell.test) !== undefined ? [{ kind: "redis" } as const] : [])
        ]
        const line: Array<string> = []
        for (const side of rotate(sides, round + ci)) {
          if (side.kind === "redis") {
            // The reference is informative: a failed run is reported and leaves a gap, it does not stop the bench.
            try {
              const r = await runRedisCell(redis!, cell.test, cell.pipeline, o)
              redisRuns[ci]!.push(r)
              line.push(`Redis ${fmtInt(r.opsPerSec)} ops/s ${r.cpuUsPerRequest.toFixed(2)} us/req`)
            } catch (e) {
              line.push(`Redis failed (${e instanceof Error ? e.message.split("\n")[0] : String(e)})`)
            }
            continue
          }
          const t = side.kind === "limited" ? limited! : targets[side.i]!
          const run = await runCell(t, cell.test, cell.pipeline, o)
          if (side.kind === "limited") limitedRuns[ci]!.push(run)
          else runs[ci]![side.i]!.push(run)
          line.push(`${t.name} ${fmtInt(run.result.opsPerSec)} ops/s ${run.cpuUsPerRequest.toFixed(2)} us/req`)
        }
        log(`round ${round + 1}/${o.rounds} ${LABEL[cell.test]} P=${cell.pipeline}: ${line.join(", ")}`)
      }
    }
    const memory: Array<Memory> = o.memory
      ? targets.map((t, i) => ({
          ...idle[i]!,
          steadyBytesPerConnection: steady[i],
          bytesPerKey: keyFigures[i]!.bytesPerKey,
          keyErrors: keyFigures[i]!.errors,
          peakRss: t.peakRss(),
          endRss: t.rss()
        }))
      : []

    const targeted =
      o.tests.length < TESTS.length || o.pipelines.length < PIPELINES.length || !o.memory || !o.persistence
    const how = `${targeted ? "targeted" : o.quick ? "quick" : "full"} run, fleare-ts ${o.compiled ? "bundled (dist/fleare-server.mjs)" : "under tsx (src/main.ts)"}`
    const title = `${started.toISOString().slice(0, 16).replace("T", " ")} UTC (${how})`
    const servers = [
      "fleare-ts (no memory limit)",
      ...(limited !== undefined ? [`fleare-ts with ${LIMITED_LABEL}`] : []),
      ...(hasBaseline ? ["the baseline (fleare-mock-server.mjs)"] : []),
      ...(redis !== undefined ? ["Redis (redis-benchmark)"] : [])
    ]
    const benchRun: BenchRun = {
      title,
      context: [
        `Machine: ${machine()}. Load average ${loadAtStart} at the start, ${loadAvg()} at the end (other work on the machine makes the figures noisy).`,
        `Throughput: ${o.rounds} round(s) x ${o.seconds} s per cell (after ${o.warmup} s warm-up), ${CONNECTIONS} connections, 3-byte values, ${fmtInt(KEYSPACE)} keys; ${servers.join(", ")} interleaved cell by cell, medians of the rounds. Client: fleare-benchmark's load loop, one thread, on the same machine.`
      ],
      keys: o.keys,
      idleConnections: o.idleConnections,
      steadySeconds: o.steadySeconds,
      cells: cells.map((c, i) => ({
        ...c,
        runs: runs[i]!,
        ...(limited !== undefined ? { limited: limitedRuns[i]! } : {}),
        ...(redisRuns[i]!.length > 0 ? { redis: redisRuns[i]! } : {})
      })),
      memory,
      limited: LIMITED_LABEL
    }
    const { markdown: md, failures } = renderReport(benchRun)
    const durable = o.persistence ? await measurePersistence(targets[0]!, o, log) : { markdown: "", failures: 0 }
    const pubsub = await measurePubSub(
      targets[0]!,
      { subscribers: 100, pipeline: 16, warmupS: o.warmup, seconds: o.seconds },
      log
    )
    const cluster = await measureCluster(o, log)
    const report =
      `${md}${durable.markdown === "" ? "" : `\n${durable.markdown}`}\n${pubsub.markdown}` +
      `${cluster.markdown === "" ? "" : `\n${cluster.markdown}`}`
    const allFailures = failures + durable.failures + pubsub.failures + cluster.failures
    console.log(`\n${report}`)
    if (o.out !== undefined) {
      mkdirSync(dirname(o.out), { recursive: true })
      if (!existsSync(o.out)) writeFileSync(o.out, "# Performance\n\nResults of `npm run bench`, newest last.\n\n")
      appendFileSync(o.out, `\n${report}`)
      log(`appended to ${o.out}`)
    }
    if (o.chart !== undefined) {
      mkdirSync(dirname(o.chart), { recursive: true })
      writeFileSync(o.chart, renderChart(chartOf(benchRun, "fleare-ts throughput (ops/s, 50 connections)", title)))
      log(`chart written to ${o.chart}`)
    }
    return allFailures === 0 ? 0 : 1
  } finally {
    await Promise.all(
      [...targets, ...(limited ? [limited] : []), ...(redis ? [redis.target] : [])].map((t) => t.stop())
    )
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

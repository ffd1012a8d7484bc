/**
 * `fleare-benchmark`: a load generator for Fleare-protocol servers, in the manner of `redis-benchmark`. Runs
 * each test of `-t` in turn against one server and reports ops/s, p50/p90/p99/max latency and every error (a
 * wrong status or a wrong value is an error, with samples of the texts).
 *
 * Exit codes: 0 all replies right; 3 some errors were counted; 1 the benchmark could not start (connect or
 * AUTH failed); 2 bad flags.
 */
import { parseArgs } from "node:util"
import { fileURLToPath } from "node:url"
import { isLoopback, LoadSetupError } from "./connect.js"
import { defaultLoadOptions, type LoadOptions, type LoadResult } from "./load.js"
import { runLoad } from "./runLoad.js"
import { formatResult, formatSummary, type LatencySummary, latencyOf } from "./report.js"
import { isTestName, TEST_NAMES, type TestName } from "./workload.js"

const USAGE = `usage: fleare-benchmark [options]

  -h HOST              server host; loopback only unless --allow-remote          [127.0.0.1]
  -p PORT              server port                                                [9219]
  --user USER          AUTH user                                                  [root]
  -a, --password PASS  AUTH password                                              [root]
  --no-auth            send no AUTH (server with enable_auth: false)
  -c CONNECTIONS       parallel connections                                       [50]
  -P PIPELINE          requests in flight per connection                          [1]
  -n REQUESTS          requests per test (warm-up included)                       [100000]
  --duration SECONDS   run each test for SECONDS instead of -n (after --warmup)
  --warmup SECONDS     load at the start of each test that is checked, not timed  [0]
  -t TESTS             comma-separated: ${TEST_NAMES.join(",")}          [all]
  -d, --data-size B    SET value size in bytes (GET expects the same size)        [3]
  -r, --keyspace N     keys key:000000000000 .. N-1 (incr: num:...)               [100000]
  --key-pattern P      random or sequential                                       [random]
  --seed N             seed for random keys                                       [1]
  --workers K          worker threads sharing the connections                     [1]
  --max-time SECONDS   hard cap per test                                          [300]
  --allow-remote       allow a non-loopback host
  --json               print one JSON object instead of the text report
  --help               this text

Latencies are wall time (process.hrtime), recorded in a histogram with <= 0.4% error.
Exit status: 0 no errors, 3 errors were counted, 1 could not connect/authenticate, 2 bad flags.`

/** A flag that is wrong; reported with the usage text. */
class UsageError extends Error {}

const intFlag = (name: string, raw: string | undefined, fallback: number, min: number): number => {
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${name} must be an integer >= ${min}, got ${JSON.stringify(raw)}`)
  return n
}

const secondsFlag = (name: string, raw: string | undefined, min: number): number | undefined => {
  if (raw === undefined) return undefined
  const n = Number(raw)
  if (!Number.isFinite(n) || n < min)
    throw new UsageError(`${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`)
  return n
}

/** The parsed command line: the options of every test, the tests, and how to report. */
export interface CliConfig {
  readonly base: Omit<LoadOptions, "test">
  readonly tests: ReadonlyArray<TestName>
  readonly workers: number
  readonly json: boolean
}

/** Parses the flags (without the program name); throws UsageError. Undefined for --help. */
export const parseCli = (argv: ReadonlyArray<string>): CliConfig | undefined => {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      host: { type: "string", short: "h" },
      port: { type: "string", short: "p" },
      user: { type: "string" },
      password: { type: "string", short: "a" },
      "no-auth": { type: "boolean" },
      connections: { type: "string", short: "c" },
      pipeline: { type: "string", short: "P" },
      requests: { type: "string", short: "n" },
      duration: { type: "string" },
      warmup: { type: "string" },
      tests: { type: "string", short: "t" },
      "data-size": { type: "string", short: "d" },
      keyspace: { type: "string", short: "r" },
      "key-pattern": { type: "string" },
      seed: { type: "string" },
      workers: { type: "string" },
      "max-time": { type: "string" },
      "allow-remote": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean" }
    }
  })
  if (values.help) return undefined
  const d = defaultLoadOptions
  const host = values.host ?? d.host
  if (!isLoopback(host) && !values["allow-remote"])
    throw new UsageError(`refusing to load a non-loopback host (${host}) without --allow-remote`)
  const tests = (values.tests ?? TEST_NAMES.join(",")).split(",").map((t) => t.trim().toLowerCase())
  for (const t of tests)
    if (!isTestName(t)) throw new UsageError(`unknown test ${JSON.stringify(t)} (known: ${TEST_NAMES.join(", ")})`)
  const keyPattern = values["key-pattern"] ?? "random"
  if (keyPattern !== "random" && keyPattern !== "sequential")
    throw new UsageError(`--key-pattern must be random or sequential, got ${JSON.stringify(keyPattern)}`)
  const durationS = secondsFlag("--duration", values.duration, 0.001)
  if (durationS !== undefined && values.requests !== undefined) throw new UsageError("give -n or --duration, not both")
  const maxTimeS = secondsFlag("--max-time", values["max-time"], 0.001) ?? d.maxTimeS
  const warmupS = secondsFlag("--warmup", values.warmup, 0) ?? 0
  if (durationS !== undefined && warmupS + durationS > maxTimeS)
    throw new UsageError(`--warmup + --duration (${warmupS + durationS}s) exceed --max-time (${maxTimeS}s)`)
  return {
    base: {
      ...d,
      host,
      port: intFlag("-p", values.port, d.port, 1),
      user: values["no-auth"] ? undefined : (values.user ?? "root"),
      password: values.password ?? d.password,
      connections: intFlag("-c", values.connections, d.connections, 1),
      pipeline: intFlag("-P", values.pipeline, d.pipeline, 1),
      requests: durationS === undefined ? intFlag("-n", values.requests, 100_000, 1) : undefined,
      durationS,
      warmupS,
      dataSize: intFlag("--data-size", values["data-size"], d.dataSize, 0),
      keyspace: intFlag("--keyspace", values.keyspace, d.keyspace, 1),
      keyPattern,
      seed: intFlag("--seed", values.seed, d.seed, 0),
      maxTimeS
    },
    tests: tests as Array<TestName>,
    workers: intFlag("--workers", values.workers, 1, 1),
    json: values.json ?? false
  }
}

/** Runs the tool; resolves with the exit status. Output goes to stdout, diagnostics to stderr. */
export const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  let config: CliConfig | undefined
  try {
    config = parseCli(argv)
  } catch (e) {
    console.error(`fleare-benchmark: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}`)
    return 2
  }
  if (config === undefined) {
    console.log(USAGE)
    return 0
  }
  const { base, tests, workers, json } = config
  const results: Array<LoadResult & { readonly clientCpuS: number; readonly latencyMs: LatencySummary }> = []
  try {
    for (const test of tests) {
      const cpu = process.cpuUsage()
      const r = await runLoad({ ...base, test }, workers)
      const used = process.cpuUsage(cpu)
      const l = latencyOf(r)
      const latencyMs = { p50: l.p50 / 1e6, p90: l.p90 / 1e6, p99: l.p99 / 1e6, max: l.max / 1e6, mean: l.mean / 1e6 }
      const result = { ...r, latencyMs, clientCpuS: (used.user + used.system) / 1e6 }
      results.push(result)
      if (!json) console.log(`${formatResult(r)}\n  client cpu: ${result.clientCpuS.toFixed(2)} s\n`)
    }
  } catch (e) {
    if (!(e instanceof LoadSetupError)) throw e
    console.error(`fleare-benchmark: ${e.message}`)
    return 1
  }
  const errors = results.reduce((a, r) => a + r.errors.total, 0)
  if (json) {
    const { host, port, connections, pipeline, dataSize, keyspace } = base
    console.log(
      JSON.stringify({ target: `${host}:${port}`, connections, pipeline, dataSize, keyspace, workers, results, errors })
    )
  } else console.log(formatSummary(results))
  return errors > 0 ? 3 : 0
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      console.error(e)
      process.exitCode = 1
    }
  )
}

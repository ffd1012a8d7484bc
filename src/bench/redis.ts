/**
 * The Redis reference row of `npm run bench`: Redis 7's `redis-server` (persistence off, loopback, a free port)
 * loaded by its own `redis-benchmark` with the same connections, pipeline, value size and keyspace as the
 * matrix's cell. Informative only: the client is a different program (C, not fleare-benchmark's Node loop), so
 * the figures say where Redis stands on this machine, not a like-for-like ratio.
 */
import { execFile, execFileSync } from "node:child_process"
import { createServer } from "node:net"
import type { TestName } from "./workload.js"
import type { TargetSpec } from "./target.js"

/** One row of `redis-benchmark --csv`. */
export interface RedisCsvRow {
  /** The test as redis-benchmark names it (`SET`, `PING_MBULK`, ...). */
  readonly test: string
  readonly opsPerSec: number
  readonly avgMs: number
  readonly p50Ms: number
  readonly p99Ms: number
}

/** Splits one CSV line of quoted fields (redis-benchmark quotes every field; `""` is a quote inside one). */
const csvFields = (line: string): Array<string> => {
  const out: Array<string> = []
  let i = 0
  while (i < line.length) {
    if (line[i] === '"') {
      let field = ""
      i++
      for (;;) {
        if (i >= line.length) throw new Error(`unterminated quoted field: ${line}`)
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"'
            i += 2
            continue
          }
          i++
          break
        }
        field += line[i++]
      }
      out.push(field)
    } else {
      const end = line.indexOf(",", i)
      out.push(line.slice(i, end < 0 ? line.length : end))
      i = end < 0 ? line.length : end
    }
    if (line[i] === ",") {
      i++
      if (i === line.length) out.push("")
    }
  }
  return out
}

/**
 * Parses `redis-benchmark --csv`: a header line (`"test","rps","avg_latency_ms",...,"p50_latency_ms",...,
 * "p99_latency_ms",...`) and one line per test. Columns are found by their header name, so the older two-column
 * form (`"test","rps"` with no header, Redis 5 and 6.0) is read too, without latencies (NaN).
 */
export const parseRedisCsv = (text: string): Array<RedisCsvRow> => {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== "")
  if (lines.length === 0) return []
  const first = csvFields(lines[0]!)
  const hasHeader = first.includes("test") && first.includes("rps")
  const header = hasHeader ? first : ["test", "rps"]
  const col = (name: string) => header.indexOf(name)
  const num = (fields: ReadonlyArray<string>, name: string) => {
    const i = col(name)
    return i < 0 || fields[i] === undefined ? Number.NaN : Number(fields[i])
  }
  return lines.slice(hasHeader ? 1 : 0).map((line) => {
    const f = csvFields(line)
    const row = {
      test: f[col("test")] ?? "",
      opsPerSec: num(f, "rps"),
      avgMs: num(f, "avg_latency_ms"),
      p50Ms: num(f, "p50_latency_ms"),
      p99Ms: num(f, "p99_latency_ms")
    }
    if (row.test === "" || !Number.isFinite(row.opsPerSec)) throw new Error(`not a redis-benchmark CSV line: ${line}`)
    return row
  })
}

/**
 * The redis-benchmark test that matches a matrix command, or undefined (SESSION has no Redis equivalent). PING
 * is the multi-bulk form, as a client library sends it.
 */
export const redisTestOf = (test: TestName): { readonly arg: string; readonly csvName: string } | undefined => {
  switch (test) {
    case "ping":
      return { arg: "ping_mbulk", csvName: "PING_MBULK" }
    case "set":
      return { arg: "set", csvName: "SET" }
    case "get":
      return { arg: "get", csvName: "GET" }
    case "incr":
      return { arg: "incr", csvName: "INCR" }
    case "session":
      return undefined
  }
}

/** The arguments of one redis-benchmark run (a 3-byte value and random keys among `keyspace`, as the matrix). */
export const redisBenchmarkArgs = (o: {
  readonly port: number
  readonly test: string
  readonly connections: number
  readonly pipeline: number
  readonly requests: number
  readonly dataSize: number
  readonly keyspace: number
}): Array<string> => [
  "-h",
  "127.0.0.1",
  "-p",
  String(o.port),
  "-c",
  String(o.connections),
  "-P",
  String(o.pipeline),
  "-n",
  String(o.requests),
  "-d",
  String(o.dataSize),
  "-r",
  String(o.keyspace),
  "-t",
  o.test,
  "--csv"
]

/** The path of `name` on PATH, or undefined. */
export const which = (name: string): string | undefined => {
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { encoding: "utf8" }).trim() || undefined
  } catch {
    return undefined
  }
}

/** A free loopback port (the kernel's choice for a socket that is closed at once). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const a = s.address()
      const port = typeof a === "object" && a !== null ? a.port : 0
      s.close(() => resolve(port))
    })
  })

/** redis-server on `port`, loopback only, nothing saved or logged to disk. */
export const redisSpec = (server: string, port: number): TargetSpec => ({
  name: "Redis",
  command: server,
  args: [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
    "--protected-mode",
    "yes",
    "--daemonize",
    "no",
    "--loglevel",
    "notice"
  ],
  gcDone: /(?!)/,
  fixedPort: { port, ready: /Ready to accept connections/ }
})

/** Runs redis-benchmark once and returns its row for `csvName`. */
export const runRedisBenchmark = (
  benchmark: string,
  args: ReadonlyArray<string>,
  csvName: string,
  timeoutMs: number
): Promise<RedisCsvRow> =>
  new Promise((resolve, reject) => {
    execFile(benchmark, [...args], { encoding: "utf8", timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error !== null) return reject(new Error(`redis-benchmark failed: ${error.message}\n${stderr}`))
      try {
        const row = parseRedisCsv(stdout).find((r) => r.test === csvName)
        if (row === undefined) return reject(new Error(`redis-benchmark printed no ${csvName} row:\n${stdout}`))
        resolve(row)
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)))
      }
    })
  })

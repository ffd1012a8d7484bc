import { connect } from "node:net"
import { describe, expect, it } from "vitest"
import {
  freePort,
  parseRedisCsv,
  redisBenchmarkArgs,
  redisSpec,
  redisTestOf,
  runRedisBenchmark,
  which
} from "../../src/bench/redis.js"
import { startTarget } from "../../src/bench/target.js"

// What redis-benchmark 7.0 prints with --csv (copied from a run).
const CSV7 = `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
"PING_MBULK","588235.25","0.974","0.032","0.431","4.223","5.335","5.399"
"SET","500000.00","1.510","0.136","0.815","6.063","7.911","7.975"
"GET","454545.47","1.588","0.120","0.735","4.439","6.527","6.583"
`

describe("parseRedisCsv", () => {
  it("reads redis-benchmark 7's CSV by column name", () => {
    expect(parseRedisCsv(CSV7)).toEqual([
      { test: "PING_MBULK", opsPerSec: 588235.25, avgMs: 0.974, p50Ms: 0.431, p99Ms: 5.335 },
      { test: "SET", opsPerSec: 500000, avgMs: 1.51, p50Ms: 0.815, p99Ms: 7.911 },
      { test: "GET", opsPerSec: 454545.47, avgMs: 1.588, p50Ms: 0.735, p99Ms: 6.527 }
    ])
  })

  it("finds the columns wherever they are, and reads the older header-less two-column form", () => {
    const reordered = `"rps","test","p99_latency_ms","p50_latency_ms"\r\n"100.5","SET","2.5","1.5"\r\n`
    expect(parseRedisCsv(reordered)).toEqual([{ test: "SET", opsPerSec: 100.5, avgMs: NaN, p50Ms: 1.5, p99Ms: 2.5 }])
    expect(parseRedisCsv(`"SET","1234.00"\n"GET","99"\n`)).toEqual([
      { test: "SET", opsPerSec: 1234, avgMs: NaN, p50Ms: NaN, p99Ms: NaN },
      { test: "GET", opsPerSec: 99, avgMs: NaN, p50Ms: NaN, p99Ms: NaN }
    ])
    expect(parseRedisCsv("\n\n")).toEqual([])
  })

  it("handles quotes inside fields and unquoted fields", () => {
    expect(parseRedisCsv(`"test","rps"\n"LRANGE ""x""",12\n`)).toEqual([
      { test: 'LRANGE "x"', opsPerSec: 12, avgMs: NaN, p50Ms: NaN, p99Ms: NaN }
    ])
  })

  it("refuses what is not its output", () => {
    expect(() => parseRedisCsv(`"test","rps"\n"SET","fast"\n`)).toThrow(/not a redis-benchmark CSV line/)
    expect(() => parseRedisCsv(`"test","rps"\n"SET,1\n`)).toThrow(/unterminated/)
  })
})

describe("the Redis side of a cell", () => {
  it("maps the matrix's commands to redis-benchmark tests (SESSION has none)", () => {
    expect(redisTestOf("ping")).toEqual({ arg: "ping_mbulk", csvName: "PING_MBULK" })
    expect(redisTestOf("incr")?.csvName).toBe("INCR")
    expect(redisTestOf("session")).toBeUndefined()
  })

  it("gives redis-benchmark the cell's connections, pipeline, value size and keyspace", () => {
    expect(
      redisBenchmarkArgs({
        port: 7000,
        test: "set",
        connections: 50,
        pipeline: 16,
        requests: 1000,
        dataSize: 3,
        keyspace: 100000
      })
    ).toEqual([
      "-h",
      "127.0.0.1",
      "-p",
      "7000",
      "-c",
      "50",
      "-P",
      "16",
      "-n",
      "1000",
      "-d",
      "3",
      "-r",
      "100000",
      "-t",
      "set",
      "--csv"
    ])
  })

  const server = which("redis-server")
  const benchmark = which("redis-benchmark")
  it.skipIf(server === undefined || benchmark === undefined)(
    "starts redis-server on a free port, measures it with redis-benchmark, and stops it",
    async () => {
      const port = await freePort()
      const t = await startTarget(redisSpec(server!, port), 20_000)
      try {
        expect(t.port).toBe(port)
        const row = await runRedisBenchmark(
          benchmark!,
          redisBenchmarkArgs({
            port,
            test: "set",
            connections: 4,
            pipeline: 4,
            requests: 2000,
            dataSize: 3,
            keyspace: 100
          }),
          "SET",
          30_000
        )
        expect(row.test).toBe("SET")
        expect(row.opsPerSec).toBeGreaterThan(0)
        expect(t.cpuSeconds()).toBeGreaterThanOrEqual(0)
      } finally {
        await t.stop()
      }
      // Stopped: nothing listens there any more.
      await expect(
        new Promise((resolve, reject) => {
          const socket = connect(port, "127.0.0.1", () => {
            socket.destroy()
            resolve("connected")
          })
          socket.once("error", reject)
        })
      ).rejects.toThrow(/ECONNREFUSED/)
    },
    60_000
  )
})

import { describe, expect, it } from "vitest"
import {
  type BenchRun,
  type CellRun,
  chartOf,
  type Memory,
  renderPersistence,
  renderReport
} from "../../src/bench/benchReport.js"
import type { LoadResult } from "../../src/bench/load.js"
import { ErrorTally, Histogram } from "../../src/bench/stats.js"
import type { TestName } from "../../src/bench/workload.js"

const run = (test: TestName, ops: number, cpuUs: number, latencyMs: number, errors: Array<string> = []): CellRun => {
  const h = new Histogram()
  h.record(latencyMs * 1e6)
  const tally = new ErrorTally()
  for (const e of errors) tally.add(e)
  const result: LoadResult = {
    test,
    label: test.toUpperCase(),
    connections: 50,
    pipeline: 1,
    dataSize: 3,
    sent: ops,
    received: ops,
    measured: ops,
    elapsedS: 1,
    opsPerSec: ops,
    latencyNs: h.toData(),
    errors: tally.toData(),
    stopReason: "duration"
  }
  return { result, cpuUsPerRequest: cpuUs }
}

const memory = (o: Partial<Memory> = {}): Memory => ({
  idleRss: 50 * 1048576,
  bytesPerKey: 250,
  bytesPerConnection: 12 * 1024,
  steadyBytesPerConnection: undefined,
  keyErrors: new ErrorTally(),
  peakRss: 200 * 1048576,
  endRss: 150 * 1048576,
  ...o
})

const base = (cells: BenchRun["cells"], mem: ReadonlyArray<Memory> = [memory(), memory()]): BenchRun => ({
  title: "T",
  context: ["C"],
  keys: 1000,
  idleConnections: 100,
  steadySeconds: 25,
  cells,
  memory: mem
})

const rowsOf = (md: string) =>
  md.split("\n").filter((l) => /^\| (PING|SET|GET|SESSION|NUM\.INCR|idle|RSS|the same) /.test(l))

describe("renderReport", () => {
  it("takes medians over rounds and judges ops/s and CPU ratios against the targets", () => {
    const { markdown, failures } = renderReport(
      base([
        // ours: medians 95,000 ops/s and 10 us; baseline 100,000 and 9: ratio 0.95 >= 0.9, CPU 1.11 <= 1.25.
        {
          test: "ping",
          pipeline: 1,
          runs: [
            [run("ping", 95_000, 10, 0.5), run("ping", 10_000, 99, 9), run("ping", 96_000, 9, 0.6)],
            [run("ping", 100_000, 9, 0.4), run("ping", 101_000, 9, 0.4), run("ping", 99_000, 8, 0.4)]
          ]
        },
        // ratio 0.85 < 0.9 at pipeline 16; CPU 2.0 > 1.25.
        { test: "set", pipeline: 16, runs: [[run("set", 85_000, 4, 2)], [run("set", 100_000, 2, 1)]] },
        // NUM.INCR at pipeline 1 has the same target as the others; a wrong reply is an error.
        { test: "incr", pipeline: 1, runs: [[run("incr", 10, 1, 1, ["NUM.INCR: boom"])], [run("incr", 100, 1, 1)]] }
      ])
    )
    expect(rowsOf(markdown).slice(0, 3)).toEqual([
      "| PING | 1 | 95,000 | 100,000 | 0.95 | >= 0.9 | 0.60 / 0.60 | 0.40 / 0.40 | 10.00 | 9.00 | 1.11 | 0 | PASS |",
      "| SET | 16 | 85,000 | 100,000 | 0.85 | >= 0.9 | 2.00 / 2.00 | 1.00 / 1.00 | 4.00 | 2.00 | 2.00 | 0 | FAIL (ops, cpu) |",
      "| NUM.INCR | 1 | 10 | 100 | 0.10 | >= 0.9 | 1.00 / 1.00 | 1.00 / 1.00 | 1.00 | 1.00 | 1.00 | 1 | FAIL (ops, errors) |"
    ])
    expect(markdown).toContain("- fleare-ts NUM.INCR P=1: 1 x NUM.INCR: boom")
    expect(failures).toBe(2)
    expect(markdown).toContain("Result: 2 row(s) FAIL.")
  })

  it("judges memory against the targets and voids the per-key figure when loading had errors", () => {
    const errors = new ErrorTally()
    errors.add("SET: Error full")
    const { markdown, failures } = renderReport(
      base([], [memory({ idleRss: 81 * 1048576, keyErrors: errors, bytesPerConnection: 14 * 1024 }), memory()])
    )
    expect(rowsOf(markdown)).toEqual([
      "| idle RSS after start | 81.0 MB | 50.0 MB | <= 80.0 MB | FAIL |",
      "| RSS growth per key (1,000 keys x 100 B, SET pipelined, after GC; coarse below 1,000,000 keys) | 250 B | 250 B | <= 260 B | FAIL |",
      "| RSS growth per idle authenticated connection (100, 1 s after connecting, after GC) | 14.0 KB | 12.0 KB | <= 14.0 KB | PASS |"
    ])
    expect(markdown).toContain("- fleare-ts key loading: 1 x SET: Error full")
    expect(failures).toBe(2)
  })

  it("adds the steady-state connection row when it was measured, judged against the same target", () => {
    const steady = (kb: number) => memory({ bytesPerConnection: 23 * 1024, steadyBytesPerConnection: kb * 1024 })
    const { markdown, failures } = renderReport(base([], [steady(6), steady(8)]))
    expect(rowsOf(markdown).slice(2)).toEqual([
      "| RSS growth per idle authenticated connection (100, 1 s after connecting, after GC) | 23.0 KB | 23.0 KB | <= 14.0 KB | FAIL |",
      "| the same at steady state (fresh process; before and after: 25 s idle, then GC) | 6.0 KB | 8.0 KB | <= 14.0 KB | PASS |"
    ])
    expect(failures).toBe(1)
    expect(renderReport(base([], [steady(15), steady(8)])).failures).toBe(2)
  })

  it("without a baseline, reports fleare-ts alone with no ratios", () => {
    const { markdown, failures } = renderReport(
      base([{ test: "get", pipeline: 1, runs: [[run("get", 5000, 3, 1)]] }], [memory()])
    )
    expect(rowsOf(markdown)[0]).toBe("| GET | 1 | 5,000 | - | - | >= 0.9 | 1.00 / 1.00 | - | 3.00 | - | - | 0 | n/a |")
    expect(failures).toBe(0)
    expect(markdown).toContain("Result: all PASS.")
  })
})

describe("the limited configuration's rows", () => {
  it("judge the limited server against the baseline and against no limit (SET and GET may lose at most 10 %)", () => {
    const { markdown, failures } = renderReport({
      ...base(
        [
          // limited 92k vs baseline 100k (0.92) and vs no limit 95k (0.97): PASS
          {
            test: "set",
            pipeline: 1,
            runs: [[run("set", 95_000, 5, 1)], [run("set", 100_000, 5, 1)]],
            limited: [run("set", 92_000, 5, 1)]
          },
          // limited 91k vs baseline 100k (0.91) but vs no limit 120k (0.76): the limit costs too much
          {
            test: "get",
            pipeline: 16,
            runs: [[run("get", 120_000, 5, 1)], [run("get", 100_000, 5, 1)]],
            limited: [run("get", 91_000, 5, 1)]
          },
          // PING has no limit-cost target; 0.85 of the baseline fails the matrix target
          {
            test: "ping",
            pipeline: 16,
            runs: [[run("ping", 100_000, 5, 1)], [run("ping", 100_000, 5, 1)]],
            limited: [run("ping", 85_000, 5, 1)]
          }
        ],
        []
      ),
      limited: "memory.max_size_mb: 1024, eviction_policy: LRU"
    })
    expect(markdown).toContain("With a memory limit (memory.max_size_mb: 1024, eviction_policy: LRU)")
    const rows = markdown
      .split("\n")
      .filter((l) => /^\| (SET|GET|PING) \| \d+ \| [\d,]+ \| [\d,]+ \| [\d.]+ \| >= 0.9 \| [\d,]+ \|/.test(l))
    expect(rows).toEqual([
      "| SET | 1 | 92,000 | 100,000 | 0.92 | >= 0.9 | 95,000 | 0.97 | >= 0.9 | 1.00 / 1.00 | 5.00 | 1.00 | 0 | PASS |",
      "| GET | 16 | 91,000 | 100,000 | 0.91 | >= 0.9 | 120,000 | 0.76 | >= 0.9 | 1.00 / 1.00 | 5.00 | 1.00 | 0 | FAIL (limit cost) |",
      "| PING | 16 | 85,000 | 100,000 | 0.85 | >= 0.9 | 100,000 | 0.85 | - | 1.00 / 1.00 | 5.00 | 1.00 | 0 | FAIL (ops) |"
    ])
    // No memory measured: no memory table.
    expect(markdown).not.toContain("| memory |")
    expect(failures).toBe(2)
  })

  it("the Redis rows are informative: medians, ratios of ours and the baseline to Redis, no verdict", () => {
    const { markdown, failures } = renderReport(
      base(
        [
          {
            test: "get",
            pipeline: 1,
            runs: [[run("get", 50_000, 5, 1)], [run("get", 60_000, 5, 1)]],
            redis: [
              { opsPerSec: 90_000, p50Ms: 0.2, p99Ms: 2, cpuUsPerRequest: 3 },
              { opsPerSec: 100_000, p50Ms: 0.3, p99Ms: 3, cpuUsPerRequest: 4 },
              { opsPerSec: 110_000, p50Ms: 0.4, p99Ms: 4, cpuUsPerRequest: 5 }
            ]
          },
          { test: "session", pipeline: 1, runs: [[run("session", 50_000, 5, 1)], [run("session", 50_000, 5, 1)]] }
        ],
        []
      )
    )
    expect(markdown).toContain("| GET | 1 | 100,000 | 0.30 / 3.00 | 4.00 | 0.50 | 0.60 |")
    expect(markdown).not.toMatch(/\| SESSION \| 1 \| [\d,]+ \| [\d.]+ \/ /)
    expect(failures).toBe(1) // GET at 0.83 of the baseline; Redis adds none
  })
})

describe("the persistence rows", () => {
  it("show fsync always and everysec against persistence off; only always at 50 connections has a target", () => {
    const { markdown, failures } = renderPersistence([
      { connections: 50, off: [100, 110, 90], always: [40, 20, 50], everysec: [95, 90, 99], errors: 0 },
      { connections: 1, off: [30], always: [3], everysec: [29], errors: 0 }
    ])
    expect(markdown).toContain("| SET | 50 | 100 | 40 | 0.40 | >= 0.3 | 95 | 0.95 | 0 | PASS |")
    expect(markdown).toContain("| SET | 1 | 30 | 3 | 0.10 | - | 29 | 0.97 | 0 | PASS |")
    expect(failures).toBe(0)
    const low = renderPersistence([{ connections: 50, off: [100], always: [20], everysec: [90], errors: 0 }])
    expect(low.markdown).toContain("| FAIL |")
    expect(low.failures).toBe(1)
  })
})

describe("chartOf", () => {
  it("has one panel per pipeline and one bar per measured series, missing ones undefined", () => {
    const chart = chartOf(
      {
        ...base(
          [
            {
              test: "set",
              pipeline: 1,
              runs: [[run("set", 10, 1, 1), run("set", 30, 1, 1), run("set", 20, 1, 1)], [run("set", 40, 1, 1)]],
              limited: [run("set", 15, 1, 1)],
              redis: [{ opsPerSec: 70, p50Ms: 1, p99Ms: 1, cpuUsPerRequest: 1 }]
            },
            { test: "session", pipeline: 1, runs: [[run("session", 5, 1, 1)], [run("session", 6, 1, 1)]] },
            { test: "set", pipeline: 16, runs: [[run("set", 100, 1, 1)], [run("set", 200, 1, 1)]] }
          ],
          []
        ),
        limited: "1024 MB + LRU"
      },
      "T"
    )
    expect(chart.series.map((s) => s.name)).toEqual([
      "fleare-ts",
      "fleare-ts, 1024 MB + LRU",
      "baseline (bare Node)",
      "Redis 7 (redis-benchmark)"
    ])
    expect(chart.panels.map((p) => p.title)).toEqual(["pipeline 1", "pipeline 16"])
    expect(chart.panels[0]!.groups).toEqual([
      { label: "SET", values: [20, 15, 40, 70] },
      { label: "SESSION", values: [5, undefined, 6, undefined] }
    ])
    expect(chart.panels[1]!.groups).toEqual([{ label: "SET", values: [100, undefined, 200, undefined] }])
  })
})

import { describe, expect, it } from "vitest"
import { type BenchRun, type CellRun, type Memory, renderReport } from "../../src/bench/benchReport.js"
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
        // ratio 0.7 < 0.8 at pipeline 16; CPU 2.0 > 1.25.
        { test: "set", pipeline: 16, runs: [[run("set", 70_000, 4, 2)], [run("set", 100_000, 2, 1)]] },
        // NUM.INCR at pipeline 1 has no ops/s target, only the CPU one; a wrong reply is an error.
        { test: "incr", pipeline: 1, runs: [[run("incr", 10, 1, 1, ["NUM.INCR: boom"])], [run("incr", 100, 1, 1)]] }
      ])
    )
    expect(rowsOf(markdown).slice(0, 3)).toEqual([
      "| PING | 1 | 95,000 | 100,000 | 0.95 | >= 0.9 | 0.60 / 0.60 | 0.40 / 0.40 | 10.00 | 9.00 | 1.11 | 0 | PASS |",
      "| SET | 16 | 70,000 | 100,000 | 0.70 | >= 0.8 | 2.00 / 2.00 | 1.00 / 1.00 | 4.00 | 2.00 | 2.00 | 0 | FAIL (ops, cpu) |",
      "| NUM.INCR | 1 | 10 | 100 | 0.10 | - | 1.00 / 1.00 | 1.00 / 1.00 | 1.00 | 1.00 | 1.00 | 1 | FAIL (errors) |"
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

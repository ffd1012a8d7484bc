/**
 * The crash test (crashHarness.ts) with compaction forced to run again and again during the writes: a small
 * `rewrite_min_bytes` and a 20% growth threshold make the log rewrite itself many times per round, so kills
 * land before, during and after the switch to the new file.
 */
import { describe, expect, it } from "vitest"
import { crashRounds } from "./crashHarness.js"

describe("crash safety with compaction running (fsync: always)", () => {
  it("SIGKILL during compactions loses no acknowledged write and shows no partial state, over 20 rounds", async () => {
    const report = await crashRounds(20, ", rewrite_min_bytes: 32768, rewrite_percentage: 20")
    expect(report.acknowledged).toBeGreaterThan(1000)
    expect(report.compactions).toBeGreaterThan(20)
  }, 240_000)
})

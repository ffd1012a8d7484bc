/**
 * Crash safety of `fsync: always`: 20 rounds of writes from 4 connections, each ended by SIGKILL at a random
 * moment, then a restart that must show every acknowledged write and no partial state (see crashHarness.ts).
 */
import { describe, expect, it } from "vitest"
import { crashRounds } from "./crashHarness.js"

describe("crash safety (fsync: always)", () => {
  it("SIGKILL at random moments loses no acknowledged write and shows no partial state, over 20 rounds", async () => {
    const report = await crashRounds(20, "")
    expect(report.acknowledged).toBeGreaterThan(1000)
    expect(report.compactions).toBe(0)
  }, 240_000)
})

import { describe, expect, it } from "@effect/vitest"
import { startNodeOptions } from "../../src/bench/startScript.js"

describe("the start script the bench reads", () => {
  it("finds the node options before the bundle", () => {
    expect(startNodeOptions("node scripts/transpile.mjs && node dist/fleare-server.mjs")).toEqual([])
    expect(
      startNodeOptions(
        "node scripts/transpile.mjs && node --max-semi-space-size=2 --stack-size=900 dist/fleare-server.mjs"
      )
    ).toEqual(["--max-semi-space-size=2", "--stack-size=900"])
  })

  it("refuses a start script that does not run the bundle, so the bench cannot measure something else", () => {
    expect(() => startNodeOptions("tsx src/main.ts")).toThrow(/does not run node/)
  })

  it("reads package.json's own start script", () => {
    expect(Array.isArray(startNodeOptions())).toBe(true)
  })
})

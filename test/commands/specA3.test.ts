/**
 * SPEC A.3's odd corners that issue 12 item 6 pins down, over TCP with exact replies: a push of nothing onto a
 * missing key stores JSON `null` (as Fleare does), non-finite numbers are refused, and `JSON.MERGE k null` on a
 * missing key stores the document `null`.
 */
import { describe, it } from "@effect/vitest"
import { err, ok, useServerAndClient } from "../support/commandTests.js"

const { c } = useServerAndClient()

describe("SPEC A.3", () => {
  it("LIST.PUSH k with no values on a missing key stores JSON null", async () => {
    ok(await c.call("LIST.PUSH", "a3-list"), "0")
    ok(await c.call("GET", "a3-list"), "null")
    ok(await c.call("MAP.GET", "a3-list", "f"), "")
    ok(await c.call("LIST.LEN", "a3-list"), "0")
    ok(await c.call("LIST.POP", "a3-list"), "")
    ok(await c.call("GET", "a3-list"), "null")
  })

  it("NUM.SET / NUM.INCR / NUM.DECR with NaN, Inf or Infinity answer the invalid-number error", async () => {
    const NOT_A_NUMBER = "InvalidValueError: provided value is not a valid number"
    for (const bad of ["NaN", "Inf", "-Inf", "Infinity"]) {
      err(await c.call("NUM.SET", "a3-num", bad), NOT_A_NUMBER)
      err(await c.call("NUM.INCR", "a3-num", bad), NOT_A_NUMBER)
      err(await c.call("NUM.DECR", "a3-num", bad), NOT_A_NUMBER)
    }
    ok(await c.call("GET", "a3-num"), "")
  })

  it("JSON.MERGE k null on a missing key answers null and stores the document null", async () => {
    ok(await c.call("JSON.MERGE", "a3-json", "null"), "null")
    ok(await c.call("GET", "a3-json"), "null")
    ok(await c.call("JSON.GET", "a3-json"), "null")
    ok(await c.call("JSON.GET", "a3-json", ""), "null")
  })
})

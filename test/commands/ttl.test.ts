import { describe, expect, it } from "@effect/vitest"
import { MAX_DURATION_SECONDS, parseDurationSeconds } from "../../src/commands/duration.js"
import { err, ok, useServerAndClient } from "../support/commandTests.js"

const KEYERR = "InvalidKeyError: invalid key, must be a string and at least 1 to 200 characters long"
const TTL_ARGS = "InvalidArgumentError: Key must be provided"
const EXPIRE_ARGS =
  "InvalidArgumentError: Key and time must be provided, default seconds, Syntax: TTL.EXPIRE <key> <seconds[s]|minutes[m]|hours[h]|days[d]>"
const BAD_TIME = "InvalidArgumentError: Invalid time value provided"

const { c } = useServerAndClient()

describe("TTL", () => {
  it("answers -2 for a missing key and -1 for a key without expiry, with the client id", async () => {
    const r = await c.call("TTL", "ttl:missing")
    ok(r, "-2")
    expect(r.clientId).toMatch(/^\d+-127\.0\.0\.1:\d+$/)
    ok(await c.call("SET", "ttl:plain", "v"), "")
    ok(await c.call("TTL", "ttl:plain"), "-1")
  })

  it("needs exactly one valid key", async () => {
    err(await c.call("TTL"), TTL_ARGS)
    err(await c.call("TTL", "a", "b"), TTL_ARGS)
    err(await c.call("TTL", ""), KEYERR)
    err(await c.call("TTL", "k".repeat(201)), KEYERR)
  })
})

describe("TTL.EXPIRE", () => {
  it("sets the expiry: TTL answers the whole seconds given, right after", async () => {
    ok(await c.call("SET", "exp:a", "v"), "")
    const r = await c.call("TTL.EXPIRE", "exp:a", "10")
    ok(r, "1")
    expect(r.clientId).not.toBe("")
    ok(await c.call("TTL", "exp:a"), "10")
    ok(await c.call("GET", "exp:a"), "v")
  })

  it("accepts N, Ns, Nm, Nh and Nd", async () => {
    ok(await c.call("SET", "exp:units", "v"), "")
    const cases: Array<[string, string]> = [
      ["10s", "10"],
      ["2m", "120"],
      ["2h", "7200"],
      ["1d", "86400"],
      ["007", "7"],
      ["+5", "5"],
      ["3600", "3600"]
    ]
    for (const [duration, seconds] of cases) {
      ok(await c.call("TTL.EXPIRE", "exp:units", duration), "1")
      ok(await c.call("TTL", "exp:units"), seconds)
    }
  })

  it("0 or a negative duration removes the expiry", async () => {
    ok(await c.call("SET", "exp:zero", "v"), "")
    ok(await c.call("TTL.EXPIRE", "exp:zero", "100"), "1")
    ok(await c.call("TTL.EXPIRE", "exp:zero", "0"), "1")
    ok(await c.call("TTL", "exp:zero"), "-1")
    ok(await c.call("TTL.EXPIRE", "exp:zero", "100"), "1")
    ok(await c.call("TTL.EXPIRE", "exp:zero", "-5s"), "1")
    ok(await c.call("TTL", "exp:zero"), "-1")
    ok(await c.call("GET", "exp:zero"), "v")
  })

  it("answers 0 for a missing key", async () => {
    ok(await c.call("TTL.EXPIRE", "exp:missing", "10"), "0")
    ok(await c.call("TTL", "exp:missing"), "-2")
    ok(await c.call("EXISTS", "exp:missing"), "0")
  })

  it("any overwrite clears the expiry", async () => {
    ok(await c.call("SET", "exp:over", "v1"), "")
    ok(await c.call("TTL.EXPIRE", "exp:over", "100"), "1")
    ok(await c.call("TTL", "exp:over"), "100")
    ok(await c.call("SET", "exp:over", "v2"), "")
    ok(await c.call("TTL", "exp:over"), "-1")
  })

  it("argument errors; the duration is checked before the key", async () => {
    err(await c.call("TTL.EXPIRE"), EXPIRE_ARGS)
    err(await c.call("TTL.EXPIRE", "exp:a"), EXPIRE_ARGS)
    err(await c.call("TTL.EXPIRE", "exp:a", "10", "s"), EXPIRE_ARGS)
    for (const bad of ["abc", "", "10x", "1.5h", "10ms", " 10", "10 ", "1d2", "s", "1e3", "0x10", "--1", "10S"])
      err(await c.call("TTL.EXPIRE", "exp:a", bad), BAD_TIME)
    err(await c.call("TTL.EXPIRE", "", "abc"), BAD_TIME)
    err(await c.call("TTL.EXPIRE", "", "10"), KEYERR)
    err(await c.call("TTL.EXPIRE", "k".repeat(201), "10"), KEYERR)
  })

  it("a duration beyond Go's time.Duration range is not a valid time", async () => {
    ok(await c.call("SET", "exp:far", "v"), "")
    ok(await c.call("TTL.EXPIRE", "exp:far", String(MAX_DURATION_SECONDS)), "1")
    ok(await c.call("TTL", "exp:far"), String(MAX_DURATION_SECONDS))
    err(await c.call("TTL.EXPIRE", "exp:far", String(MAX_DURATION_SECONDS + 1n)), BAD_TIME)
    err(await c.call("TTL.EXPIRE", "exp:far", "106752d"), BAD_TIME)
    err(await c.call("TTL.EXPIRE", "exp:far", "9".repeat(100)), BAD_TIME)
  })

  it("an expired key is gone for GET, TTL, EXISTS and TTL.EXPIRE (real time)", async () => {
    ok(await c.call("SET", "exp:tmp", "v"), "")
    ok(await c.call("SET", "exp:tmp2", "v"), "")
    ok(await c.call("TTL.EXPIRE", "exp:tmp", "1"), "1")
    ok(await c.call("TTL.EXPIRE", "exp:tmp2", "1"), "1")
    await new Promise((resolve) => setTimeout(resolve, 1100))
    ok(await c.call("GET", "exp:tmp"), "")
    ok(await c.call("TTL", "exp:tmp"), "-2")
    ok(await c.call("EXISTS", "exp:tmp", "exp:tmp2"), "0")
    ok(await c.call("TTL.EXPIRE", "exp:tmp2", "10"), "0")
  })
})

describe("duration parser", () => {
  it("reads N, Ns, Nm, Nh, Nd with a sign, in seconds", () => {
    expect(parseDurationSeconds("15")).toBe(15n)
    expect(parseDurationSeconds("15s")).toBe(15n)
    expect(parseDurationSeconds("15m")).toBe(900n)
    expect(parseDurationSeconds("15h")).toBe(54000n)
    expect(parseDurationSeconds("15d")).toBe(1296000n)
    expect(parseDurationSeconds("-2m")).toBe(-120n)
    expect(parseDurationSeconds("0")).toBe(0n)
    expect(parseDurationSeconds("1w")).toBeUndefined()
    expect(parseDurationSeconds(`-${MAX_DURATION_SECONDS + 1n}`)).toBeUndefined()
  })
})

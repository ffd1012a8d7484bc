import { describe, expect, it } from "@effect/vitest"
import type { WireReply } from "../support/wire.js"
import { WireClient } from "../support/wire.js"
import { err, ok, useServerAndClient } from "../support/commandTests.js"

const KEYERR = "InvalidKeyError: invalid key, must be a string and at least 1 to 200 characters long"
const NO_KEY = "InvalidKeyError: Key must be provided"
const ARITY = "InvalidArgumentError: invalid number of arguments"
const NOT_A_NUMBER = "InvalidValueError: provided value is not a valid number"
const MUST_BE_NUMBER = "InvalidValueError: the existing value for the provided key must be a number"

const { server, c } = useServerAndClient()

/** True when another family's command (SET, GET, TTL.EXPIRE...) is not in the table yet. */
const unknown = (r: WireReply) => r.result.startsWith("InvalidCommandError")

describe("NUM.SET / NUM.GET", () => {
  it("stores a number and returns it, with the client id", async () => {
    const r = await c.call("NUM.SET", "n:get", "42")
    ok(r, "")
    expect(r.clientId).toMatch(/^\d+-127\.0\.0\.1:\d+$/)
    const g = await c.call("NUM.GET", "n:get")
    ok(g, "42")
    expect(g.clientId).toBe(r.clientId)
    ok(await c.call("NUM.SET", "n:get", "11.993400032"), "")
    ok(await c.call("NUM.GET", "n:get"), "11.993400032")
  })

  it("formats as Go's JSON of a float64", async () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ["007", "7"],
      ["43.5", "43.5"],
      ["+5", "5"],
      [".5", "0.5"],
      ["5.", "5"],
      ["-12", "-12"],
      ["1e21", "1e+21"],
      ["1000000000000000000000", "1e+21"],
      ["1e20", "100000000000000000000"],
      ["123456789012345678", "123456789012345680"],
      ["9223372036854775807", "9223372036854776000"],
      ["0.000001", "0.000001"],
      ["1e-7", "1e-7"],
      ["-2.5E-3", "-0.0025"],
      ["-0", "0"], // ParseInt first: integer zero
      ["-0.0", "-0"], // ParseFloat: negative zero, which Go's JSON writes as -0
      ["1e-400", "0"], // underflow is not an error in Go
      ["1.7976931348623157e308", "1.7976931348623157e+308"],
      ["1_000", "1000"], // Go float syntax allows digit separators
      ["1_000.25", "1000.25"],
      ["0x1p4", "16"], // and hex floats with a binary exponent
      ["0x1.8p1", "3"]
    ]
    for (const [input, expected] of cases) {
      ok(await c.call("NUM.SET", "n:fmt", input), "")
      const r = await c.call("NUM.GET", "n:fmt")
      expect({ input, status: r.status, result: r.result }).toEqual({ input, status: "Ok", result: expected })
    }
  })

  it("refuses what is not a finite number, and leaves the value unchanged", async () => {
    ok(await c.call("NUM.SET", "n:bad", "1"), "")
    const bad = [
      "abc",
      "",
      " 1",
      "1 ",
      "12abc",
      "1,5",
      "0x1A",
      "0b1",
      "1__0",
      "1_",
      "_1",
      "--1",
      "1e400", // Go's ParseFloat: range error
      "-1e400",
      // Go's ParseFloat accepts these, but json.Marshal cannot write them: fleare-ts refuses them
      "NaN",
      "nan",
      "Inf",
      "+Inf",
      "-Inf",
      "inf",
      "infinity",
      "Infinity",
      "-INFINITY"
    ]
    for (const v of bad) {
      const r = await c.call("NUM.SET", "n:bad", v)
      expect({ v, status: r.status, result: r.result }).toEqual({ v, status: "Error", result: NOT_A_NUMBER })
    }
    ok(await c.call("NUM.GET", "n:bad"), "1")
  })

  it("NUM.GET on a missing key answers an empty result (A.3; Fleare crashed)", async () => {
    ok(await c.call("NUM.GET", "n:missing"), "")
    ok(await c.call("PING"), "PONG ")
  })

  it("NUM.SET overwrites a key of another kind", async () => {
    ok(await c.call("STR.SET", "n:wasstr", "hello"), "")
    ok(await c.call("NUM.SET", "n:wasstr", "5"), "")
    ok(await c.call("NUM.GET", "n:wasstr"), "5")
    ok(await c.call("NUM.INCR", "n:wasstr"), "6")
  })

  it("argument errors, in Fleare's order", async () => {
    err(await c.call("NUM.SET"), NO_KEY)
    err(await c.call("NUM.SET", "k"), ARITY)
    err(await c.call("NUM.SET", "k", "1", "2"), ARITY)
    err(await c.call("NUM.SET", "", "1"), KEYERR)
    err(await c.call("NUM.SET", "", "abc"), KEYERR) // the key before the value
    err(await c.call("NUM.SET", "x".repeat(201), "1"), KEYERR)
    ok(await c.call("NUM.SET", "x".repeat(200), "1"), "")
    err(await c.call("NUM.GET"), NO_KEY)
    err(await c.call("NUM.GET", "a", "b"), ARITY)
    err(await c.call("NUM.GET", ""), KEYERR)
    err(await c.call("NUM.GET", "", ""), ARITY)
  })
})

describe("NUM.INCR / NUM.DECR", () => {
  it("NUM.INCR examples", async () => {
    ok(await c.call("NUM.SET", "n:incr", "42"), "")
    ok(await c.call("NUM.INCR", "n:incr"), "43")
    ok(await c.call("NUM.GET", "n:incr"), "43")
    ok(await c.call("NUM.INCR", "n:incr", "10"), "53")
    ok(await c.call("NUM.SET", "n:incr", "11.5"), "")
    ok(await c.call("NUM.INCR", "n:incr"), "12.5")
    ok(await c.call("NUM.INCR", "n:incr", "0.5"), "13")
    ok(await c.call("NUM.INCR", "n:incr", "-20"), "-7")
    ok(await c.call("NUM.GET", "n:incr"), "-7")
  })

  it("NUM.DECR examples", async () => {
    ok(await c.call("NUM.SET", "n:decr", "42"), "")
    ok(await c.call("NUM.DECR", "n:decr"), "41")
    ok(await c.call("NUM.GET", "n:decr"), "41")
    ok(await c.call("NUM.DECR", "n:decr", "10"), "31")
    ok(await c.call("NUM.SET", "n:decr", "11.5"), "")
    ok(await c.call("NUM.DECR", "n:decr"), "10.5")
    ok(await c.call("NUM.DECR", "n:decr", "0.5"), "10")
    ok(await c.call("NUM.DECR", "n:decr", "-2.25"), "12.25")
  })

  it("a missing key: INCR stores +delta, DECR stores -delta (A.3; Fleare stored +delta)", async () => {
    ok(await c.call("NUM.INCR", "n:new1"), "1")
    ok(await c.call("NUM.GET", "n:new1"), "1")
    ok(await c.call("NUM.INCR", "n:new2", "7.5"), "7.5")
    ok(await c.call("NUM.GET", "n:new2"), "7.5")
    ok(await c.call("NUM.DECR", "n:new3"), "-1")
    ok(await c.call("NUM.GET", "n:new3"), "-1")
    ok(await c.call("NUM.DECR", "n:new4", "5"), "-5")
    ok(await c.call("NUM.GET", "n:new4"), "-5")
    ok(await c.call("NUM.DECR", "n:new5", "-2.5"), "2.5")
    ok(await c.call("NUM.DECR", "n:new6", "0"), "0")
  })

  it("float64 arithmetic, formatted as Go does", async () => {
    ok(await c.call("NUM.SET", "n:float", "0.1"), "")
    ok(await c.call("NUM.INCR", "n:float", "0.2"), "0.30000000000000004")
    ok(await c.call("NUM.SET", "n:float", "1e21"), "")
    ok(await c.call("NUM.INCR", "n:float", "1e21"), "2e+21")
    ok(await c.call("NUM.SET", "n:float", "9007199254740992"), "")
    ok(await c.call("NUM.INCR", "n:float"), "9007199254740992") // 2^53 + 1 rounds back to 2^53
    ok(await c.call("NUM.INCR", "n:float", "007"), "9007199254741000")
    ok(await c.call("NUM.INCR", "n:float", "0x1p4"), "9007199254741016")
  })

  it("a result beyond float64 is refused and the value kept", async () => {
    ok(await c.call("NUM.SET", "n:huge", "1.7976931348623157e308"), "")
    err(await c.call("NUM.INCR", "n:huge", "1.7976931348623157e308"), NOT_A_NUMBER)
    err(await c.call("NUM.DECR", "n:huge", "-1.7976931348623157e308"), NOT_A_NUMBER)
    ok(await c.call("NUM.GET", "n:huge"), "1.7976931348623157e+308")
  })

  it("a delta that is not a finite number", async () => {
    ok(await c.call("NUM.SET", "n:delta", "3"), "")
    for (const d of ["abc", "", "1x", "NaN", "Inf", "-Inf", "infinity", "1e400", "0x10"]) {
      err(await c.call("NUM.INCR", "n:delta", d), NOT_A_NUMBER)
      err(await c.call("NUM.DECR", "n:delta", d), NOT_A_NUMBER)
      // and on a missing key nothing is created
      err(await c.call("NUM.INCR", "n:nodelta", d), NOT_A_NUMBER)
    }
    ok(await c.call("NUM.GET", "n:delta"), "3")
    ok(await c.call("NUM.GET", "n:nodelta"), "")
  })

  it("argument errors, in Fleare's order", async () => {
    for (const cmd of ["NUM.INCR", "NUM.DECR"]) {
      err(await c.call(cmd), NO_KEY)
      err(await c.call(cmd, "k", "1", "2"), ARITY)
      err(await c.call(cmd, "", "1", "2"), ARITY)
      err(await c.call(cmd, ""), KEYERR)
      err(await c.call(cmd, "", "abc"), KEYERR)
      err(await c.call(cmd, "y".repeat(201)), KEYERR)
    }
  })
})

describe("kinds", () => {
  it("NUM.GET/INCR/DECR refuse a String-kind key and leave it unchanged", async () => {
    ok(await c.call("STR.SET", "n:str", "41"), "")
    err(await c.call("NUM.GET", "n:str"), MUST_BE_NUMBER)
    err(await c.call("NUM.INCR", "n:str"), MUST_BE_NUMBER)
    err(await c.call("NUM.INCR", "n:str", "2"), MUST_BE_NUMBER)
    err(await c.call("NUM.DECR", "n:str"), MUST_BE_NUMBER)
    // the delta is checked before the kind, as Fleare does
    err(await c.call("NUM.INCR", "n:str", "abc"), NOT_A_NUMBER)
    ok(await c.call("STR.GET", "n:str"), "41")
  })

  it("a SET (kind Default) value is not a number, even if it reads as one", async (ctx) => {
    const r = await c.call("SET", "n:default", "41")
    if (unknown(r)) return ctx.skip()
    ok(r, "")
    err(await c.call("NUM.GET", "n:default"), MUST_BE_NUMBER)
    err(await c.call("NUM.INCR", "n:default"), MUST_BE_NUMBER)
    err(await c.call("NUM.DECR", "n:default"), MUST_BE_NUMBER)
  })

  it("GET returns a number's stored text", async (ctx) => {
    ok(await c.call("NUM.SET", "n:viaget", "007"), "")
    const r = await c.call("GET", "n:viaget")
    if (unknown(r)) return ctx.skip()
    ok(r, "7")
    ok(await c.call("NUM.INCR", "n:viaget", "0.5"), "7.5")
    ok(await c.call("GET", "n:viaget"), "7.5")
  })

  it("any write discards the key's TTL (§4.7)", async (ctx) => {
    ok(await c.call("NUM.SET", "n:ttl", "1"), "")
    const r = await c.call("TTL.EXPIRE", "n:ttl", "100")
    if (unknown(r)) return ctx.skip()
    ok(r, "1")
    ok(await c.call("NUM.INCR", "n:ttl"), "2")
    ok(await c.call("TTL", "n:ttl"), "-1")
  })
})

describe("atomicity", () => {
  it("50 connections × 200 pipelined NUM.INCR give exactly 10000, each value returned once", async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => WireClient.authed(server.port)))
    const results = await Promise.all(
      clients.map(async (w) => {
        for (let i = 0; i < 200; i++) w.send("NUM.INCR", "n:counter")
        const rs: Array<WireReply> = []
        for (let i = 0; i < 200; i++) rs.push(await w.next(20000))
        return rs
      })
    )
    for (const w of clients) w.destroy()
    const all = results.flat()
    expect(all.filter((r) => r.status !== "Ok")).toEqual([])
    // Every increment saw a distinct predecessor: the answers are exactly 1..10000.
    const values = all.map((r) => Number(r.result)).sort((a, b) => a - b)
    expect(values).toEqual(Array.from({ length: 10000 }, (_, i) => i + 1))
    // and each connection saw its own answers increase
    for (const rs of results) {
      const mine = rs.map((r) => Number(r.result))
      expect(mine.every((v, i) => i === 0 || v > mine[i - 1]!)).toBe(true)
    }
    ok(await c.call("NUM.GET", "n:counter"), "10000")
  }, 60000)

  it("concurrent INCR and DECR cancel out", async () => {
    ok(await c.call("NUM.SET", "n:mixed", "0"), "")
    const clients = await Promise.all(Array.from({ length: 20 }, () => WireClient.authed(server.port)))
    await Promise.all(
      clients.map(async (w, i) => {
        const cmd = i % 2 === 0 ? "NUM.INCR" : "NUM.DECR"
        for (let k = 0; k < 100; k++) w.send(cmd, "n:mixed", "3")
        for (let k = 0; k < 100; k++) expect((await w.next(20000)).status).toBe("Ok")
      })
    )
    for (const w of clients) w.destroy()
    ok(await c.call("NUM.GET", "n:mixed"), "0")
  }, 60000)
})

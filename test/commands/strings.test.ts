import { beforeAll, describe, expect, it } from "@effect/vitest"
import type { WireReply } from "../support/wire.js"
import { WireClient } from "../support/wire.js"
import { err, ok, useServerAndClient } from "../support/commandTests.js"

const KEYERR = "InvalidKeyError: invalid key, must be a string and at least 1 to 200 characters long"
const NO_KEY = "InvalidKeyError: Key must be provided"
const ARITY = "InvalidArgumentError: invalid number of arguments"
const MUST_BE_STRING = "InvalidValueError: the existing value for the provided key must be a string"
const BAD_START = "InvalidArgumentError: start offsets must be valid integers"
const BAD_END = "InvalidArgumentError: end offsets must be valid integers"
const NOT_FOUND = "KeyNotFoundError: provided key does not exist"
const PASSAGES = "There are many variations of passages"

const { server, c } = useServerAndClient()

/** True when another family's command (SET, TTL.EXPIRE...) is not in the table yet. */
const unknown = (r: WireReply) => r.result.startsWith("InvalidCommandError")

/**
 * The clamped STR.RANGE algorithm, written from SPEC §4.2's three steps on code points with exact integers, with
 * an empty result wherever the clamped end falls before the clamped start.
 */
const referenceRange = (s: string, startText: string, lenText: string): string => {
  const cps: Array<number> = []
  for (let i = 0; i < s.length; ) {
    const cp = s.codePointAt(i)!
    cps.push(cp)
    i += cp > 0xffff ? 2 : 1
  }
  const n = BigInt(cps.length)
  const len = BigInt(lenText)
  let b = BigInt(startText)
  if (b < 0n) b = b + n // step 1
  let e = len < 0n ? n : b + len // step 2
  if (b < 0n) b = 0n // step 3
  if (e > n) e = n
  if (b > n) b = n
  let out = ""
  for (let i = b; i < e; i++) out += String.fromCodePoint(cps[Number(i)]!)
  return out
}

describe("STR.SET / STR.GET", () => {
  it("stores and returns a string, with the client id", async () => {
    const r = await c.call("STR.SET", "s:get", "Hello World")
    ok(r, "")
    expect(r.clientId).toMatch(/^\d+-127\.0\.0\.1:\d+$/)
    const g = await c.call("STR.GET", "s:get")
    ok(g, "Hello World")
    expect(g.clientId).toBe(r.clientId)
  })

  it("overwrites, and stores the empty string and multi-byte text verbatim", async () => {
    ok(await c.call("STR.SET", "s:over", "Hello"), "")
    ok(await c.call("STR.SET", "s:over", "World World"), "")
    ok(await c.call("STR.GET", "s:over"), "World World")
    ok(await c.call("STR.SET", "s:over", ""), "")
    ok(await c.call("STR.GET", "s:over"), "")
    ok(await c.call("STR.SET", "s:over", 'aé日😀 {"x":1} <&>'), "")
    ok(await c.call("STR.GET", "s:over"), 'aé日😀 {"x":1} <&>')
  })

  it("STR.GET on a missing key answers an empty result (A.3; Fleare crashed)", async () => {
    ok(await c.call("STR.GET", "s:missing"), "")
    // and the server is still there
    ok(await c.call("PING"), "PONG ")
  })

  it("STR.SET overwrites a key of another kind", async () => {
    ok(await c.call("NUM.SET", "s:wasnum", "5"), "")
    ok(await c.call("STR.SET", "s:wasnum", "five"), "")
    ok(await c.call("STR.GET", "s:wasnum"), "five")
    ok(await c.call("STR.LENGTH", "s:wasnum"), "4")
  })

  it("argument errors", async () => {
    err(await c.call("STR.SET"), NO_KEY)
    err(await c.call("STR.SET", "k"), ARITY)
    err(await c.call("STR.SET", "k", "v", "w"), ARITY)
    err(await c.call("STR.SET", "", "v"), KEYERR)
    err(await c.call("STR.SET", "x".repeat(201), "v"), KEYERR)
    err(await c.call("STR.SET", "é".repeat(100) + "x", "v"), KEYERR) // 201 bytes, 101 characters
    ok(await c.call("STR.SET", "é".repeat(100), "v"), "") // 200 bytes
    ok(await c.call("STR.GET", "é".repeat(100)), "v")
    err(await c.call("STR.GET"), NO_KEY)
    err(await c.call("STR.GET", "a", "b"), ARITY)
    err(await c.call("STR.GET", ""), KEYERR)
    err(await c.call("STR.GET", "k".repeat(201)), KEYERR)
    // arity is checked before the key, as Fleare does
    err(await c.call("STR.SET", "", "v", "w"), ARITY)
    err(await c.call("STR.GET", "", ""), ARITY)
  })

  it("error replies carry the client id", async () => {
    const r = await c.call("STR.GET")
    expect(r.clientId).toMatch(/^\d+-127\.0\.0\.1:\d+$/)
  })
})

describe("kinds", () => {
  it("STR.GET/APPEND/LENGTH/RANGE refuse a Number-kind key and leave it unchanged", async () => {
    ok(await c.call("NUM.SET", "s:num", "42"), "")
    err(await c.call("STR.GET", "s:num"), MUST_BE_STRING)
    err(await c.call("STR.APPEND", "s:num", "x"), MUST_BE_STRING)
    err(await c.call("STR.APPEND", "s:num"), MUST_BE_STRING)
    err(await c.call("STR.LENGTH", "s:num"), MUST_BE_STRING)
    err(await c.call("STR.RANGE", "s:num", "0", "1"), MUST_BE_STRING)
    ok(await c.call("NUM.GET", "s:num"), "42")
  })

  it("a SET (kind Default) value is not a string for STR.* (Fleare checks kind == String)", async (ctx) => {
    const r = await c.call("SET", "s:default", "plain")
    if (unknown(r)) return ctx.skip()
    ok(r, "")
    err(await c.call("STR.GET", "s:default"), MUST_BE_STRING)
    err(await c.call("STR.APPEND", "s:default", "x"), MUST_BE_STRING)
    err(await c.call("STR.LENGTH", "s:default"), MUST_BE_STRING)
    err(await c.call("STR.RANGE", "s:default", "0", "1"), MUST_BE_STRING)
    ok(await c.call("STR.SET", "s:default", "now a string"), "")
    ok(await c.call("STR.GET", "s:default"), "now a string")
  })

  it("a LIST value is not a string", async (ctx) => {
    const r = await c.call("LIST.SET", "s:list", "1", "2")
    if (unknown(r)) return ctx.skip()
    err(await c.call("STR.GET", "s:list"), MUST_BE_STRING)
    err(await c.call("STR.LENGTH", "s:list"), MUST_BE_STRING)
  })
})

describe("STR.APPEND", () => {
  it("appends every value, creating the key when missing", async () => {
    ok(await c.call("STR.APPEND", "s:app", "Hello"), "")
    ok(await c.call("STR.GET", "s:app"), "Hello")
    ok(await c.call("STR.APPEND", "s:app", " World", " John"), "")
    ok(await c.call("STR.GET", "s:app"), "Hello World John")
    ok(await c.call("STR.APPEND", "s:app"), "")
    ok(await c.call("STR.GET", "s:app"), "Hello World John")
    ok(await c.call("STR.APPEND", "s:app", "", "日", "😀"), "")
    ok(await c.call("STR.GET", "s:app"), "Hello World John日😀")
  })

  it("with only a key, creates an empty string", async () => {
    ok(await c.call("STR.APPEND", "s:appempty"), "")
    ok(await c.call("STR.GET", "s:appempty"), "")
    ok(await c.call("STR.LENGTH", "s:appempty"), "0")
    ok(await c.call("STR.RANGE", "s:appempty", "0", "5"), "")
  })

  it("argument errors", async () => {
    err(await c.call("STR.APPEND"), NO_KEY)
    err(await c.call("STR.APPEND", "", "x"), KEYERR)
    err(await c.call("STR.APPEND", "z".repeat(201), "x"), KEYERR)
  })

  it("is atomic: 20 connections × 50 pipelined appends lose nothing", async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => WireClient.authed(server.port)))
    const replies = await Promise.all(
      clients.map(async (w) => {
        for (let i = 0; i < 50; i++) w.send("STR.APPEND", "s:atomic", "ab")
        const rs: Array<WireReply> = []
        for (let i = 0; i < 50; i++) rs.push(await w.next())
        return rs
      })
    )
    for (const w of clients) w.destroy()
    expect(replies.flat().every((r) => r.status === "Ok" && r.result === "")).toBe(true)
    ok(await c.call("STR.LENGTH", "s:atomic"), "2000")
  })

  it("any write discards the key's TTL (§4.7)", async (ctx) => {
    ok(await c.call("STR.SET", "s:ttl", "x"), "")
    const r = await c.call("TTL.EXPIRE", "s:ttl", "100")
    if (unknown(r)) return ctx.skip()
    ok(r, "1")
    ok(await c.call("STR.APPEND", "s:ttl", "y"), "")
    ok(await c.call("TTL", "s:ttl"), "-1")
    ok(await c.call("TTL.EXPIRE", "s:ttl", "100"), "1")
    ok(await c.call("STR.SET", "s:ttl", "z"), "")
    ok(await c.call("TTL", "s:ttl"), "-1")
  })
})

describe("STR.LENGTH", () => {
  it("counts UTF-8 bytes, 0 when missing", async () => {
    ok(await c.call("STR.SET", "s:len", "Hello"), "")
    ok(await c.call("STR.LENGTH", "s:len"), "5")
    ok(await c.call("STR.SET", "s:len", "aé日😀"), "") // 1 + 2 + 3 + 4 bytes, 4 code points, 5 UTF-16 units
    ok(await c.call("STR.LENGTH", "s:len"), "10")
    ok(await c.call("STR.APPEND", "s:len", "é"), "")
    ok(await c.call("STR.LENGTH", "s:len"), "12")
    ok(await c.call("STR.LENGTH", "s:nolen"), "0")
  })

  it("argument errors", async () => {
    err(await c.call("STR.LENGTH"), NO_KEY)
    err(await c.call("STR.LENGTH", "a", "b"), ARITY)
    err(await c.call("STR.LENGTH", ""), KEYERR)
  })
})

describe("STR.RANGE", () => {
  beforeAll(async () => {
    await c.ok("STR.SET", "s:passages", PASSAGES)
  })

  it("SPEC §4.2 examples (the third argument is a length)", async () => {
    ok(await c.call("STR.RANGE", "s:passages", "0", "5"), "There")
    ok(await c.call("STR.RANGE", "s:passages", "15", "10"), "variations")
    ok(await c.call("STR.RANGE", "s:passages", "-8", "4"), "pass")
    ok(await c.call("STR.RANGE", "s:passages", "15", "-1"), "variations of passages")
  })

  it("clamps any start (A.3; Fleare's slice panicked on -100 4)", async () => {
    // start -100 + 37 = -63, end = -63 + 4 = -59; clamped start 0 > end: empty
    ok(await c.call("STR.RANGE", "s:passages", "-100", "4"), "")
    ok(await c.call("STR.RANGE", "s:passages", "-100", "-1"), PASSAGES)
    ok(await c.call("STR.RANGE", "s:passages", "-100", "100"), PASSAGES)
    ok(await c.call("STR.RANGE", "s:passages", "-40", "8"), "There")
    ok(await c.call("STR.RANGE", "s:passages", "-37", "5"), "There")
    ok(await c.call("STR.RANGE", "s:passages", "37", "5"), "")
    ok(await c.call("STR.RANGE", "s:passages", "100", "5"), "")
    ok(await c.call("STR.RANGE", "s:passages", "100", "-1"), "")
    ok(await c.call("STR.RANGE", "s:passages", "0", "0"), "")
    ok(await c.call("STR.RANGE", "s:passages", "29", "1000"), "passages")
    ok(await c.call("STR.RANGE", "s:passages", "-9223372036854775808", "5"), "")
    // exact int64 offsets: start = -2^63 + 37, end = start + 2^63 - 1 = 36
    ok(await c.call("STR.RANGE", "s:passages", "-9223372036854775808", "9223372036854775807"), PASSAGES.slice(0, 36))
    ok(await c.call("STR.RANGE", "s:passages", "-9223372036854775771", "9223372036854775744"), PASSAGES.slice(0, 10))
    ok(await c.call("STR.RANGE", "s:passages", "9223372036854775807", "9223372036854775807"), "")
    ok(await c.call("STR.RANGE", "s:passages", "+0", "+5"), "There")
    ok(await c.call("PING"), "PONG ")
  })

  it("works on code points, not bytes or UTF-16 units", async () => {
    await c.ok("STR.SET", "s:runes", "aé日😀b🎉")
    ok(await c.call("STR.RANGE", "s:runes", "3", "1"), "😀")
    ok(await c.call("STR.RANGE", "s:runes", "1", "2"), "é日")
    ok(await c.call("STR.RANGE", "s:runes", "-1", "1"), "🎉")
    ok(await c.call("STR.RANGE", "s:runes", "-3", "-1"), "😀b🎉")
    ok(await c.call("STR.RANGE", "s:runes", "2", "3"), "日😀b")
    ok(await c.call("STR.RANGE", "s:runes", "4", "10"), "b🎉")
    ok(await c.call("STR.RANGE", "s:runes", "-6", "1"), "a")
    ok(await c.call("STR.RANGE", "s:runes", "-7", "2"), "a")
  })

  it("argument errors, in Fleare's order", async () => {
    err(await c.call("STR.RANGE"), NO_KEY)
    err(await c.call("STR.RANGE", "s:passages"), ARITY)
    err(await c.call("STR.RANGE", "s:passages", "0"), ARITY)
    err(await c.call("STR.RANGE", "s:passages", "0", "1", "2"), ARITY)
    err(await c.call("STR.RANGE", "", "0", "1"), KEYERR)
    err(await c.call("STR.RANGE", "", "x", "1"), KEYERR)
    err(await c.call("STR.RANGE", "s:passages", "a", "1"), BAD_START)
    err(await c.call("STR.RANGE", "s:passages", "a", "b"), BAD_START)
    err(await c.call("STR.RANGE", "s:passages", "1", "b"), BAD_END)
    for (const bad of ["1.5", " 1", "1 ", "", "0x1", "1e2", "1_0", "9223372036854775808", "-9223372036854775809"]) {
      err(await c.call("STR.RANGE", "s:passages", bad, "1"), BAD_START)
      err(await c.call("STR.RANGE", "s:passages", "1", bad), BAD_END)
    }
    // the offsets are parsed before the key is looked up
    err(await c.call("STR.RANGE", "s:norange", "x", "1"), BAD_START)
    err(await c.call("STR.RANGE", "s:norange", "0", "1"), NOT_FOUND)
  })

  it("matches the clamped algorithm on random strings, starts and lengths, and never errors", async () => {
    // A seeded PRNG (mulberry32) so a failure reproduces.
    let seed = 0x5eed1234
    const rand = () => {
      seed = (seed + 0x6d2b79f5) | 0
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
    const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1))
    const alphabet = ["a", "b", "Z", " ", "0", "é", "ß", "Ж", "日", "本", "€", "😀", "🎉", "𝄞", "\u0000", "\n"]
    const extremes = ["-9223372036854775808", "9223372036854775807", "-9223372036854775790", "9223372036854775795"]
    for (let round = 0; round < 20; round++) {
      const n = int(0, 24)
      let s = ""
      for (let i = 0; i < n; i++) s += alphabet[int(0, alphabet.length - 1)]!
      const key = `s:prop:${round}`
      await c.ok("STR.SET", key, s)
      const triples: Array<readonly [string, string]> = []
      for (let i = 0; i < 50; i++) {
        const start = rand() < 0.05 ? extremes[int(0, 3)]! : String(int(-2 * n - 5, 2 * n + 5))
        const len = rand() < 0.05 ? extremes[int(0, 3)]! : String(int(-3, n + 5))
        triples.push([start, len])
      }
      for (const [start, len] of triples) c.send("STR.RANGE", key, start, len)
      for (const [start, len] of triples) {
        const r = await c.next()
        const expected = referenceRange(s, start, len)
        expect({ s, start, len, status: r.status, result: r.result }).toEqual({
          s,
          start,
          len,
          status: "Ok",
          result: expected
        })
      }
    }
  })
})

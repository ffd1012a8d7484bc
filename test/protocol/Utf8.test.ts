import { describe, expect, it } from "@effect/vitest"
import { SHORT_ASCII, SHORT_TEXT, shortAscii, utf8Length } from "../../src/protocol/Utf8.js"

describe("utf8Length", () => {
  it("agrees with Buffer.byteLength on ASCII, multi-byte, astral and lone surrogates, short and long", () => {
    const samples = ["", "a", "key:000000000001", "é", "日本", "😀", "\ud800", "a\udc00b", "\u0000", "\u007f", "\u0080"]
    for (const base of samples)
      for (const n of [1, 2, SHORT_TEXT - 1, SHORT_TEXT, SHORT_TEXT + 1, 500]) {
        const s = base.repeat(n)
        expect(utf8Length(s)).toBe(Buffer.byteLength(s, "utf8"))
        expect(utf8Length(`x${s}`)).toBe(Buffer.byteLength(`x${s}`, "utf8"))
      }
  })
})

describe("shortAscii", () => {
  it("makes the same string as Buffer's latin1 reading, for every length up to SHORT_ASCII and any offset", () => {
    const buf = Buffer.alloc(64)
    for (let round = 0; round < 200; round++) {
      for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(Math.random() * 128)
      const at = round % 7
      for (let n = 0; n <= SHORT_ASCII; n++) expect(shortAscii(buf, at, n)).toBe(buf.toString("latin1", at, at + n))
    }
  })

  it("refuses a range longer than SHORT_ASCII rather than cutting it short", () => {
    expect(() => shortAscii(Buffer.alloc(40), 0, SHORT_ASCII + 1)).toThrow(RangeError)
  })
})

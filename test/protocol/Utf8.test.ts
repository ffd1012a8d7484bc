import { describe, expect, it } from "@effect/vitest"
import { SHORT_TEXT, utf8Length } from "../../src/protocol/Utf8.js"

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

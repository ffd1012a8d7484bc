import { describe, expect, it } from "vitest"
import { isJsonObject } from "../../src/bench/jsonCheck.js"

/** The reference: JSON.parse of the text gives a plain object. */
const reference = (s: string): boolean => {
  try {
    const v: unknown = JSON.parse(s)
    return typeof v === "object" && v !== null && !Array.isArray(v)
  } catch {
    return false
  }
}

const SESSION =
  '{"session_id":"1-127.0.0.1:53242","user":{"Username":"root","Password":"*******","Role":"root"},"status":1,' +
  '"created_at":"2026-11-27T11:26:38.578218309Z","last_accessed_at":"2026-11-27T11:26:38.578218309Z"}'

describe("isJsonObject", () => {
  it("accepts objects, compact or pretty, and nothing else", () => {
    const yes = [
      SESSION,
      JSON.stringify(JSON.parse(SESSION), null, 2),
      "{}",
      " { } \n",
      '{"a":[1,-2.5e+3,true,false,null,{"b":"\\u00e9\\n"}]}',
      '{"é":"ü"}'
    ]
    const no = [
      "",
      "[]",
      "[1]",
      "1",
      '"s"',
      "null",
      "{",
      "}",
      '{"a":}',
      '{"a":1,}',
      '{"a" 1}',
      "{'a':1}",
      '{"a":01}',
      '{"a":1.}',
      '{"a":-}',
      '{"a":"\\x"}',
      '{"a":"\t"}',
      '{"a":1}}',
      "{} {}",
      '{"a":tru}',
      '{"a":"\\u12g4"}',
      "\v{}"
    ]
    for (const s of yes) expect(isJsonObject(Buffer.from(s)), s).toBe(true)
    for (const s of no) expect(isJsonObject(Buffer.from(s)), s).toBe(false)
  })

  it("agrees with JSON.parse on 5,000 mutations of a session, checked inside a larger buffer", () => {
    let seed = 12345
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed % n
    }
    const alphabet = '{}[]":,.-+eE0123456789 \\ntu\u00e9a'
    for (let i = 0; i < 5000; i++) {
      let s = SESSION
      for (let k = 1 + rand(3); k > 0; k--) {
        const at = rand(s.length + 1)
        const c = alphabet[rand(alphabet.length)]!
        const op = rand(3)
        s =
          op === 0
            ? s.slice(0, at) + s.slice(at + 1)
            : op === 1
              ? s.slice(0, at) + c + s.slice(at)
              : s.slice(0, at) + c + s.slice(at + 1)
      }
      // Bytes before and after the range must not be read as part of it.
      const body = Buffer.from(`}}${s}}]"0`)
      const start = 2
      const end = start + Buffer.byteLength(s)
      expect(isJsonObject(body, start, end), s).toBe(reference(s))
    }
  })
})

/**
 * Writing JSON exactly as Go's `encoding/json` does, since Fleare's results are Go-marshalled: compact, object keys
 * sorted (by UTF-8 bytes), `<`, `>`, `&`, U+2028 and U+2029 escaped as `\u003c`-style sequences, numbers formatted
 * like Go's float64 (`42`, `43.5`, `1e+21`, `1e-7`). Iterative (no recursion over the value), so a deeply nested
 * value cannot overflow the stack.
 */
import type { Json, JsonObject } from "./Json.js"

const SHORT_ESCAPES: Record<number, string> = {
  0x08: "\\b",
  0x09: "\\t",
  0x0a: "\\n",
  0x0c: "\\f",
  0x0d: "\\r",
  0x22: '\\"',
  0x5c: "\\\\"
}

// Characters that need any escaping in Go's output: controls, quote, backslash, HTML-sensitive, line separators,
// and lone surrogates (Go would have replaced invalid UTF-8 with U+FFFD).
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /[\u0000-\u001f"\\<>&\u2028\u2029\ud800-\udfff]/

const hex4 = (c: number): string => "\\u" + c.toString(16).padStart(4, "0")

/** Quotes a string as Go's encoding/json does. */
export const quote = (s: string): string => {
  if (!NEEDS_ESCAPE.test(s)) return '"' + s + '"'
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) {
        out += s[i]! + s[i + 1]!
        i++
      } else out += "\\ufffd"
      continue
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += "\\ufffd"
      continue
    }
    const short = SHORT_ESCAPES[c]
    if (short !== undefined) out += short
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) out += hex4(c)
    else out += s[i]!
  }
  return out + '"'
}

/** Formats a float64 as Go's encoding/json does (same shortest digits and exponent thresholds as JavaScript). */
export const formatNumber = (n: number): string => {
  if (Object.is(n, -0)) return "-0"
  return String(n)
}

// Below the surrogates, UTF-16 code unit order (JavaScript's default sort) equals UTF-8 byte order (Go's).
const SURROGATE_OR_ABOVE = /[\ud800-\uffff]/

const compareUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

/** An object's keys in Go's order: sorted by their UTF-8 bytes. */
const sortedKeys = (o: JsonObject): Array<string> => {
  const keys = Object.keys(o)
  for (const k of keys) if (SURROGATE_OR_ABOVE.test(k)) return keys.sort(compareUtf8)
  return keys.sort()
}

const marshalScalar = (v: null | boolean | number | string): string => {
  if (v === null) return "null"
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false"
    case "number":
      return formatNumber(v)
    default:
      return quote(v)
  }
}

type MarshalFrame =
  | { readonly array: ReadonlyArray<Json>; i: number }
  | { readonly object: JsonObject; readonly keys: ReadonlyArray<string>; i: number }

/** Marshals a value as compact Go JSON with sorted keys. */
export const marshal = (v: Json): string => {
  if (v === null || typeof v !== "object") return marshalScalar(v)
  let out = ""
  const stack: Array<MarshalFrame> = []
  const open = (x: Array<Json> | JsonObject): void => {
    if (Array.isArray(x)) {
      out += "["
      stack.push({ array: x, i: 0 })
    } else {
      out += "{"
      stack.push({ object: x, keys: sortedKeys(x), i: 0 })
    }
  }
  open(v)
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!
    let next: Json
    if ("array" in f) {
      if (f.i === f.array.length) {
        out += "]"
        stack.pop()
        continue
      }
      if (f.i > 0) out += ","
      next = f.array[f.i++]!
    } else {
      if (f.i === f.keys.length) {
        out += "}"
        stack.pop()
        continue
      }
      if (f.i > 0) out += ","
      const k = f.keys[f.i++]!
      out += quote(k) + ":"
      next = f.object[k]!
    }
    if (next !== null && typeof next === "object") open(next)
    else out += marshalScalar(next)
  }
  return out
}

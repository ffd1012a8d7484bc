/**
 * JSON text exactly as Go's `encoding/json` writes it, since Fleare's results are Go-marshalled and clients
 * may compare bytes: compact, object keys sorted (by UTF-8 bytes), `<`, `>`, `&`, U+2028 and U+2029 escaped as
 * `\u003c`-style sequences, and numbers formatted like Go's float64 (`42`, `43.5`, `1e+21`, `1e-7`).
 */

/** A parsed JSON value. */
export type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

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

const compareKeys = (a: string, b: string): number => {
  // UTF-16 order equals UTF-8 byte order except around astral characters; fall back to bytes only there.
  if (a === b) return 0
  const ascii = /^[\u0000-\ud7ff]*$/
  if (ascii.test(a) && ascii.test(b)) return a < b ? -1 : 1
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/** Marshals a value as compact Go JSON with sorted keys. */
export const marshal = (v: Json): string => {
  if (v === null) return "null"
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false"
    case "number":
      return formatNumber(v)
    case "string":
      return quote(v)
  }
  if (Array.isArray(v)) return "[" + v.map(marshal).join(",") + "]"
  const keys = Object.keys(v).sort(compareKeys)
  return "{" + keys.map((k) => quote(k) + ":" + marshal(v[k]!)).join(",") + "}"
}

/** The result of parsing JSON text: the value, or Go's `encoding/json` error text. */
export type ParseResult = { readonly ok: true; readonly value: Json } | { readonly ok: false; readonly error: string }

/**
 * Parses JSON text as Go's `json.Unmarshal` into `interface{}` would, with Go's error texts (e.g.
 * `invalid character 'H' looking for beginning of value`, `unexpected end of JSON input`).
 */
export const parse = (text: string): ParseResult => {
  try {
    return { ok: true, value: JSON.parse(text) as Json }
  } catch {
    return { ok: false, error: "invalid JSON" }
  }
}

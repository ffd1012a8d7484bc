/**
 * Reading JSON exactly as Go's `json.Unmarshal` does: into `interface{}`, `map[string]interface {}` or
 * `map[string]string`, with Go's error texts. JSON.parse does the work (it accepts the same grammar); Go's scanner
 * supplies the error text when it fails, the nesting limit, and the literal of a number beyond float64 (an error,
 * as in Go). Lone surrogates become U+FFFD, as Go decodes them. Iterative throughout, so a deeply nested document
 * can neither overflow the stack nor make a command throw.
 */
import { isJsonObject, type Json, type JsonObject } from "./Json.js"
import { isSpace, MAX_DEPTH, scan, syntaxError, UNEXPECTED_END } from "./Scanner.js"
import { GoType, unmarshalTypeError, unmarshalTypeErrorText } from "./UnmarshalTypeError.js"

/** The result of parsing JSON text: the value, or Go's `encoding/json` error text. */
export type ParseResult = { readonly ok: true; readonly value: Json } | { readonly ok: false; readonly error: string }

/** The result of unmarshalling into `map[string]interface {}`: an object, or null (Go's nil map). */
export type ObjectParseResult =
  | { readonly ok: true; readonly value: JsonObject | null }
  | { readonly ok: false; readonly error: string }

/** The result of unmarshalling into `map[string]string`: the entries, or null (Go's nil map). */
export type StringMapParseResult =
  | { readonly ok: true; readonly value: Readonly<Record<string, string>> | null }
  | { readonly ok: false; readonly error: string }

const VALUE_START = /[ \t\n\r]*[{["\-0-9tfn]/y

// The first byte of the UTF-8 form of the character at `i` (Go's scanner sees bytes).
const firstUtf8Byte = (text: string, i: number): number => {
  const cp = text.codePointAt(i)!
  if (cp < 0x80) return cp
  if (cp < 0x800) return 0xc0 | (cp >> 6)
  if (cp >= 0xd800 && cp <= 0xdfff) return 0xef // a lone surrogate is written as U+FFFD
  if (cp < 0x10000) return 0xe0 | (cp >> 12)
  return 0xf0 | (cp >> 18)
}

// Go's error for text that JSON.parse rejected (or that cannot start a value).
const slowSyntaxError = (text: string): string => scan(Buffer.from(text, "utf8")) ?? UNEXPECTED_END

// A cheap pre-check on the text: JSON.parse accepts what Go's scanner accepts (same grammar and whitespace), but
// Go also limits nesting, which matters only for text long enough to nest 10001 levels.
const depthError = (text: string): string | undefined => {
  if (text.length <= 2 * MAX_DEPTH + 1) return undefined
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c) i++
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > MAX_DEPTH) return syntaxError(c, "exceeded max depth")
    } else if (c === 0x5d || c === 0x7d) depth--
  }
  return undefined
}

/** Syntax check and JSON.parse: the value, or Go's syntax error text. */
const parseSyntax = (text: string): ParseResult => {
  // Text that cannot start a JSON value (the common case for EnsureUnmarshal's plain strings) fails without an
  // exception being thrown.
  VALUE_START.lastIndex = 0
  if (!VALUE_START.test(text)) {
    let i = 0
    while (i < text.length && isSpace(text.charCodeAt(i))) i++
    if (i === text.length) return { ok: false, error: UNEXPECTED_END }
    return { ok: false, error: syntaxError(firstUtf8Byte(text, i), "looking for beginning of value") }
  }
  let value: Json
  try {
    value = JSON.parse(text) as Json
  } catch {
    return { ok: false, error: slowSyntaxError(text) }
  }
  const deep = depthError(text)
  if (deep !== undefined) return { ok: false, error: deep }
  return { ok: true, value: MAY_HAVE_LONE_SURROGATE.test(text) ? replaceLoneSurrogates(value) : value }
}

// A lone surrogate can come from a `\ud800`-style escape (or raw, from a caller's string).
const MAY_HAVE_LONE_SURROGATE = /\\u[dD][89a-fA-F]|[\ud800-\udfff]/
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

const wellFormed = (s: string): string => s.replace(LONE_SURROGATE, "\ufffd")

/**
 * Go decodes a lone surrogate (`"\ud800"`) to U+FFFD, so the value holds U+FFFD and is marshalled as that
 * character. Rewrites the freshly parsed value in place (it is not shared yet); keys too.
 */
const replaceLoneSurrogates = (root: Json): Json => {
  if (typeof root === "string") return wellFormed(root)
  const stack: Array<Array<Json> | JsonObject> = []
  if (root !== null && typeof root === "object") stack.push(root)
  while (stack.length > 0) {
    const x = stack.pop()!
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        const y = x[i]!
        if (typeof y === "string") x[i] = wellFormed(y)
        else if (y !== null && typeof y === "object") stack.push(y)
      }
      continue
    }
    for (const k of Object.keys(x)) {
      const y = x[k]!
      const fixed = typeof y === "string" ? wellFormed(y) : y
      const key = wellFormed(k)
      if (key !== k) delete x[k]
      if (key !== k || fixed !== y)
        Object.defineProperty(x, key, { value: fixed, enumerable: true, writable: true, configurable: true })
      if (fixed !== null && typeof fixed === "object") stack.push(fixed)
    }
  }
  return root
}

/** True when Go's `json.Valid` accepts the text. */
export const isValid = (text: string): boolean => parseSyntax(text).ok

// A float64 overflows only with a 3-digit exponent or a couple of hundred digits; most text has neither.
const MAY_OVERFLOW = /[eE]\+?\d{3}|\d{200}/

const hasNonFinite = (v: Json): boolean => {
  const stack: Array<Json> = [v]
  while (stack.length > 0) {
    const x = stack.pop()!
    if (typeof x === "number") {
      if (!Number.isFinite(x)) return true
    } else if (Array.isArray(x)) {
      for (const y of x) stack.push(y)
    } else if (x !== null && typeof x === "object") {
      for (const k of Object.keys(x)) stack.push(x[k]!)
    }
  }
  return false
}

/**
 * Go's error when a number is beyond float64 (`strconv.ParseFloat` range error): `json: cannot unmarshal number
 * 1e400 into Go value of type float64`, naming the first such literal in the text. Undefined when there is none.
 */
const overflowError = (text: string, value: Json): string | undefined => {
  if (!MAY_OVERFLOW.test(text) || !hasNonFinite(value)) return undefined
  const bytes = Buffer.from(text, "utf8")
  let literal: string | undefined
  scan(bytes, (start, end) => {
    if (literal !== undefined) return
    const s = bytes.toString("latin1", start, end)
    if (!Number.isFinite(Number(s))) literal = s
  })
  return literal === undefined ? undefined : unmarshalTypeErrorText("number " + literal, GoType.float64)
}
/**
 * Parses JSON text as Go's `json.Unmarshal` into `interface{}` would, with Go's error texts (e.g.
 * `invalid character 'H' looking for beginning of value`, `unexpected end of JSON input`,
 * `json: cannot unmarshal number 1e400 into Go value of type float64`).
 */
export const parse = (text: string): ParseResult => {
  const r = parseSyntax(text)
  if (!r.ok) return r
  const overflow = overflowError(text, r.value)
  return overflow === undefined ? r : { ok: false, error: overflow }
}

/**
 * Parses JSON text as Go's `json.Unmarshal` into `map[string]interface {}`: syntax errors first, then a top-level
 * value that is not an object (`json: cannot unmarshal array into Go value of type map[string]interface {}`),
 * then a number beyond float64 inside it. `null` gives a nil map (value null), without error.
 */
export const parseObject = (text: string): ObjectParseResult => {
  const r = parseSyntax(text)
  if (!r.ok) return r
  const v = r.value
  if (v === null) return { ok: true, value: null }
  if (!isJsonObject(v)) return { ok: false, error: unmarshalTypeError(v, GoType.map) }
  const overflow = overflowError(text, v)
  return overflow === undefined ? { ok: true, value: v } : { ok: false, error: overflow }
}

/**
 * Parses JSON text as Go's `json.Unmarshal` into `map[string]string`: an object whose values are strings (a null
 * value gives ""), with Go's error for anything else (`json: cannot unmarshal number into Go value of type
 * string`). `null` gives a nil map (value null).
 */
export const parseStringMap = (text: string): StringMapParseResult => {
  const r = parseSyntax(text)
  if (!r.ok) return r
  const v = r.value
  if (v === null) return { ok: true, value: null }
  if (!isJsonObject(v)) return { ok: false, error: unmarshalTypeError(v, GoType.stringMap) }
  const out: Record<string, string> = {}
  for (const k of Object.keys(v)) {
    const x = v[k]!
    if (x !== null && typeof x !== "string") return { ok: false, error: unmarshalTypeError(x, GoType.string) }
    Object.defineProperty(out, k, { value: x ?? "", enumerable: true, writable: true, configurable: true })
  }
  return { ok: true, value: out }
}

/**
 * JSON exactly as Go's `encoding/json` reads and writes it, since Fleare's results are Go-marshalled and its
 * parse errors reach clients verbatim (`InvalidCharacterError: invalid character 'H' looking for beginning of
 * value`). Writing: compact, object keys sorted (by UTF-8 bytes), `<`, `>`, `&`, U+2028 and U+2029 escaped as
 * `\u003c`-style sequences, numbers formatted like Go's float64 (`42`, `43.5`, `1e+21`, `1e-7`). Reading: Go's
 * grammar, nesting limit and error texts; numbers become float64 and one beyond its range is an error.
 *
 * Everything here is iterative (no recursion over the value), so a deeply nested document can neither overflow
 * the stack nor make a command throw.
 */

/** A parsed JSON value. */
export type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

/** A JSON object (Go's `map[string]interface {}`). */
export type JsonObject = { [key: string]: Json }

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

// ---------------------------------------------------------------------------------------------------------------
// Reading

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

/** Go's type names for the unmarshal targets Fleare uses. */
export const GoType = {
  map: "map[string]interface {}",
  stringMap: "map[string]string",
  string: "string",
  float64: "float64"
} as const

/** Go's scanner limit on nesting (`maxNestingDepth`). */
const MAX_DEPTH = 10000

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39
const isHex = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46)

const RUNE_ESCAPES: Record<number, string> = {
  0x07: "\\a",
  0x08: "\\b",
  0x0c: "\\f",
  0x0a: "\\n",
  0x0d: "\\r",
  0x09: "\\t",
  0x0b: "\\v",
  0x5c: "\\\\"
}

/**
 * Go's `quoteChar`: how a scanner error names the offending byte, e.g. `'H'`, `'\''`, `'"'`, `'\n'`, `'\x00'`.
 * The byte is shown as the rune of the same number (`strconv.Quote(string(c))`), so the first byte of a
 * multi-byte character shows as a Latin-1 letter (`é` → `'Ã'`).
 */
export const quoteChar = (c: number): string => {
  if (c === 0x27) return "'\\''"
  if (c === 0x22) return "'\"'"
  const short = RUNE_ESCAPES[c]
  if (short !== undefined) return "'" + short + "'"
  if (c < 0x20 || c === 0x7f) return "'\\x" + c.toString(16).padStart(2, "0") + "'"
  // strconv.IsPrint is false for the C1 controls, U+00A0 (a non-ASCII space) and U+00AD (soft hyphen).
  if ((c >= 0x80 && c <= 0xa0) || c === 0xad) return "'\\u00" + c.toString(16).padStart(2, "0") + "'"
  return "'" + String.fromCharCode(c) + "'"
}

const syntaxError = (c: number, context: string): string => "invalid character " + quoteChar(c) + " " + context

const UNEXPECTED_END = "unexpected end of JSON input"

// Scanner states, named after Go's state functions.
const BEGIN_VALUE_OR_EMPTY = 0
const BEGIN_VALUE = 1
const BEGIN_STRING_OR_EMPTY = 2
const BEGIN_STRING = 3
const END_VALUE = 4
const END_TOP = 5
const IN_STRING = 6
const IN_STRING_ESC = 7
const IN_STRING_ESC_U = 8
const IN_STRING_ESC_U1 = 9
const IN_STRING_ESC_U12 = 10
const IN_STRING_ESC_U123 = 11
const NEG = 12
const ONE = 13
const ZERO = 14
const DOT = 15
const DOT0 = 16
const E = 17
const E_SIGN = 18
const E0 = 19
// Literals: the state is the index into LITERALS of the next expected byte.
const LITERAL = 20

// Parse-stack entries.
const PARSE_OBJECT_KEY = 0
const PARSE_OBJECT_VALUE = 1
const PARSE_ARRAY_VALUE = 2

const LITERAL_WORDS = ["true", "false", "null"] as const

/**
 * Go's `checkValid`: runs the scanner over UTF-8 bytes and returns its error text, or undefined when the text is
 * valid. `onNumber` sees every number literal's byte range, in document order.
 */
const scan = (b: Uint8Array, onNumber?: (start: number, end: number) => void): string | undefined => {
  const stack: Array<number> = []
  let state = BEGIN_VALUE
  let numStart = 0
  let word = 0 // which literal (index into LITERAL_WORDS) and
  let pos = 0 // which of its bytes comes next
  const endNumber = (end: number): void => {
    if (onNumber !== undefined) onNumber(numStart, end)
  }
  const push = (ps: number, c: number): string | undefined =>
    stack.push(ps) > MAX_DEPTH ? syntaxError(c, "exceeded max depth") : undefined
  const pop = (): void => {
    stack.pop()
    state = stack.length === 0 ? END_TOP : END_VALUE
  }
  const step = (c: number, i: number): string | undefined => {
    for (;;) {
      switch (state) {
        case BEGIN_VALUE_OR_EMPTY:
          if (isSpace(c)) return undefined
          state = c === 0x5d ? END_VALUE : BEGIN_VALUE
          continue
        case BEGIN_VALUE:
          if (isSpace(c)) return undefined
          if (c === 0x7b) {
            state = BEGIN_STRING_OR_EMPTY
            return push(PARSE_OBJECT_KEY, c)
          }
          if (c === 0x5b) {
            state = BEGIN_VALUE_OR_EMPTY
            return push(PARSE_ARRAY_VALUE, c)
          }
          if (c === 0x22) state = IN_STRING
          else if (c === 0x2d) state = NEG
          else if (c === 0x30) state = ZERO
          else if (c >= 0x31 && c <= 0x39) state = ONE
          else if (c === 0x74 || c === 0x66 || c === 0x6e) {
            word = c === 0x74 ? 0 : c === 0x66 ? 1 : 2
            pos = 1
            state = LITERAL
          } else return syntaxError(c, "looking for beginning of value")
          numStart = i
          return undefined
        case BEGIN_STRING_OR_EMPTY:
          if (isSpace(c)) return undefined
          if (c === 0x7d) {
            stack[stack.length - 1] = PARSE_OBJECT_VALUE
            state = END_VALUE
          } else state = BEGIN_STRING
          continue
        case BEGIN_STRING:
          if (isSpace(c)) return undefined
          if (c !== 0x22) return syntaxError(c, "looking for beginning of object key string")
          state = IN_STRING
          return undefined
        case END_VALUE: {
          if (stack.length === 0) {
            state = END_TOP
            continue
          }
          if (isSpace(c)) return undefined
          const ps = stack[stack.length - 1]
          if (ps === PARSE_OBJECT_KEY) {
            if (c !== 0x3a) return syntaxError(c, "after object key")
            stack[stack.length - 1] = PARSE_OBJECT_VALUE
            state = BEGIN_VALUE
          } else if (ps === PARSE_OBJECT_VALUE) {
            if (c === 0x2c) {
              stack[stack.length - 1] = PARSE_OBJECT_KEY
              state = BEGIN_STRING
            } else if (c === 0x7d) pop()
            else return syntaxError(c, "after object key:value pair")
          } else {
            if (c === 0x2c) state = BEGIN_VALUE
            else if (c === 0x5d) pop()
            else return syntaxError(c, "after array element")
          }
          return undefined
        }
        case END_TOP:
          return isSpace(c) ? undefined : syntaxError(c, "after top-level value")
        case IN_STRING:
          if (c === 0x22) state = END_VALUE
          else if (c === 0x5c) state = IN_STRING_ESC
          else if (c < 0x20) return syntaxError(c, "in string literal")
          return undefined
        case IN_STRING_ESC:
          if (c === 0x75) state = IN_STRING_ESC_U
          else if ('bfnrt\\/"'.includes(String.fromCharCode(c))) state = IN_STRING
          else return syntaxError(c, "in string escape code")
          return undefined
        case IN_STRING_ESC_U:
        case IN_STRING_ESC_U1:
        case IN_STRING_ESC_U12:
        case IN_STRING_ESC_U123:
          if (!isHex(c)) return syntaxError(c, "in \\u hexadecimal character escape")
          state = state === IN_STRING_ESC_U123 ? IN_STRING : state + 1
          return undefined
        case NEG:
          if (c === 0x30) state = ZERO
          else if (c >= 0x31 && c <= 0x39) state = ONE
          else return syntaxError(c, "in numeric literal")
          return undefined
        case ONE:
          if (isDigit(c)) return undefined
          state = ZERO
          continue
        case ZERO:
          if (c === 0x2e) state = DOT
          else if (c === 0x65 || c === 0x45) state = E
          else {
            endNumber(i)
            state = END_VALUE
            continue
          }
          return undefined
        case DOT:
          if (!isDigit(c)) return syntaxError(c, "after decimal point in numeric literal")
          state = DOT0
          return undefined
        case DOT0:
          if (isDigit(c)) return undefined
          if (c === 0x65 || c === 0x45) {
            state = E
            return undefined
          }
          endNumber(i)
          state = END_VALUE
          continue
        case E:
          state = E_SIGN
          if (c === 0x2b || c === 0x2d) return undefined
          continue
        case E_SIGN:
          if (!isDigit(c)) return syntaxError(c, "in exponent of numeric literal")
          state = E0
          return undefined
        case E0:
          if (isDigit(c)) return undefined
          endNumber(i)
          state = END_VALUE
          continue
        default: {
          const w = LITERAL_WORDS[word]!
          const expected = w.charCodeAt(pos)
          if (c !== expected) return syntaxError(c, `in literal ${w} (expecting ${quoteChar(expected)})`)
          pos++
          if (pos === w.length) state = END_VALUE
          return undefined
        }
      }
    }
  }
  for (let i = 0; i < b.length; i++) {
    const e = step(b[i]!, i)
    if (e !== undefined) return e
  }
  // Go's scanner.eof: a value still open gets one more space, which ends a number or reveals a cut literal.
  if (state === END_TOP) return undefined
  const e = step(0x20, b.length)
  if (e !== undefined) return e
  return state === END_TOP ? undefined : UNEXPECTED_END
}

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
 * The JSON kind as Go's UnmarshalTypeError names it: `array`, `object`, `number`, `string`, `bool` (and `null`,
 * which Go never reports since null unmarshals into anything).
 */
export const goKindName = (v: Json): string => {
  if (v === null) return "null"
  if (Array.isArray(v)) return "array"
  switch (typeof v) {
    case "boolean":
      return "bool"
    case "number":
      return "number"
    case "string":
      return "string"
    default:
      return "object"
  }
}

const unmarshalTypeErrorText = (what: string, goType: string): string =>
  "json: cannot unmarshal " + what + " into Go value of type " + goType

/**
 * Go's UnmarshalTypeError text for a value of the wrong kind, e.g. `json: cannot unmarshal array into Go value of
 * type map[string]interface {}`.
 */
export const unmarshalTypeError = (v: Json, goType: string): string => unmarshalTypeErrorText(goKindName(v), goType)

/** True for a JSON object (not an array, not null). */
export const isJsonObject = (v: Json | undefined): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v)

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

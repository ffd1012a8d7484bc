/**
 * Go's number parsing as Fleare's NUM.* commands use it (`utils.ConvertToNumber`: `strconv.ParseInt(s, 10, 64)`,
 * then `strconv.ParseFloat(s, 64)`), so the same texts are accepted or refused: decimal floats with Go's
 * underscore separators (`1_000.5`), hex floats with a binary exponent (`0x1.8p1`), and no surrounding spaces,
 * JavaScript-only forms (`0x1A`, `0b1`, `Infinity`) or empty text.
 */

/** What `parseGoFloat` found: a value, or Go's syntax / range error. */
export type GoFloat =
  | { readonly ok: true; readonly value: number }
  | { readonly ok: false; readonly error: "syntax" | "range" }

const syntax: GoFloat = { ok: false, error: "syntax" }
const range: GoFloat = { ok: false, error: "range" }

// After removing underscores (validated separately by underscoreOK, as Go does). Written so that no two ways
// match the same digits (`\d+(?:\.\d*)?`, not `\d+\.?\d*`): the ambiguous form backtracks quadratically on a long
// run of digits that fails at its end (40k digits took 0.7 s; LIST.FIND fed it the expression's value).
const DECIMAL_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
const HEX_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?\d+)$/
const INT_RE = /^[+-]?\d+$/
const SPECIAL_RE = /^(?:[+-]?(?:inf|infinity)|nan)$/i

const isDigit = (c: string, hex: boolean): boolean =>
  (c >= "0" && c <= "9") || (hex && ((c >= "a" && c <= "f") || (c >= "A" && c <= "F")))

/**
 * Go's `strconv.underscoreOK`: an underscore may only sit between two digits, or between a base prefix and a
 * digit.
 */
const underscoreOK = (text: string): boolean => {
  let s = text
  // "^" start, "0" digit or base prefix, "_" underscore, "!" anything else.
  let saw = "^"
  let i = 0
  if (s.length >= 1 && (s[0] === "-" || s[0] === "+")) s = s.slice(1)
  let hex = false
  if (s.length >= 2 && s[0] === "0" && "bBoOxX".includes(s[1]!)) {
    i = 2
    saw = "0"
    hex = s[1] === "x" || s[1] === "X"
  }
  for (; i < s.length; i++) {
    const c = s[i]!
    if (isDigit(c, hex)) {
      saw = "0"
      continue
    }
    if (c === "_") {
      if (saw !== "0") return false
      saw = "_"
      continue
    }
    if (saw === "_") return false
    saw = "!"
  }
  return saw !== "_"
}

/** `m × 2^e2` rounded to the nearest float64 (ties to even), including subnormals; Infinity past the range. */
const scaleBinary = (m: bigint, e2: number, negative: boolean): number => {
  if (m === 0n) return negative ? -0 : 0
  const bits = m.toString(2).length
  // Exponent of the leading bit, and how many bits the result can keep there (fewer when subnormal).
  const top = bits - 1 + e2
  if (top > 1023) return negative ? -Infinity : Infinity
  const keep = Math.min(53, top + 1075)
  const drop = bits - keep
  let q = m
  let exp = e2
  if (drop > 0) {
    const d = BigInt(drop)
    q = m >> d
    const rest = m - (q << d)
    const half = 1n << (d - 1n)
    if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n
    exp += drop
  }
  // Here q has at most 54 bits and -1074 ≤ exp ≤ 1023, so both factors are exact and so is the product (or it
  // overflows to ∞ when rounding carried past the largest float64).
  const v = Number(q) * 2 ** exp
  return negative ? -v : v
}

const parseHex = (s: string): GoFloat => {
  const m = HEX_RE.exec(s)
  if (m === null) return syntax
  const [, sign, whole = "", frac = "", exp = "0"] = m
  if (whole === "" && frac === "") return syntax
  const mantissa = BigInt("0x" + (whole + frac === "" ? "0" : whole + frac))
  // Go caps exponent digits at 10000 (anything beyond is already far out of range).
  const e = Math.max(-100000, Math.min(100000, Number(exp)))
  const v = scaleBinary(mantissa, e - 4 * frac.length, sign === "-")
  return Number.isFinite(v) ? { ok: true, value: v } : range
}

/**
 * Go's `strconv.ParseFloat(s, 64)`. `NaN`, `Inf`, `+Inf`, `-Infinity` (any case) parse to the special values,
 * as in Go; a finite text beyond float64 (`1e400`) is a range error; a value below the smallest subnormal
 * becomes 0 with no error, as in Go.
 */
export const parseGoFloat = (s: string): GoFloat => {
  if (SPECIAL_RE.test(s)) {
    const lower = s.toLowerCase()
    if (lower === "nan") return { ok: true, value: NaN }
    return { ok: true, value: lower.startsWith("-") ? -Infinity : Infinity }
  }
  let text = s
  if (text.includes("_")) {
    if (!underscoreOK(text)) return syntax
    text = text.replaceAll("_", "")
  }
  // Go recognises a hex prefix only when something follows it ("0x" alone is a syntax error either way).
  if (/^[+-]?0[xX]/.test(text)) return parseHex(text)
  if (!DECIMAL_RE.test(text)) return syntax
  const v = Number(text)
  return Number.isFinite(v) ? { ok: true, value: v } : range
}

/**
 * Fleare's `ConvertToNumber`: `ParseInt(s, 10, 64)` first (so `-0` is integer zero, `0`), then
 * `ParseFloat(s, 64)`. Undefined when Go would return an error.
 */
export const convertToNumber = (s: string): number | undefined => {
  // An in-range decimal integer converts to the nearest float64, which is also what ParseFloat gives; the only
  // difference is the sign of zero. Out of int64 range, ParseInt fails and ParseFloat takes over (same value).
  if (INT_RE.test(s)) return Number(s) + 0
  const r = parseGoFloat(s)
  return r.ok ? r.value : undefined
}

/**
 * A number NUM.* can store: `convertToNumber` limited to finite values. Fleare stores `json.Marshal(float64)`,
 * which fails for NaN and ±Inf (Fleare then silently stored an empty value that no NUM.* command could read
 * again); fleare-ts refuses them as not a valid number instead.
 */
export const parseStorableNumber = (s: string): number | undefined => {
  const v = convertToNumber(s)
  return v !== undefined && Number.isFinite(v) ? v : undefined
}

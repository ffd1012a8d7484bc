/**
 * The expression language of LIST.FIND and LIST.UPDATE, exactly as Fleare's `utils.ParsePath` and list filter
 * read it (SPEC §4.4). `$field<op>value` matches object elements by the (dotted) field; `<op>value` matches the
 * other elements. Both sides are compared as text: the element through Go's `fmt` `%v` printing, then parsed
 * back with Go's `strconv.ParseBool` / `ParseFloat` rules, so `1` equals `true` and `1e+06` equals `1000000`.
 * Pure functions, no state: the command handlers call `compileListExpr` once per request.
 */
import type { Json } from "../protocol/gojson/Json.js"
import { parseGoFloat } from "./GoNumber.js"

/** The operators, in the order Fleare tries them: the first one found decides. */
export const LIST_OPS = [">=", "<=", ">", "<", ":", "!", "~"] as const

/** One operator of the expression language. */
export type ListOp = (typeof LIST_OPS)[number]

/**
 * A parsed expression. `field` empty means the prefix form (non-object elements); `op` undefined means the text
 * was not an expression at all, and nothing matches it.
 */
export interface ListExpr {
  readonly field: string
  readonly op: ListOp | undefined
  readonly value: string
}

/**
 * Fleare's `ParsePath`: after a leading `$`, the first operator (in `LIST_OPS` order) CONTAINED anywhere in the
 * rest splits it into field and value (`$a>b>=c` splits at `>=`); without `$`, an operator must be a prefix.
 */
export const parseListExpr = (path: string): ListExpr => {
  if (path.startsWith("$")) {
    const rest = path.slice(1)
    for (const op of LIST_OPS) {
      const i = rest.indexOf(op)
      if (i !== -1) return { field: rest.slice(0, i), op, value: rest.slice(i + op.length) }
    }
  } else {
    for (const op of LIST_OPS) {
      if (path.startsWith(op)) return { field: "", op, value: path.slice(op.length) }
    }
  }
  return { field: "", op: undefined, value: "" }
}

// ---------------------------------------------------------------------------------------------------------------
// Go's fmt %v for the values encoding/json decodes into interface{}.

const isObject = (v: Json): v is { [key: string]: Json } => typeof v === "object" && v !== null && !Array.isArray(v)

// UTF-16 order equals UTF-8 byte order below the surrogates; beyond them, compare bytes.
const BELOW_SURROGATES = /^[\u0000-\ud7ff]*$/

/** Go's string order (UTF-8 bytes), which `fmt` uses to print map keys. */
const compareGoStrings = (a: string, b: string): number => {
  if (a === b) return 0
  if (BELOW_SURROGATES.test(a) && BELOW_SURROGATES.test(b)) return a < b ? -1 : 1
  return Buffer.compare(Buffer.from(a), Buffer.from(b))
}

/**
 * A float64 as `%v` prints it (strconv `'g'`, shortest digits): exponent form when the decimal exponent is below -4
 * or at least 6, with at least two exponent digits (`1e+06`, `1.234567e+06`, `1e-05`), else plain (`123456`,
 * `0.0001`). Not JavaScript's threshold of 21.
 */
export const formatGoFloat = (n: number): string => {
  if (Number.isNaN(n)) return "NaN"
  if (n === Infinity) return "+Inf"
  if (n === -Infinity) return "-Inf"
  if (n === 0) return Object.is(n, -0) ? "-0" : "0"
  // toExponential() without digits gives the shortest round-trip digits, as Go's shortest formatting does.
  const [mantissa, expText] = n.toExponential().split("e") as [string, string]
  const exp = Number(expText)
  if (exp < -4 || exp >= 6) {
    const abs = Math.abs(exp)
    return mantissa + "e" + (exp < 0 ? "-" : "+") + (abs < 10 ? "0" + abs : String(abs))
  }
  // In [-4, 6) JavaScript prints plain decimals with the same shortest digits.
  return String(n)
}

/** Output text queued between the values on `formatGoValue`'s stack. */
class Literal {
  constructor(readonly text: string) {}
}
const SPACE = new Literal(" ")
const CLOSE = new Literal("]")

const formatScalar = (v: null | boolean | number | string): string =>
  v === null ? "<nil>" : typeof v === "boolean" ? (v ? "true" : "false") : typeof v === "number" ? formatGoFloat(v) : v

/**
 * Go's `fmt.Sprintf("%v", v)` for a decoded JSON value: `<nil>`, `true`, float64 as `formatGoFloat`, strings
 * bare, arrays as `[a b]`, objects as `map[k:v ...]` with sorted keys. Iterative, because a stored element may be
 * nested up to Go's depth limit of 10000, deeper than the JavaScript stack allows recursion.
 */
export const formatGoValue = (root: Json): string => {
  if (typeof root !== "object" || root === null) return formatScalar(root)
  let out = ""
  const stack: Array<Json | Literal> = [root]
  while (stack.length > 0) {
    const v = stack.pop()!
    if (v instanceof Literal) out += v.text
    else if (Array.isArray(v)) {
      out += "["
      stack.push(CLOSE)
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push(v[i]!)
        if (i > 0) stack.push(SPACE)
      }
    } else if (isObject(v)) {
      out += "map["
      stack.push(CLOSE)
      const keys = Object.keys(v).sort(compareGoStrings)
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push(v[keys[i]!]!)
        stack.push(new Literal(keys[i]! + ":"))
        if (i > 0) stack.push(SPACE)
      }
    } else out += formatScalar(v)
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// Go's strconv.ParseBool (ParseFloat is GoNumber's).

const TRUE_TEXTS: ReadonlySet<string> = new Set(["1", "t", "T", "TRUE", "true", "True"])
const FALSE_TEXTS: ReadonlySet<string> = new Set(["0", "f", "F", "FALSE", "false", "False"])

/** Go's `strconv.ParseBool`: the value, or undefined where Go returns an error. */
export const parseGoBool = (s: string): boolean | undefined =>
  TRUE_TEXTS.has(s) ? true : FALSE_TEXTS.has(s) ? false : undefined

/** Go's `strconv.ParseFloat(s, 64)` as Fleare's comparisons use it: the value, or undefined on any error. */
const parseFloat64 = (s: string): number | undefined => {
  const r = parseGoFloat(s)
  return r.ok ? r.value : undefined
}

// ---------------------------------------------------------------------------------------------------------------
// Matching.

/** The representative of a code point's simple case-folding orbit, as far as JavaScript's case mapping tells. */
const foldKey = (c: string): string => {
  // Go keeps these alone (no simple folding), where JavaScript's mappings would join them to i/I.
  if (c === "\u0130" || c === "\u0131") return c
  const upper = c.toUpperCase()
  if ([...upper].length === 1) {
    const lower = upper.toLowerCase()
    if ([...lower].length === 1) return lower
  }
  const lower = c.toLowerCase()
  return [...lower].length === 1 ? lower : c
}

/**
 * Go's `strings.EqualFold`: equal under simple Unicode case folding, code point by code point (so `ß` does not
 * equal `SS`, but `K` (Kelvin sign) equals `k`). Not a regex and not a substring test.
 */
export const equalFold = (a: string, b: string): boolean => {
  if (a === b) return true
  // ASCII fast path.
  if (/^[\x00-\x7f]*$/.test(a) && /^[\x00-\x7f]*$/.test(b))
    return a.length === b.length && a.toLowerCase() === b.toLowerCase()
  const ca = [...a]
  const cb = [...b]
  if (ca.length !== cb.length) return false
  for (let i = 0; i < ca.length; i++) {
    if (ca[i] !== cb[i] && foldKey(ca[i]!) !== foldKey(cb[i]!)) return false
  }
  return true
}

/** Fleare's `valueEqual`: as booleans if both parse as bool, else as float64 if both parse, else as text. */
export const valueEqual = (a: string, b: string): boolean => {
  const ab = parseGoBool(a)
  if (ab !== undefined) {
    const bb = parseGoBool(b)
    if (bb !== undefined) return ab === bb
  }
  const af = parseFloat64(a)
  if (af !== undefined) {
    const bf = parseFloat64(b)
    // Once both are numbers the answer is the float comparison, so `NaN` never equals `NaN`.
    if (bf !== undefined) return af === bf
  }
  return a === b
}

/** Fleare's `match`: compares an element's `%v` text (left) with the expression's value (right). */
export const matchText = (left: string, op: ListOp | undefined, right: string): boolean => {
  switch (op) {
    case ":":
      return valueEqual(left, right)
    case "!":
      return !valueEqual(left, right)
    case "~":
      return equalFold(left, right)
    case ">":
    case "<":
    case ">=":
    case "<=": {
      const a = parseFloat64(left)
      const b = parseFloat64(right)
      if (a === undefined || b === undefined) return false
      return op === ">" ? a > b : op === "<" ? a < b : op === ">=" ? a >= b : a <= b
    }
    case undefined:
      return false
  }
}

/**
 * Fleare's `getNestedValue`: walks a dotted field through objects. A missing last part is Go's nil (`<nil>`);
 * a missing or non-object middle part means "no value", and the element does not match.
 */
const nestedText = (obj: { [key: string]: Json }, field: string): string | undefined => {
  let v: Json = obj
  for (const part of field.split(".")) {
    if (!isObject(v)) return undefined
    // Own properties only: `constructor` or `__proto__` must not reach Object.prototype.
    v = Object.hasOwn(v, part) ? v[part]! : null
  }
  return formatGoValue(v)
}

/** Does one list element match the parsed expression? */
export const elementMatches = (expr: ListExpr, element: Json): boolean => {
  if (expr.op === undefined) return false
  if (isObject(element)) {
    if (expr.field === "") return false
    const text = nestedText(element, expr.field)
    return text !== undefined && matchText(text, expr.op, expr.value)
  }
  if (expr.field !== "") return false
  return matchText(formatGoValue(element), expr.op, expr.value)
}

/** A predicate for `path`, parsed once. */
export const compileListExpr = (path: string): ((element: Json) => boolean) => {
  const expr = parseListExpr(path)
  if (expr.op === undefined) return () => false
  return (element) => elementMatches(expr, element)
}

/** The elements of `list` matching `path`, in order (LIST.FIND). */
export const findMatches = (list: ReadonlyArray<Json>, path: string): Array<Json> => list.filter(compileListExpr(path))

/**
 * `list` with every element matching `path` replaced by `replacement` (LIST.UPDATE), and how many were
 * replaced. A new array: the stored one is never changed.
 */
export const updateMatches = (
  list: ReadonlyArray<Json>,
  path: string,
  replacement: Json
): { readonly list: Array<Json>; readonly count: number } => {
  const matches = compileListExpr(path)
  let count = 0
  const out = list.map((element) => {
    if (!matches(element)) return element
    count++
    return replacement
  })
  return { list: out, count }
}

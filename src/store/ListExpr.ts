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
export const valueEqual = (a: string, b: string): boolean => rightSide(b).equal(a)

/** Fleare's `match`: compares an element's `%v` text (left) with the expression's value (right). */
export const matchText = (left: string, op: ListOp | undefined, right: string): boolean =>
  op === undefined ? false : rightSide(right).match(left, op)

/**
 * The expression's value (the right side of every comparison), parsed once per request rather than once per
 * element: with a long value and a long list, re-parsing it per element made LIST.FIND cost list length ×
 * expression length.
 */
class RightSide {
  readonly bool: boolean | undefined
  readonly float: number | undefined
  readonly ascii: boolean
  readonly lower: string

  constructor(readonly text: string) {
    this.bool = parseGoBool(text)
    this.float = parseFloat64(text)
    this.ascii = ASCII.test(text)
    this.lower = this.ascii ? text.toLowerCase() : text
  }

  /** `valueEqual(left, this.text)`. */
  equal(left: string): boolean {
    if (this.bool !== undefined) {
      const lb = parseGoBool(left)
      if (lb !== undefined) return lb === this.bool
    }
    if (this.float !== undefined) {
      const lf = parseFloat64(left)
      // Once both are numbers the answer is the float comparison, so `NaN` never equals `NaN`.
      if (lf !== undefined) return lf === this.float
    }
    return left === this.text
  }

  /** `equalFold(left, this.text)`. */
  fold(left: string): boolean {
    if (left === this.text) return true
    if (this.ascii && ASCII.test(left)) return left.length === this.text.length && left.toLowerCase() === this.lower
    const points = this.points()
    const cl = [...left]
    if (cl.length !== points.length) return false
    for (let i = 0; i < cl.length; i++) {
      if (cl[i] !== points[i] && foldKey(cl[i]!) !== this.foldedAt(i)) return false
    }
    return true
  }

  private codePoints: ReadonlyArray<string> | undefined
  private folded: Array<string | undefined> | undefined

  // The value's code points, split once.
  private points(): ReadonlyArray<string> {
    return (this.codePoints ??= [...this.text])
  }

  // `foldKey` of the value's i-th code point, computed once.
  private foldedAt(i: number): string {
    const folded = (this.folded ??= [])
    return (folded[i] ??= foldKey(this.points()[i]!))
  }

  /** `matchText(left, op, this.text)`. */
  match(left: string, op: ListOp): boolean {
    switch (op) {
      case ":":
        return this.equal(left)
      case "!":
        return !this.equal(left)
      case "~":
        return this.fold(left)
      case ">":
      case "<":
      case ">=":
      case "<=": {
        const b = this.float
        if (b === undefined) return false
        const a = parseFloat64(left)
        if (a === undefined) return false
        return op === ">" ? a > b : op === "<" ? a < b : op === ">=" ? a >= b : a <= b
      }
    }
  }
}

const ASCII = /^[\x00-\x7f]*$/

const rightSide = (text: string): RightSide => new RightSide(text)

/**
 * Fleare's `getNestedValue`: walks a dotted field (split once per request) through objects. A missing last part
 * is Go's nil (`<nil>`); a missing or non-object middle part means "no value", and the element does not match.
 */
const nestedText = (obj: { [key: string]: Json }, parts: ReadonlyArray<string>): string | undefined => {
  let v: Json = obj
  for (const part of parts) {
    if (!isObject(v)) return undefined
    // Own properties only: `constructor` or `__proto__` must not reach Object.prototype.
    v = Object.hasOwn(v, part) ? v[part]! : null
  }
  return formatGoValue(v)
}

/** A parsed expression ready to test elements: its field split and its value parsed once. */
interface Compiled {
  readonly expr: ListExpr
  readonly op: ListOp
  readonly parts: ReadonlyArray<string>
  readonly right: RightSide
}

const compile = (expr: ListExpr): Compiled | undefined =>
  expr.op === undefined
    ? undefined
    : { expr, op: expr.op, parts: expr.field === "" ? [] : expr.field.split("."), right: rightSide(expr.value) }

const compiledMatches = (c: Compiled, element: Json): boolean => {
  if (isObject(element)) {
    if (c.expr.field === "") return false
    const text = nestedText(element, c.parts)
    return text !== undefined && c.right.match(text, c.op)
  }
  if (c.expr.field !== "") return false
  return c.right.match(formatGoValue(element), c.op)
}

/** Does one list element match the parsed expression? */
export const elementMatches = (expr: ListExpr, element: Json): boolean => {
  const c = compile(expr)
  return c !== undefined && compiledMatches(c, element)
}

/**
 * A predicate for `path`, parsed once: the work per element is then linear in the element's own text, and the
 * whole match linear in the expression plus the list.
 */
export const compileListExpr = (path: string): ((element: Json) => boolean) => {
  const c = compile(parseListExpr(path))
  if (c === undefined) return () => false
  return (element) => compiledMatches(c, element)
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

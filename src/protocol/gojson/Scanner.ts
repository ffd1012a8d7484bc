/**
 * Go's JSON scanner (`checkValid`): its grammar, its nesting limit and its syntax error texts, which reach clients
 * verbatim (`invalid character 'H' looking for beginning of value`). A state machine over UTF-8 bytes, iterative,
 * so a deeply nested document cannot overflow the stack.
 */

/** Go's scanner limit on nesting (`maxNestingDepth`). */
export const MAX_DEPTH = 10000

export const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d
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

export const syntaxError = (c: number, context: string): string => "invalid character " + quoteChar(c) + " " + context

export const UNEXPECTED_END = "unexpected end of JSON input"

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
export const scan = (b: Uint8Array, onNumber?: (start: number, end: number) => void): string | undefined => {
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

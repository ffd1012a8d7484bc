/**
 * How the CLI prints replies, as Fleare's CLI does: `Ok <result>` or `Error <message>`. A result that is a
 * JSON object or array is pretty-printed (2-space indent, keys sorted) and, on a terminal, coloured. Numbers
 * and strings are printed exactly as the server wrote them (no float rounding of big integers, escapes such
 * as `\u003c` kept), because the JSON is re-laid out, not re-encoded.
 */

/** ANSI colours, or none (for pipes, files and `NO_COLOR`). */
export interface Palette {
  readonly ok: (s: string) => string
  readonly error: (s: string) => string
  readonly key: (s: string) => string
  readonly string: (s: string) => string
  readonly number: (s: string) => string
  readonly literal: (s: string) => string
  readonly prompt: (s: string) => string
}

const sgr =
  (open: string) =>
  (s: string): string =>
    `\x1b[${open}m${s}\x1b[0m`

/** Colours for a terminal. */
export const colors: Palette = {
  ok: sgr("32"),
  error: sgr("31"),
  key: sgr("34;1"),
  string: sgr("32"),
  number: sgr("36"),
  literal: sgr("33"),
  prompt: sgr("4;36")
}

const plain = (s: string): string => s

/** No colours. */
export const noColors: Palette = {
  ok: plain,
  error: plain,
  key: plain,
  string: plain,
  number: plain,
  literal: plain,
  prompt: plain
}

/** JSON as laid out in the source: scalars keep their exact text. */
type Node =
  | { readonly t: "object"; readonly entries: ReadonlyArray<readonly [raw: string, key: string, value: Node]> }
  | { readonly t: "array"; readonly items: ReadonlyArray<Node> }
  | { readonly t: "string" | "number" | "literal"; readonly raw: string }

/** A reader over text already known to be valid JSON (checked by `JSON.parse` first). */
class Reader {
  i = 0
  constructor(readonly s: string) {}

  private skip(): void {
    while (this.i < this.s.length && " \t\n\r".includes(this.s[this.i]!)) this.i++
  }

  private string(): string {
    const start = this.i
    this.i++
    while (this.s[this.i] !== '"') this.i += this.s[this.i] === "\\" ? 2 : 1
    this.i++
    return this.s.slice(start, this.i)
  }

  node(): Node {
    this.skip()
    const c = this.s[this.i]!
    if (c === "{") {
      this.i++
      const entries: Array<readonly [string, string, Node]> = []
      this.skip()
      if (this.s[this.i] === "}") this.i++
      else
        for (;;) {
          this.skip()
          const raw = this.string()
          this.skip()
          this.i++ // ':'
          entries.push([raw, JSON.parse(raw) as string, this.node()])
          this.skip()
          if (this.s[this.i++] === "}") break
        }
      return { t: "object", entries }
    }
    if (c === "[") {
      this.i++
      const items: Array<Node> = []
      this.skip()
      if (this.s[this.i] === "]") this.i++
      else
        for (;;) {
          items.push(this.node())
          this.skip()
          if (this.s[this.i++] === "]") break
        }
      return { t: "array", items }
    }
    if (c === '"') return { t: "string", raw: this.string() }
    const start = this.i
    while (this.i < this.s.length && !",]} \t\n\r".includes(this.s[this.i]!)) this.i++
    const raw = this.s.slice(start, this.i)
    return { t: raw === "true" || raw === "false" || raw === "null" ? "literal" : "number", raw }
  }
}

/** Go sorts map keys by their UTF-8 bytes; so does this (JavaScript's default sort uses UTF-16 units). */
const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a), Buffer.from(b))

const render = (n: Node, p: Palette, indent: string): string => {
  switch (n.t) {
    case "object": {
      if (n.entries.length === 0) return "{}"
      const inner = indent + "  "
      const sorted = [...n.entries].sort((a, b) => byUtf8(a[1], b[1]))
      return `{\n${sorted.map(([raw, , v]) => `${inner}${p.key(raw)}: ${render(v, p, inner)}`).join(",\n")}\n${indent}}`
    }
    case "array": {
      if (n.items.length === 0) return "[]"
      const inner = indent + "  "
      return `[\n${n.items.map((v) => inner + render(v, p, inner)).join(",\n")}\n${indent}]`
    }
    case "string":
      return p.string(n.raw)
    case "number":
      return p.number(n.raw)
    case "literal":
      return p.literal(n.raw)
  }
}

/** `text` pretty-printed if it is a JSON object or array, else `undefined` (printed as is). */
export const prettyJson = (text: string, palette: Palette = noColors): string | undefined => {
  const first = text.trimStart()[0]
  if (first !== "{" && first !== "[") return undefined
  try {
    JSON.parse(text)
  } catch {
    return undefined
  }
  return render(new Reader(text).node(), palette, "")
}

/** The line(s) for a successful reply: `Ok`, then the result (pretty when it is an object or array). */
export const formatOk = (result: string, palette: Palette): string =>
  result === "" ? palette.ok("Ok") : `${palette.ok("Ok")} ${prettyJson(result, palette) ?? result}`

/** The line for a failure: `Error <message>` (a trailing newline from a Fleare server is dropped). */
export const formatError = (message: string, palette: Palette): string =>
  `${palette.error("Error")} ${message.endsWith("\n") ? message.slice(0, -1) : message}`

/**
 * The one error of configuration: a key has a wrong type or value, a source cannot be read or parsed, or keys
 * contradict each other. `message` is one line naming the source or key, what was expected and what was found
 * (`invalid configuration: server.port: Expected number, actual "abc"`); the server prints it at startup and an
 * embedder gets the same text from `ServerConfig.make`.
 */
import * as Data from "effect/Data"
import * as ParseResult from "effect/ParseResult"

/** The configuration could not be loaded or decoded; `message` says which source and key, in one line. */
export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly message: string }> {}

/** `security.users[0].password`: a key path as it reads in YAML terms, array indexes in brackets. */
const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.length === 0
    ? "(root)"
    : path.reduce<string>(
        (text, k) => (typeof k === "number" ? `${text}[${k}]` : text === "" ? String(k) : `${text}.${String(k)}`),
        ""
      )

/**
 * A schema failure in one line: `key.path: Expected <type>, actual <value>` per key, the keys joined by `; `.
 * The alternatives of one key (a choice of literals) are one issue: `Expected "LRU" | "LFU", actual "LRX"`. A
 * password's value is never echoed (the message ends up in logs).
 */
export const formatIssues = (error: ParseResult.ParseError): string => {
  const byKey = new Map<string, { expected: Array<string>; actual: string | undefined; other: Array<string> }>()
  for (const issue of ParseResult.ArrayFormatter.formatErrorSync(error)) {
    const key = pathText(issue.path)
    const entry = byKey.get(key) ?? { expected: [], actual: undefined, other: [] }
    byKey.set(key, entry)
    const message = issue.message.replace(/\s*\n\s*/g, " ")
    const m = /^Expected (.*), actual (.*)$/.exec(message)
    if (m !== null && (entry.actual === undefined || entry.actual === m[2])) {
      entry.expected.push(m[1]!)
      entry.actual = m[2]!
    } else entry.other.push(message)
  }
  return [...byKey]
    .map(([key, { expected, actual, other }]) => {
      const secret = /(^|\.)password$/.test(key)
      const parts = [
        ...(expected.length > 0 ? [`Expected ${expected.join(" | ")}${secret ? "" : `, actual ${actual}`}`] : []),
        ...other.map((o) => (secret ? o.replace(/, actual .*$/, "") : o))
      ]
      return `${key}: ${parts.join(", ")}`
    })
    .join("; ")
}

/**
 * The benchmark's tests: for each, the request it sends (pre-encoded once, with the key patched in place per
 * request) and the check of its reply. A reply that fails its check is an error with a short text saying what
 * was expected and what came back; nothing is ignored.
 *
 *   ping     PING                         -> Ok, "PONG ..."
 *   set      SET key:<n> <value>          -> Ok, empty result
 *   get      GET key:<n>                  -> Ok, "" or exactly the value `set` writes (same --data-size)
 *   session  SESSION                      -> Ok, a JSON object
 *   incr     NUM.INCR num:<n>             -> Ok, a number
 *
 * Keys are fixed-width (`key:` + 12 digits), so every request of a test has the same size and its key is
 * written into a copy of the template without re-encoding.
 */
import { FrameWriter } from "../protocol/Message.js"
import { isJsonObject } from "./jsonCheck.js"
import { makeReplyView, readReply, type ReplyView, resultText, statusIsOk, statusText } from "./reply.js"

/** The tests the tool knows, in the order they run by default. */
export const TEST_NAMES = ["ping", "set", "get", "incr", "session"] as const

/** One test's name. */
export type TestName = (typeof TEST_NAMES)[number]

/** True when `s` names a test. */
export const isTestName = (s: string): s is TestName => (TEST_NAMES as ReadonlyArray<string>).includes(s)

/** Digits in a key's number: keys run from 0 to 10^12 - 1. */
export const KEY_DIGITS = 12

/** What a test sends and how its replies are checked. */
export interface Workload {
  readonly name: TestName
  /** The command as sent, for reports. */
  readonly label: string
  /** One framed request; its key digits (if any) start at `keyOffset`. */
  readonly frame: Buffer
  /** Offset of the key digits in `frame`, or -1 when the request has no key. */
  readonly keyOffset: number
  /** Undefined when the reply body is right, else the error text. */
  readonly check: (body: Buffer) => string | undefined
}

const frameOf = (command: string, args: ReadonlyArray<string>): Buffer => {
  const w = new FrameWriter(256)
  w.command(command, args)
  return w.take()
}

const PREVIEW = 60

const preview = (s: string): string => JSON.stringify(s.length > PREVIEW ? s.slice(0, PREVIEW) + "..." : s)

/** The error text for a reply that is not what `expected` describes (or is not a reply at all). */
const describe = (label: string, body: Buffer, v: ReplyView, decoded: boolean, expected: string): string => {
  if (!decoded) return `${label}: undecodable reply (${body.length} bytes)`
  const result = resultText(body, v)
  if (!statusIsOk(body, v)) {
    const status = statusText(body, v)
    return status === "Error"
      ? `${label}: Error ${preview(result)}`
      : `${label}: status ${JSON.stringify(status)} instead of "Ok": ${preview(result)}`
  }
  return `${label}: expected ${expected}, got ${preview(result)} (${v.resultEnd - v.resultStart} bytes)`
}

const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/

/** The value `set` writes and `get` expects: `size` ASCII "x"s. */
export const valueOf = (size: number): string => "x".repeat(size)

/** Key `n` of a test's keyspace (`key:` for set/get, `num:` for incr), fixed-width. */
export const keyOf = (prefix: string, n: number): string => prefix + String(n).padStart(KEY_DIGITS, "0")

/** Builds the workload of one test. `dataSize` is the SET value size (and what GET expects). */
export const makeWorkload = (name: TestName, dataSize: number): Workload => {
  const view = makeReplyView()
  // Each check parses the reply first; `ok` is the test's own condition on an Ok reply.
  const checker =
    (label: string, expected: string, ok: (body: Buffer, v: ReplyView) => boolean) =>
    (body: Buffer): string | undefined => {
      const decoded = readReply(body, view)
      if (decoded && statusIsOk(body, view) && ok(body, view)) return undefined
      return describe(label, body, view, decoded, expected)
    }
  const keyed = (label: string, prefix: string, args: ReadonlyArray<string>) => {
    const key = keyOf(prefix, 0)
    const frame = frameOf(label, [key, ...args])
    return { frame, keyOffset: frame.indexOf(key) + prefix.length }
  }
  switch (name) {
    case "ping":
      return {
        name,
        label: "PING",
        frame: frameOf("PING", []),
        keyOffset: -1,
        check: checker("PING", `"PONG ..."`, (b, v) => {
          const s = v.resultStart
          return v.resultEnd - s >= 4 && b[s] === 0x50 && b[s + 1] === 0x4f && b[s + 2] === 0x4e && b[s + 3] === 0x47
        })
      }
    case "set":
      return {
        name,
        label: "SET",
        ...keyed("SET", "key:", [valueOf(dataSize)]),
        check: checker("SET", "an empty result", (_b, v) => v.resultEnd === v.resultStart)
      }
    case "get": {
      const value = Buffer.from(valueOf(dataSize))
      return {
        name,
        label: "GET",
        ...keyed("GET", "key:", []),
        check: checker(
          "GET",
          `"" or the ${dataSize}-byte value SET writes`,
          (b, v) => v.resultEnd === v.resultStart || value.compare(b, v.resultStart, v.resultEnd) === 0
        )
      }
    }
    case "session":
      return {
        name,
        label: "SESSION",
        frame: frameOf("SESSION", []),
        keyOffset: -1,
        check: checker("SESSION", "a JSON object", (b, v) => isJsonObject(b, v.resultStart, v.resultEnd))
      }
    case "incr":
      return {
        name,
        label: "NUM.INCR",
        ...keyed("NUM.INCR", "num:", []),
        check: checker("NUM.INCR", "a number", (b, v) => NUMBER.test(resultText(b, v)))
      }
  }
}

/** Writes the key number `n` as KEY_DIGITS ASCII digits at `offset` of `buf`. */
export const writeKey = (buf: Buffer, offset: number, n: number): void => {
  for (let i = offset + KEY_DIGITS - 1; i >= offset; i--) {
    const q = Math.floor(n / 10)
    buf[i] = 0x30 + (n - q * 10)
    n = q
  }
}

/**
 * List commands: LIST.SET, LIST.PUSH, LIST.ISET, LIST.GET, LIST.LEN, LIST.POP, LIST.GPOP, LIST.FIND, LIST.UPDATE
 * (SPEC §4.4). A list is stored as kind List holding an array. PUSH, POP and GPOP change it in place through
 * `Keyspace.mutate` (O(values pushed), logged as the change); the other writes build a new array. Either way the
 * read and the write happen in one synchronous step, so concurrent pushes never lose an element.
 * Argument checks run in Fleare's order, which decides which error a bad request gets.
 */
import { CommandFailed, fail } from "../errors.js"
import type { Json } from "../protocol/gojson/Json.js"
import { marshal } from "../protocol/gojson/Marshal.js"
import { parse } from "../protocol/gojson/Parse.js"
import { unmarshalTypeError } from "../protocol/gojson/UnmarshalTypeError.js"
import type { OkResult } from "../protocol/Reply.js"
import { findMatches, updateMatches } from "../store/ListExpr.js"
import type { KeyspaceShape } from "../store/Keyspace.js"
import { NULL_LIST, storedText, type Value } from "../store/Value.js"
import { anyCount, checkKey, checkKeyedArgs, ensureUnmarshal, keyMustBeProvided, parseGoInt } from "./args.js"
import { syncCommand, type CommandContext, type CommandSpec } from "./Command.js"
import { checkExpression } from "./limits.js"

/** The kind error of LIST.GET, LEN, FIND and UPDATE. */
const NOT_A_LIST = "The current value associated with the provided key must be a list"
/** The kind error of LIST.POP and GPOP (Fleare words it differently there). */
const EXISTING_NOT_A_LIST = "the existing value for the provided key must be a list"
const BAD_INDEX = "Invalid index value. The index must be a number greater than or equal to 0"
const OUT_OF_RANGE = "index out of range"

/** Go's name for the unmarshal target, `[]interface {}`. */
const GO_SLICE = "[]interface {}"

/** The top-level JSON kind of syntactically valid text, from its first non-space character. */
const topLevelKind = (text: string): Json => {
  const c = text.trimStart()[0]
  return c === "{" ? {} : c === "[" ? [] : c === '"' ? "" : c === "t" || c === "f" ? true : 0
}

/**
 * Fleare's `json.Unmarshal(obj.Value, &arr)` into `[]interface{}`, whatever the key's kind: a list as is, a JSON
 * array stored under another kind converted (SET k '[1]'), `null` as Go's nil slice (`NULL_LIST`), anything else
 * Go's error.
 */
const unmarshalList = (v: Value): ReadonlyArray<Json> | CommandFailed => {
  if (v.kind === "List") return v.value
  const text = storedText(v)
  const r = parse(text)
  if (r.ok) {
    if (r.value === null) return NULL_LIST
    if (Array.isArray(r.value)) return r.value
    return fail.character(unmarshalTypeError(r.value, GO_SLICE))
  }
  // A number beyond float64 (`{"a":1e400}`) is only reported by Go when it decodes it, i.e. inside an array; any
  // other top-level kind fails on the kind first.
  if (r.error.startsWith("json: cannot unmarshal number")) {
    const kind = topLevelKind(text)
    if (!Array.isArray(kind)) return fail.character(unmarshalTypeError(kind, GO_SLICE))
  }
  return fail.character(r.error)
}

/** Go's `utils.ObjectToByte`: a JSON `null` answers an empty result, anything else its compact JSON. */
const elementText = (v: Json): string => (v === null ? "" : marshal(v))

/** Stores `list` under `key` (clearing any expiry, as every Fleare write does) and answers `ok`. */
const store = (ks: KeyspaceShape, ctx: CommandContext, key: string, list: ReadonlyArray<Json>, ok: string) =>
  ks.set(key, { kind: "List", value: list }, ctx.now) ?? ok

/**
 * The read side shared by GET, LEN, FIND and UPDATE: undefined for a missing key, the kind error for anything
 * but a list, else the list.
 */
const readList = (ctx: CommandContext, key: string): ReadonlyArray<Json> | CommandFailed | undefined => {
  const entry = ctx.services.keyspace.get(key, ctx.now)
  if (entry === undefined) return undefined
  if (entry.value.kind !== "List") return fail.value(NOT_A_LIST)
  return entry.value.value
}

const listSet = syncCommand({
  name: "LIST.SET",
  syntax: "LIST.SET <key> <value> [<value> ...]",
  summary: "Replaces the key with a list of the values (JSON where they parse); returns the count.",
  class: "write",
  run: (ctx, args) => {
    const bad = checkKeyedArgs(args, (n) => n >= 2, "invalid number of arguments,Syntax: LIST.SET <key> [<value>]")
    if (bad) return bad
    const key = args[0]!
    const list = args.slice(1).map(ensureUnmarshal)
    return store(ctx.services.keyspace, ctx, key, list, String(list.length))
  }
})

const listPush = syncCommand({
  name: "LIST.PUSH",
  syntax: "LIST.PUSH <key> [<value> ...]",
  summary: "Appends the values at the end of the list, creating it if needed; returns the new length.",
  class: "write",
  run: (ctx, args) => {
    const bad = checkKeyedArgs(args, anyCount, "")
    if (bad) return bad
    const key = args[0]!
    const ks = ctx.services.keyspace
    const entry = ks.get(key, ctx.now)
    const values = args.slice(1).map(ensureUnmarshal)
    if (entry !== undefined && entry.value.kind === "List" && entry.value.value !== NULL_LIST) {
      // In place: O(values), and the log records the values, not the list. A push of nothing still clears the TTL.
      const length = entry.value.value.length + values.length
      return ks.mutate(key, { op: "push", values }, ctx.now) ?? String(length)
    }
    // No kind check, as in Fleare: any value holding a JSON array becomes a list. A push of no values onto a
    // missing key (or a JSON null) stores Fleare's nil slice, JSON `null` (SPEC A.3).
    const current = entry === undefined ? NULL_LIST : unmarshalList(entry.value)
    if (current instanceof CommandFailed) return current
    const list = values.length === 0 ? current : current.concat(values)
    return store(ks, ctx, key, list, String(list.length))
  }
})

const listIset = syncCommand({
  name: "LIST.ISET",
  syntax: "LIST.ISET <key> <index> <value>",
  summary: "Replaces the element at index (index 0 creates a missing list).",
  class: "write",
  run: (ctx, args) => {
    if (args.length === 0) return keyMustBeProvided()
    // Fleare's text names LIST.SET here.
    if (args.length !== 3) return fail.argument("invalid number of arguments,Syntax: LIST.SET <key> <index> <value>")
    const index = parseGoInt(args[1]!)
    if (index === undefined || index < 0) return fail.argument(BAD_INDEX)
    const key = args[0]!
    const bad = checkKey(key)
    if (bad) return bad
    const ks = ctx.services.keyspace
    const element = ensureUnmarshal(args[2]!)
    const entry = ks.get(key, ctx.now)
    if (entry === undefined) {
      if (index > 0) return fail.index(OUT_OF_RANGE)
      return store(ks, ctx, key, [element], "")
    }
    // No kind check, as in Fleare: a JSON array under another kind is converted.
    const current = unmarshalList(entry.value)
    if (current instanceof CommandFailed) return current
    if (index >= current.length) return fail.index(OUT_OF_RANGE)
    const list = current.slice()
    list[index] = element
    return store(ks, ctx, key, list, "")
  }
})

const listGet = syncCommand({
  name: "LIST.GET",
  syntax: "LIST.GET <key> [<index>]",
  summary: "Returns the whole list as JSON, or the element at index.",
  class: "read",
  run: (ctx, args): OkResult | CommandFailed => {
    const bad = checkKeyedArgs(args, (n) => n <= 2, "invalid number of arguments")
    if (bad) return bad
    const key = args[0]!
    const list = readList(ctx, key)
    if (list === undefined) return ""
    if (list instanceof CommandFailed) return list
    // Go marshals the nil slice of a stored `null` as `null`.
    if (args.length === 1) return list === NULL_LIST ? "null" : marshal(list as Array<Json>)
    const index = parseGoInt(args[1]!)
    if (index === undefined || index < 0) return fail.argument(BAD_INDEX)
    if (index >= list.length) return fail.index(OUT_OF_RANGE)
    return elementText(list[index]!)
  }
})

const listLen = syncCommand({
  name: "LIST.LEN",
  syntax: "LIST.LEN <key>",
  summary: "Returns the length of the list, 0 for a missing key.",
  class: "read",
  run: (ctx, args) => {
    const bad = checkKeyedArgs(args, (n) => n === 1, "invalid number of arguments, Syntax: LIST.LEN <key>")
    if (bad) return bad
    const key = args[0]!
    const list = readList(ctx, key)
    if (list === undefined) return "0"
    if (list instanceof CommandFailed) return list
    return String(list.length)
  }
})

/**
 * The read side of POP and GPOP: Fleare unmarshals the stored bytes BEFORE checking the kind, so a non-array
 * value gets the unmarshal error and an array under another kind gets the kind error.
 */
const readForPop = (value: Value): ReadonlyArray<Json> | CommandFailed => {
  const list = unmarshalList(value)
  if (list instanceof CommandFailed) return list
  return value.kind === "List" ? list : fail.value(EXISTING_NOT_A_LIST)
}

const listPop = syncCommand({
  name: "LIST.POP",
  syntax: "LIST.POP <key>",
  summary: "Removes and returns the last element as JSON (a one-element list deletes the key).",
  class: "write",
  run: (ctx, args) => {
    const bad = checkKeyedArgs(args, anyCount, "")
    if (bad) return bad
    const key = args[0]!
    const ks = ctx.services.keyspace
    const entry = ks.get(key, ctx.now)
    if (entry === undefined) return ""
    const list = readForPop(entry.value)
    if (list instanceof CommandFailed) return list
    if (list.length === 0) return ""
    if (list.length === 1) {
      ks.delete(key, ctx.now)
      return elementText(list[0]!)
    }
    const last = list[list.length - 1]!
    // Fleare's documented quirk, kept: a `null` last element answers `` and stays in the list, so POP never gets
    // past it (LIST.GPOP removes it). No data is lost: the element is still there for GET/GPOP.
    if (last === null) return ""
    return ks.mutate(key, { op: "pop" }, ctx.now) ?? marshal(last)
  }
})

const listGpop = syncCommand({
  name: "LIST.GPOP",
  syntax: "LIST.GPOP <key>",
  summary: "Removes and returns the last element as JSON (the emptied list stays); error for a missing key.",
  class: "write",
  run: (ctx, args) => {
    const bad = checkKeyedArgs(args, anyCount, "")
    if (bad) return bad
    const key = args[0]!
    const ks = ctx.services.keyspace
    const entry = ks.get(key, ctx.now)
    if (entry === undefined) return fail.key("key does not exist")
    const list = readForPop(entry.value)
    if (list instanceof CommandFailed) return list
    if (list.length === 0) return ""
    // A `null` last element is removed and answers `` (Go's ObjectToByte of nil). The emptied list stays.
    const last = list[list.length - 1]!
    return ks.mutate(key, { op: "pop" }, ctx.now) ?? elementText(last)
  }
})

const listFind = syncCommand({
  name: "LIST.FIND",
  syntax: "LIST.FIND <key> <expr>",
  summary: "Returns the elements matching expr (`:v`, `!v`, `~v`, `>v`, `$field>=v`, `$a.b:v`...) as JSON, or null.",
  class: "read",
  run: (ctx, args) => {
    const bad = checkKeyedArgs(args, (n) => n === 2, "invalid number of arguments, Syntax: LIST.FIND <key> <path>")
    if (bad) return bad
    const key = args[0]!
    const long = checkExpression(args[1]!, ctx.services.config.limits.max_expression_bytes)
    if (long) return long
    const list = readList(ctx, key)
    if (list === undefined) return ""
    if (list instanceof CommandFailed) return list
    if (list.length === 0) return ""
    const found = findMatches(list, args[1]!)
    // Go marshals the nil slice of no matches as `null`.
    return found.length === 0 ? "null" : marshal(found)
  }
})

const listUpdate = syncCommand({
  name: "LIST.UPDATE",
  syntax: "LIST.UPDATE <key> <expr> <value>",
  summary: "Replaces every element matching expr (as in LIST.FIND) with value; returns how many.",
  class: "write",
  run: (ctx, args) => {
    if (args.length === 0) return keyMustBeProvided()
    if (args.length !== 3) {
      return fail.argument("invalid number of arguments, Syntax: LIST.UPDATE <key> <path> <value>")
    }
    const key = args[0]!
    const bad = checkKey(key)
    if (bad) return bad
    const long = checkExpression(args[1]!, ctx.services.config.limits.max_expression_bytes)
    if (long) return long
    const list = readList(ctx, key)
    if (list === undefined) return ""
    if (list instanceof CommandFailed) return list
    if (list.length === 0) return ""
    const updated = updateMatches(list, args[1]!, ensureUnmarshal(args[2]!))
    // Fleare writes the list back even when nothing matched (which, like every write, clears the expiry).
    return store(ctx.services.keyspace, ctx, key, updated.count === 0 ? list : updated.list, String(updated.count))
  }
})

/** The list commands. */
export const listCommands: ReadonlyArray<CommandSpec> = [
  listSet,
  listPush,
  listIset,
  listGet,
  listLen,
  listPop,
  listGpop,
  listFind,
  listUpdate
]

/**
 * JSON document commands: JSON.SET, JSON.GET, JSON.PGET, JSON.ADD, JSON.MERGE, JSON.REMOVE, JSON.SETREF
 * (SPEC §4.6). A document is kept as text: JSON.SET stores the argument verbatim (so JSON.GET with one argument
 * answers it byte for byte), every other write stores Go's sorted, compact re-marshalling. Reads with a path parse
 * the text as Fleare does (into a `map[string]interface {}`), so a stored `[1]` or `"x"` answers Go's unmarshal
 * error. Every write stores a new value, which discards the key's TTL (§4.7).
 */
import { CommandFailed, fail } from "../errors.js"
import { isJsonObject, type Json, type JsonObject } from "../protocol/gojson/Json.js"
import { marshal } from "../protocol/gojson/Marshal.js"
import { isValid, parseObject, parseStringMap } from "../protocol/gojson/Parse.js"
import { deepMerge, getPath, removePath, setPath } from "../store/JsonPath.js"
import type { Entry } from "../store/Keyspace.js"
import { anyCount, checkKeyedArgs, ensureUnmarshal } from "./args.js"
import { syncCommand, type CommandContext, type CommandSpec } from "./Command.js"
import { storedObject } from "./maps.js"

const MUST_BE_JSON = "The current value associated with the provided key must be a json object"
const NOT_VALID_JSON = "provided value not a valid json object"
const REF_PREFIX = "$ref:"

/** How many arguments a command takes, and its error text otherwise. */
interface Arity {
  readonly ok: (n: number) => boolean
  readonly error: string
}

/** Fleare's common preamble: no args at all is `Key must be provided`, then the count (if limited), then the key. */
const preamble = (args: ReadonlyArray<string>, arity?: Arity): CommandFailed | undefined =>
  checkKeyedArgs(args, arity?.ok ?? anyCount, arity?.error ?? "")

const exactly = (count: number, error: string): Arity => ({ ok: (n) => n === count, error })

/** The key's live entry if it holds a JSON document; undefined if missing; the kind error otherwise. */
const readDocument = (
  ctx: CommandContext,
  key: string
): { readonly entry: Entry; readonly text: string } | CommandFailed | undefined => {
  const entry = ctx.services.keyspace.get(key, ctx.now)
  if (entry === undefined) return undefined
  return entry.value.kind === "JSON" ? { entry, text: entry.value.text } : fail.value(MUST_BE_JSON)
}

/** The document text parsed as Fleare does: an object, null (a stored `null`), or InvalidCharacterError. */
const parseDocument = (text: string): JsonObject | null | CommandFailed => {
  const r = parseObject(text)
  return r.ok ? r.value : fail.character(r.error)
}

/**
 * Fleare's readNestedKey then ObjectToByte: the whole document for "", else the value at the dotted path as JSON;
 * a missing path, or a JSON null there, answers ``.
 */
const extract = (doc: JsonObject | null, path: string): string => {
  if (path === "") return marshal(doc)
  const v = getPath(doc, path)
  return v === undefined || v === null ? "" : marshal(v)
}

/** Stores `doc` re-marshalled and answers it (JSON.ADD, JSON.MERGE, JSON.REMOVE). */
const storeAndReturn = (ctx: CommandContext, key: string, doc: Json): string | CommandFailed => {
  const text = marshal(doc)
  return ctx.services.keyspace.set(key, { kind: "JSON", text }, ctx.now) ?? text
}

/**
 * JSON.GET's references (Fleare `26989ca`): each refPath is looked up from the document root; where it holds a
 * string `$ref:<key>`, that key's value parsed as an object is set beside it as `_<lastSegment>`. A value that is
 * not a reference is skipped; any failure (missing path, missing or unparsable key) quietly ends resolution.
 */
const resolveRefs = (ctx: CommandContext, doc: JsonObject, refPaths: ReadonlyArray<string>): JsonObject => {
  let out = doc
  for (const refPath of refPaths) {
    const segments = refPath.split(".")
    const last = segments.pop()!
    const parent = getPath(out, segments.join("."))
    if (!isJsonObject(parent) || !Object.prototype.hasOwnProperty.call(parent, last)) return out
    const v = parent[last]
    if (typeof v !== "string" || !v.startsWith(REF_PREFIX)) continue
    const target = ctx.services.keyspace.get(v.slice(REF_PREFIX.length), ctx.now)
    if (target === undefined) return out
    const r = storedObject(target.value)
    if (!r.ok) return out
    segments.push("_" + last)
    const next = setPath(out, segments.join("."), r.value)
    if (next instanceof CommandFailed) return out
    out = next
  }
  return out
}

const jsonSet = syncCommand({
  name: "JSON.SET",
  syntax: "JSON.SET <key> <json>",
  summary: "Stores a JSON document (any valid JSON) verbatim under the key.",
  class: "write",
  run: (ctx, args) => {
    // The wrong syntax in this text is Fleare's own.
    const bad = preamble(args, exactly(2, "invalid number of arguments, Syntax: LIST.FILTER <key> <path>"))
    if (bad) return bad
    const text = args[1]!
    if (!isValid(text)) return fail.value(NOT_VALID_JSON)
    return ctx.services.keyspace.set(args[0]!, { kind: "JSON", text }, ctx.now) ?? ""
  }
})

const jsonGet = syncCommand({
  name: "JSON.GET",
  syntax: "JSON.GET <key> [<path> [<refPath> ...]]",
  summary:
    'Returns the stored document as sent, or with a path (even "") the value there as sorted JSON, refs resolved.',
  class: "read",
  run: (ctx, args) => {
    const bad = preamble(args)
    if (bad) return bad
    const d = readDocument(ctx, args[0]!)
    if (d === undefined) return ""
    if (d instanceof CommandFailed) return d
    if (args.length === 1) return d.text
    const doc = parseDocument(d.text)
    if (doc instanceof CommandFailed) return doc
    return extract(args.length > 2 && doc !== null ? resolveRefs(ctx, doc, args.slice(2)) : doc, args[1]!)
  }
})

const jsonPGet = syncCommand({
  name: "JSON.PGET",
  syntax: "JSON.PGET <key> [<path>]",
  summary: "JSON.GET without references: the stored document, or the value at the path as sorted JSON.",
  class: "read",
  run: (ctx, args) => {
    const bad = preamble(args, {
      ok: (n) => n <= 2,
      error: "invalid number of arguments, Syntax: JSON.GET <key> [<path>]"
    })
    if (bad) return bad
    const d = readDocument(ctx, args[0]!)
    if (d === undefined) return ""
    if (d instanceof CommandFailed) return d
    if (args.length === 1) return d.text
    const doc = parseDocument(d.text)
    return doc instanceof CommandFailed ? doc : extract(doc, args[1]!)
  }
})

const jsonAdd = syncCommand({
  name: "JSON.ADD",
  syntax: "JSON.ADD <key> <path> <value>",
  summary: "Sets the value at the dotted path (creating the document and parents); returns the whole document.",
  class: "write",
  run: (ctx, args) => {
    const bad = preamble(args, exactly(3, "invalid number of arguments, Syntax: JSON.ADD <key> <path> <value>"))
    if (bad) return bad
    const key = args[0]!
    const d = readDocument(ctx, key)
    if (d instanceof CommandFailed) return d
    const doc = d === undefined ? null : parseDocument(d.text)
    if (doc instanceof CommandFailed) return doc
    const next = setPath(doc, args[1]!, ensureUnmarshal(args[2]!))
    return next instanceof CommandFailed ? next : storeAndReturn(ctx, key, next)
  }
})

const jsonMerge = syncCommand({
  name: "JSON.MERGE",
  syntax: "JSON.MERGE <key> <json>",
  summary: "Deep-merges a JSON object into the document (or stores the value on a new key); returns the document.",
  class: "write",
  run: (ctx, args) => {
    const bad = preamble(args, exactly(2, "invalid number of arguments, Syntax: JSON.MERGE <key> <value>"))
    if (bad) return bad
    const key = args[0]!
    const d = readDocument(ctx, key)
    if (d instanceof CommandFailed) return d
    const incoming = ensureUnmarshal(args[1]!)
    if (d === undefined) return storeAndReturn(ctx, key, incoming)
    const doc = parseDocument(d.text)
    if (doc instanceof CommandFailed) return doc
    if (!isJsonObject(incoming)) return fail.value("The value to merge must be a JSON object")
    return storeAndReturn(ctx, key, deepMerge(doc, incoming))
  }
})

const jsonRemove = syncCommand({
  name: "JSON.REMOVE",
  syntax: "JSON.REMOVE <key> [<path>]",
  summary: "Deletes the key, or the dotted path inside its document and returns the new document.",
  class: "write",
  run: (ctx, args) => {
    // Like Fleare, arguments after the path are ignored.
    const bad = preamble(args)
    if (bad) return bad
    const key = args[0]!
    const d = readDocument(ctx, key)
    if (d === undefined) return ""
    if (d instanceof CommandFailed) return d
    if (args.length === 1) {
      ctx.services.keyspace.delete(key, ctx.now)
      return ""
    }
    const doc = parseDocument(d.text)
    if (doc instanceof CommandFailed) return doc
    const next = removePath(doc, args[1]!)
    return next instanceof CommandFailed ? next : storeAndReturn(ctx, key, next)
  }
})

const jsonSetRef = syncCommand({
  name: "JSON.SETREF",
  syntax: "JSON.SETREF <key> <json> <refObject>",
  summary: "Stores a JSON object with `$ref:<key>` strings written at the paths named by refObject {path: key}.",
  class: "write",
  run: (ctx, args) => {
    const bad = preamble(
      args,
      exactly(3, "invalid number of arguments, Syntax: JSON.SETREF <key> <value> <ref_object>")
    )
    if (bad) return bad
    const [key, value, refObject] = args as [string, string, string]
    if (!isValid(value)) return fail.value(NOT_VALID_JSON)
    if (!isValid(refObject)) return fail.value("provided refObject not a valid json object")
    const refs = parseStringMap(refObject)
    if (!refs.ok) return fail.character(refs.error)
    const parsed = parseDocument(value)
    if (parsed instanceof CommandFailed) return parsed
    let doc = parsed
    const strict = ctx.services.config.misc.insertmode
    for (const [path, refKey] of Object.entries(refs.value ?? {})) {
      if (strict && ctx.services.keyspace.get(refKey, ctx.now) === undefined)
        return fail.reference(`reference key ${refKey} not found`)
      // Fleare ignores a path it cannot write, and a null document stays null (its nil map is never assigned).
      if (doc === null) continue
      const next = setPath(doc, path, REF_PREFIX + refKey)
      if (!(next instanceof CommandFailed)) doc = next
    }
    // The stored document carries the refs, so they are what the WAL records and replays (A.3).
    return ctx.services.keyspace.set(key, { kind: "JSON", text: marshal(doc) }, ctx.now) ?? ""
  }
})

/** The JSON document commands. */
export const jsonCommands: ReadonlyArray<CommandSpec> = [
  jsonSet,
  jsonGet,
  jsonPGet,
  jsonAdd,
  jsonMerge,
  jsonRemove,
  jsonSetRef
]

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
import { checkPathSegments, checkRefPaths } from "./limits.js"
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

/** Own-property test (a key named `__proto__` or `constructor` is a key like any other). */
const hasOwn = (o: JsonObject, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

/** Sets `o[k] = v` as a data property (plain assignment of `__proto__` would set the prototype). */
const define = (o: JsonObject, k: string, v: Json): void => {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
}

/**
 * JSON.GET's references (Fleare `26989ca`): each refPath is looked up from the document root; where it holds a
 * string `$ref:<key>`, that key's value parsed as an object is set beside it as `_<lastSegment>`. A value that is
 * not a reference is skipped; any failure (missing path, missing or unparsable key) quietly ends resolution.
 *
 * Fleare copies nothing (it edits its own parse); here `doc` is this request's own parse, so it is changed in
 * place, and a target is parsed once per key and request. An inserted target is shared (a cached parse may be
 * inserted twice, a Map's value is the stored one): a later refPath that writes through it copies each shared
 * object on its way first. The work is thus the refPaths' lengths plus, per refPath, at most a shallow copy of
 * the objects on its path: linear in document size × refPaths at worst (and refPaths are capped).
 */
const resolveRefs = (ctx: CommandContext, doc: JsonObject, refPaths: ReadonlyArray<string>): JsonObject => {
  const shared = new WeakSet<JsonObject>()
  const targets = new Map<string, JsonObject | null | undefined>()
  // The object at `key` of `parent`, copied first if it is shared (its own objects become shared in turn).
  const ownChild = (parent: JsonObject, key: string, child: JsonObject): JsonObject => {
    if (!shared.has(child)) return child
    const copy: JsonObject = {}
    for (const k of Object.keys(child)) {
      const v = child[k]!
      if (isJsonObject(v)) shared.add(v)
      define(copy, k, v)
    }
    define(parent, key, copy)
    return copy
  }
  const target = (key: string): JsonObject | null | undefined => {
    if (targets.has(key)) return targets.get(key)
    const entry = ctx.services.keyspace.get(key, ctx.now)
    const r = entry === undefined ? undefined : storedObject(entry.value)
    const value = r === undefined || !r.ok ? undefined : r.value
    if (value !== undefined && value !== null) shared.add(value)
    targets.set(key, value)
    return value
  }
  for (const refPath of refPaths) {
    const segments = refPath.split(".")
    const last = segments.pop()!
    const parent = getPath(doc, segments.join("."))
    if (!isJsonObject(parent) || !hasOwn(parent, last)) return doc
    const v = parent[last]
    if (typeof v !== "string" || !v.startsWith(REF_PREFIX)) continue
    const value = target(v.slice(REF_PREFIX.length))
    if (value === undefined) return doc
    // Fleare's addNestedKey at `<segments>._<last>`: missing objects are created, a non-object ends resolution.
    let cur = doc
    for (const segment of segments) {
      if (!hasOwn(cur, segment)) {
        const made: JsonObject = {}
        define(cur, segment, made)
        cur = made
        continue
      }
      const next = cur[segment]!
      if (!isJsonObject(next)) return doc
      cur = ownChild(cur, segment, next)
    }
    define(cur, "_" + last, value)
  }
  return doc
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
    const refPaths = args.slice(2)
    const limits = ctx.services.config.limits
    const tooMany = checkRefPaths(refPaths.length, limits.max_ref_paths)
    if (tooMany) return tooMany
    for (const refPath of refPaths) {
      const deep = checkPathSegments(refPath, limits.max_path_segments)
      if (deep) return deep
    }
    const doc = parseDocument(d.text)
    if (doc instanceof CommandFailed) return doc
    return extract(refPaths.length > 0 && doc !== null ? resolveRefs(ctx, doc, refPaths) : doc, args[1]!)
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
    const deep = checkPathSegments(args[1]!, ctx.services.config.limits.max_path_segments)
    if (deep) return deep
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
    const deep = checkPathSegments(args[1]!, ctx.services.config.limits.max_path_segments)
    if (deep) return deep
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
    const maxSegments = ctx.services.config.limits.max_path_segments
    for (const path of Object.keys(refs.value ?? {})) {
      const deep = checkPathSegments(path, maxSegments)
      if (deep) return deep
    }
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

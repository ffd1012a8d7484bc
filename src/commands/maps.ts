/**
 * Map commands: MAP.SET, MAP.CSET, MAP.GET, MAP.DEL (SPEC §4.5), with Part A.3's fixes: an empty field answers
 * `InvalidMapKeyError: map key must be provided` (Fleare crashed formatting a nil error), and MAP.DEL with a
 * field deletes only that field (the key only when the map becomes empty).
 *
 * Kinds (§3.2): Fleare unmarshals the stored bytes into a `map[string]interface {}` before it looks at the kind,
 * so MAP.SET and MAP.DEL on a key of another kind answer that unmarshal's error (`InvalidCharacterError: invalid
 * character 'H' looking for beginning of value` for the string "Hello") and the kind error only when the bytes
 * happen to hold an object. MAP.GET with a field reads any key whose bytes hold an object; MAP.GET without one
 * returns any key's bytes; MAP.CSET and MAP.DEL without a field ignore the kind.
 */
import { fail, type CommandFailed } from "../errors.js"
import type { Json, JsonObject } from "../protocol/gojson/Json.js"
import { marshal } from "../protocol/gojson/Marshal.js"
import { type ObjectParseResult, parseObject } from "../protocol/gojson/Parse.js"
import { GoType, unmarshalTypeError } from "../protocol/gojson/UnmarshalTypeError.js"
import { fieldCount } from "../store/Mutation.js"
import { NULL_LIST, storedText, type Value } from "../store/Value.js"
import { checkKey, ensureUnmarshal } from "./args.js"
import { syncCommand, type CommandSpec } from "./Command.js"

const MUST_BE_MAP = "The current value associated with the provided key must be a Map type"
const GET_DEL_ARGS = "More then 2 args not supported, Supported args Key or key and mapKey"

/** `InvalidMapKeyError: map key must be provided` (A.3: Fleare crashed on an empty field). */
const mapKeyMustBeProvided = (): CommandFailed => fail.mapKey("map key must be provided")

/**
 * What Fleare's `json.Unmarshal(obj.Value, &map[string]interface{})` gives for a stored value: the map itself for
 * kind Map; Go's type error for numbers and lists (their bytes are a JSON number or array); for the kinds kept as
 * text (Default, String, JSON), the text parsed with Go's errors. A null document is Go's nil map (value null).
 */
export const storedObject = (v: Value): ObjectParseResult => {
  switch (v.kind) {
    case "Map":
      return { ok: true, value: v.value as JsonObject }
    case "Number":
      return { ok: false, error: unmarshalTypeError(v.value, GoType.map) }
    case "List":
      // A stored `null` (LIST.PUSH k with no values) is Go's nil map here too.
      if (v.value === NULL_LIST) return { ok: true, value: null }
      return { ok: false, error: unmarshalTypeError([], GoType.map) }
    default:
      return parseObject(storedText(v))
  }
}

const hasOwn = (o: JsonObject, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

/** A copy of `base` with `field` set (defined, so a field named `__proto__` is a field like any other). */
const withField = (base: JsonObject | null, field: string, value: Json): JsonObject => {
  const m: JsonObject = { ...base }
  Object.defineProperty(m, field, { value, enumerable: true, writable: true, configurable: true })
  return m
}

const mapSet = syncCommand({
  name: "MAP.SET",
  syntax: "MAP.SET <key> <mapKey> <value>",
  summary: "Sets a field of the map stored under the key (creating the map); the value is JSON or a plain string.",
  class: "write",
  run: (ctx, args) => {
    if (args.length !== 3)
      return fail.argument("Key mapKey, and value must be provided, Syntax: MAP.SET <key> <mapKey> <value>")
    const [key, field, raw] = args as [string, string, string]
    const bad = checkKey(key)
    if (bad) return bad
    if (field === "") return mapKeyMustBeProvided()
    const ks = ctx.services.keyspace
    const e = ks.get(key, ctx.now)
    if (e !== undefined) {
      const r = storedObject(e.value)
      if (!r.ok) return fail.character(r.error)
      if (e.value.kind !== "Map") return fail.value(MUST_BE_MAP)
      // In place: O(the field), logged as the field set. Like every write, it clears the key's TTL.
      return ks.mutate(key, { op: "mapSet", field, value: ensureUnmarshal(raw) }, ctx.now) ?? ""
    }
    // The whole read-compute-write is this one synchronous call, so concurrent MAP.SETs never lose a field.
    return ks.set(key, { kind: "Map", value: withField(null, field, ensureUnmarshal(raw)) }, ctx.now) ?? ""
  }
})

const mapCSet = syncCommand({
  name: "MAP.CSET",
  syntax: "MAP.CSET <key> <mapKey> <value>",
  summary: "Replaces whatever the key holds with a map of this one field (clear and set).",
  class: "write",
  run: (ctx, args) => {
    if (args.length !== 3) return fail.argument("Key mapKey, and value must be provided")
    const [key, field, raw] = args as [string, string, string]
    const bad = checkKey(key)
    if (bad) return bad
    // Fleare crashed here too (nil error formatted); answer like MAP.SET.
    if (field === "") return mapKeyMustBeProvided()
    return (
      ctx.services.keyspace.set(key, { kind: "Map", value: withField(null, field, ensureUnmarshal(raw)) }, ctx.now) ??
      ""
    )
  }
})

const mapGet = syncCommand({
  name: "MAP.GET",
  syntax: "MAP.GET <key> [<mapKey>]",
  summary: "Returns the whole map as JSON, or one field's value as JSON (empty if the key or field is missing).",
  class: "read",
  run: (ctx, args) => {
    if (args.length === 0 || args.length > 2) return fail.argument(GET_DEL_ARGS)
    const key = args[0]!
    const bad = checkKey(key)
    if (bad) return bad
    const field = args[1]
    if (field === "") return mapKeyMustBeProvided()
    const e = ctx.services.keyspace.get(key, ctx.now)
    if (e === undefined) return ""
    // No kind check, as in Fleare: the stored bytes of any kind.
    if (field === undefined) return storedText(e.value)
    const r = storedObject(e.value)
    if (!r.ok) return fail.character(r.error)
    if (r.value === null || !hasOwn(r.value, field)) return ""
    return marshal(r.value[field]!)
  }
})

const mapDel = syncCommand({
  name: "MAP.DEL",
  syntax: "MAP.DEL <key> [<mapKey>]",
  summary: "Deletes the key, or one field of its map (and the key when the map becomes empty).",
  class: "write",
  run: (ctx, args) => {
    if (args.length === 0 || args.length > 2) return fail.argument(GET_DEL_ARGS)
    const key = args[0]!
    const bad = checkKey(key)
    if (bad) return bad
    const ks = ctx.services.keyspace
    const field = args[1]
    if (field === undefined) {
      ks.delete(key, ctx.now)
      return ""
    }
    if (field === "") return mapKeyMustBeProvided()
    const e = ks.get(key, ctx.now)
    if (e === undefined) return ""
    const r = storedObject(e.value)
    if (!r.ok) return fail.character(r.error)
    if (e.value.kind !== "Map") return fail.value(MUST_BE_MAP)
    const map = r.value!
    if (!hasOwn(map, field)) return ""
    if (fieldCount(map) === 1) {
      ks.delete(key, ctx.now)
      return ""
    }
    // Fleare edits the stored object in place, so the key keeps its TTL; so does this.
    return ks.mutate(key, { op: "mapDel", field }, ctx.now, e.expiresAt) ?? ""
  }
})

/** The map commands. */
export const mapCommands: ReadonlyArray<CommandSpec> = [mapSet, mapCSet, mapGet, mapDel]

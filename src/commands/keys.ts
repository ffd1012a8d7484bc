/**
 * Generic key commands: SET, GET, EXISTS, DELETE.
 */
import { CommandFailed, fail } from "../errors.js"
import type { Json, JsonObject } from "../protocol/gojson/Json.js"
import { marshal } from "../protocol/gojson/Marshal.js"
import { parseObject } from "../protocol/gojson/Parse.js"
import { GoType, unmarshalTypeError } from "../protocol/gojson/UnmarshalTypeError.js"
import { getPath } from "../store/JsonPath.js"
import { storedText, type Value } from "../store/Value.js"
import { checkKey, checkKeyedArgs, keyMustBeProvided } from "./args.js"
import { type CommandSpec, syncCommand } from "./Command.js"

const set = syncCommand({
  name: "SET",
  syntax: "SET <key> <value>",
  summary: "Stores the value verbatim under the key, replacing any value and its expiry.",
  class: "write",
  run: (ctx, args) => {
    if (args.length !== 2) return fail.argument("Key and value must be provided")
    const key = args[0]!
    const bad = checkKey(key)
    if (bad !== undefined) return bad
    return ctx.services.keyspace.set(key, { kind: "Default", value: args[1]! }, ctx.now) ?? ""
  }
})

/** Go's error when GET's stored value is a JSON value of the wrong kind for its `map[string]any`. */
const cannotUnmarshal = (v: Json): CommandFailed => fail.character(unmarshalTypeError(v, GoType.map))

/**
 * The stored value as the JSON object GET's path walks, as Go's `json.Unmarshal` into `map[string]any` sees it:
 * `null` gives no object (nothing is found), any other non-object is an error.
 */
const asObject = (v: Value): JsonObject | null | CommandFailed => {
  switch (v.kind) {
    case "Map":
      return v.value as JsonObject
    case "List":
      return cannotUnmarshal([])
    case "Number":
      return cannotUnmarshal(0)
    case "Default":
    case "String":
    case "JSON": {
      const r = parseObject(v.kind === "JSON" ? v.text : v.value)
      return r.ok ? r.value : fail.character(r.error)
    }
  }
}

/** GET's path lookup: the compact JSON of the value at `path`, or `` when it is missing or null. */
const getAtPath = (v: Value, path: string): string | CommandFailed => {
  const obj = asObject(v)
  if (obj === null) return ""
  if (obj instanceof CommandFailed) return obj
  // Fleare splits the path on dots even when it is empty: "" looks up the key "" (getPath("") is the document).
  const found = path === "" ? (Object.prototype.hasOwnProperty.call(obj, "") ? obj[""] : undefined) : getPath(obj, path)
  // Go marshals a nil result as nothing at all.
  return found === undefined || found === null ? "" : marshal(found)
}

const get = syncCommand({
  name: "GET",
  syntax: "GET <key> [path]",
  summary: "Returns the stored value, or with a dotted path the JSON found at that path in a JSON object.",
  class: "read",
  run: (ctx, args) => {
    const bad = checkKeyedArgs(args, (n) => n <= 2, "invalid number of arguments")
    if (bad !== undefined) return bad
    const key = args[0]!
    const entry = ctx.services.keyspace.get(key, ctx.now)
    if (entry === undefined) return ""
    return args.length === 1 ? storedText(entry.value) : getAtPath(entry.value, args[1]!)
  }
})

const exists = syncCommand({
  name: "EXISTS",
  syntax: "EXISTS <key> [key ...]",
  summary: "Counts the given keys that exist (a key named twice counts twice).",
  class: "read",
  run: (ctx, args) => {
    if (args.length === 0) return keyMustBeProvided()
    // Keys are not validated, as in Fleare; the count does not wrap (Fleare's int8 did).
    let found = 0
    for (const key of args) if (ctx.services.keyspace.get(key, ctx.now) !== undefined) found += 1
    return String(found)
  }
})

const del = syncCommand({
  name: "DELETE",
  syntax: "DELETE <key>",
  summary: "Removes the key; answers an empty result whether it existed or not.",
  class: "write",
  run: (ctx, args) => {
    if (args.length !== 1) return fail.argument("Key must be provided, example: DELETE key")
    const key = args[0]!
    const bad = checkKey(key)
    if (bad !== undefined) return bad
    ctx.services.keyspace.delete(key, ctx.now)
    return ""
  }
})

/** The generic key commands. */
export const keyCommands: ReadonlyArray<CommandSpec> = [set, get, exists, del]

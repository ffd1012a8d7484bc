/**
 * Changes made in place to a stored value: the appends and removals that must cost O(1) amortized rather than a
 * copy of the whole value (LIST.PUSH, LIST.POP / GPOP, MAP.SET, MAP.DEL, STR.APPEND). The keyspace applies them
 * (to a private copy of the value it made itself, see `Keyspace.mutate`), the log records them as such, and a
 * replay applies the same code to the values it loads, so the state after a restart is the state before it.
 */
import type { Json, JsonObject } from "../protocol/gojson/Json.js"
import { CONS_STRING_BYTES, listElementBytes, mapFieldBytes, utf8Bytes } from "./Memory.js"
import { NULL_LIST, type Value } from "./Value.js"

/** One change in place, as commands make it and the log records it. */
export type Mutation =
  /** LIST.PUSH: the values appended at the end of the list. */
  | { readonly op: "push"; readonly values: ReadonlyArray<Json> }
  /** LIST.POP / LIST.GPOP: the last element removed. */
  | { readonly op: "pop" }
  /** MAP.SET: a field set (added or replaced). */
  | { readonly op: "mapSet"; readonly field: string; readonly value: Json }
  /** MAP.DEL with a field: the field removed (the map keeps at least one other). */
  | { readonly op: "mapDel"; readonly field: string }
  /** STR.APPEND: text appended to the string. */
  | { readonly op: "append"; readonly text: string }

// What a list, map or string value holds (mutations apply to nothing else: `appliesTo`).
const held = (v: Value): unknown => (v.kind === "JSON" ? v.text : v.value)

const hasOwn = (o: JsonObject, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

// Sets `o[k] = v` as a data property (plain assignment of `__proto__` would set the prototype).
const define = (o: JsonObject, k: string, v: Json): void => {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
}

// The field counts of the maps changed in place, so MAP.DEL knows in O(1) whether a field is the last one.
const counts = new WeakMap<object, number>()

/** The number of fields of a stored map (counted once, then kept up to date by the changes in place). */
export const fieldCount = (map: Readonly<JsonObject>): number => {
  let n = counts.get(map)
  if (n === undefined) {
    n = Object.keys(map).length
    counts.set(map, n)
  }
  return n
}

/**
 * Can `m` be applied to `v`? Commands check the kind before they ask; the replay of a log checks with this
 * (a record that does not apply changes nothing).
 */
export const appliesTo = (v: Value, m: Mutation): boolean => {
  switch (m.op) {
    case "push":
      return v.kind === "List" && v.value !== NULL_LIST
    case "pop":
      return v.kind === "List" && v.value.length > 0
    case "mapSet":
      return v.kind === "Map"
    case "mapDel":
      return v.kind === "Map" && hasOwn(v.value as JsonObject, m.field) && fieldCount(v.value) > 1
    case "append":
      return v.kind === "String"
  }
}

/** `v` with its list or map copied (once), so that it may be changed in place; strings need no copy. */
export const privateCopy = (v: Value): Value => {
  switch (v.kind) {
    case "List":
      return { kind: "List", value: v.value.slice() }
    case "Map": {
      // Spread defines own data properties, `__proto__` included.
      const copy: JsonObject = { ...v.value }
      counts.set(copy, fieldCount(v.value))
      return { kind: "Map", value: copy }
    }
    default:
      return v
  }
}

/** The change in `valueBytes` that applying `m` to `v` makes (`appliesTo(v, m)` must hold). */
export const mutationBytes = (v: Value, m: Mutation): number => {
  switch (m.op) {
    case "push": {
      let bytes = 0
      for (const x of m.values) bytes += listElementBytes(x)
      return bytes
    }
    case "pop": {
      const list = held(v) as ReadonlyArray<Json>
      return -listElementBytes(list[list.length - 1]!)
    }
    case "mapSet": {
      const map = held(v) as JsonObject
      const before = hasOwn(map, m.field) ? mapFieldBytes(m.field, map[m.field]!) : 0
      return mapFieldBytes(m.field, m.value) - before
    }
    case "mapDel": {
      const map = held(v) as JsonObject
      return -mapFieldBytes(m.field, map[m.field]!)
    }
    case "append": {
      if (m.text === "") return 0
      const text = held(v) as string
      const pieces = v.kind === "String" ? (v.pieces ?? 0) : 0
      // Flattened by this append: its cons nodes are no longer counted.
      if (flattens(text.length + m.text.length, pieces + 1)) return utf8Bytes(m.text) - CONS_STRING_BYTES * pieces
      return utf8Bytes(m.text) + CONS_STRING_BYTES
    }
  }
}

/**
 * Is a string of `length` UTF-16 units built from `pieces` appends flattened now? Once its cons nodes would
 * outweigh its characters: flattening costs the length, and comes once per length / 32 appends at most, so an
 * append stays O(1) amortized while the nodes never cost more than the text itself.
 */
const flattens = (length: number, pieces: number): boolean => pieces * CONS_STRING_BYTES > length

/**
 * Applies `m` to `v` in place (`v` must be private to the caller and `appliesTo(v, m)` hold). Returns the value
 * to store: `v` itself for lists and maps, a new value for strings (JavaScript strings are immutable; the
 * concatenation is a rope, not a copy).
 */
export const applyMutation = (v: Value, m: Mutation): Value => {
  switch (m.op) {
    case "push": {
      const list = held(v) as Array<Json>
      for (const x of m.values) list.push(x)
      return v
    }
    case "pop": {
      ;(held(v) as Array<Json>).pop()
      return v
    }
    case "mapSet": {
      const map = held(v) as JsonObject
      const n = fieldCount(map)
      if (!hasOwn(map, m.field)) counts.set(map, n + 1)
      define(map, m.field, m.value)
      return v
    }
    case "mapDel": {
      const map = held(v) as JsonObject
      counts.set(map, fieldCount(map) - 1)
      delete map[m.field]
      return v
    }
    case "append": {
      if (m.text === "" || v.kind !== "String") return v
      const value = v.value + m.text
      const pieces = (v.pieces ?? 0) + 1
      if (!flattens(value.length, pieces)) return { kind: "String", value, pieces }
      // Reading a character makes V8 flatten the rope into one sequential string.
      value.charCodeAt(0)
      return { kind: "String", value }
    }
  }
}

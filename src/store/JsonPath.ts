/**
 * Dotted paths through nested JSON objects, as Fleare's GET and JSON.* use them: `a.b.c` walks object keys
 * only (no array indices); the empty path is the document itself for reads, and the key "" for writes (Go splits
 * "" into one empty segment). Every function here is pure and iterative: a value is never changed here, so a
 * write copies the objects along the path and shares the rest, and a path of any length cannot overflow the
 * stack.
 */
import { fail, type CommandFailed } from "../errors.js"
import { isJsonObject, type Json, type JsonObject } from "../protocol/gojson/Json.js"

const hasOwn = (o: JsonObject, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k)

// Plain assignment of "__proto__" would set the prototype instead of a key.
const define = (o: JsonObject, k: string, v: Json): void => {
  if (k === "__proto__") Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  else o[k] = v
}

/** A copy of `base` (or a new object) with `k` set to `v`. */
const withKey = (base: JsonObject | undefined, k: string, v: Json): JsonObject => {
  const o: JsonObject = base === undefined ? {} : { ...base }
  define(o, k, v)
  return o
}

/** Fleare's bare error for a path that runs into a non-object: `invalid path: <path>`. */
const invalidPath = (path: string): CommandFailed => fail.bare(`invalid path: ${path}`)

/** The value at `path` in `doc`, or undefined when a segment is missing or runs into a non-object. */
export const getPath = (doc: Json, path: string): Json | undefined => {
  if (path === "") return doc
  let cur: Json | undefined = doc
  for (const segment of path.split(".")) {
    if (!isJsonObject(cur) || !hasOwn(cur, segment)) return undefined
    cur = cur[segment]
  }
  return cur
}

/**
 * Fleare's addNestedKey: a new document with `value` at the dotted `path` of `doc` (null is Go's nil map, an empty
 * document), creating missing intermediate objects. An intermediate that exists but is not an object (null
 * included) gives the bare error `invalid path: <path>`.
 */
export const setPath = (doc: JsonObject | null, path: string, value: Json): JsonObject | CommandFailed => {
  const segments = path.split(".")
  // The existing objects along the path: chain[j] holds segments[j].
  const chain: Array<JsonObject> = [doc ?? {}]
  for (let i = 0; i < segments.length - 1; i++) {
    const cur = chain[i]!
    const k = segments[i]!
    if (!hasOwn(cur, k)) break
    const next = cur[k]
    if (!isJsonObject(next)) return invalidPath(path)
    chain.push(next)
  }
  let inner: Json = value
  for (let j = segments.length - 1; j >= 0; j--) inner = withKey(chain[j], segments[j]!, inner)
  return inner as JsonObject
}

/**
 * Fleare's removeNestedKey: a new document without the dotted `path`, or `doc` itself when the path is absent.
 * An intermediate that is not an object gives `invalid path: <path>`; a nil document (null) stays null.
 */
export const removePath = (doc: JsonObject | null, path: string): JsonObject | null | CommandFailed => {
  if (doc === null) return null
  const segments = path.split(".")
  const chain: Array<JsonObject> = [doc]
  for (let i = 0; i < segments.length - 1; i++) {
    const cur = chain[i]!
    const k = segments[i]!
    if (!hasOwn(cur, k)) return doc
    const next = cur[k]
    if (!isJsonObject(next)) return invalidPath(path)
    chain.push(next)
  }
  const last = segments[segments.length - 1]!
  const container = chain[chain.length - 1]!
  if (!hasOwn(container, last)) return doc
  let inner: JsonObject = { ...container }
  delete inner[last]
  for (let j = segments.length - 2; j >= 0; j--) inner = withKey(chain[j], segments[j]!, inner)
  return inner
}

interface MergeFrame {
  readonly patch: JsonObject
  readonly keys: ReadonlyArray<string>
  i: number
  readonly out: JsonObject
  /** The key of this object in its parent's output (unused for the root). */
  readonly key: string
}

/**
 * Fleare's mergeObjects: `patch` deep-merged into `base` (null is an empty document). Where both sides hold an
 * object the two merge recursively; anything else in `patch` overwrites.
 */
export const deepMerge = (base: JsonObject | null, patch: JsonObject): JsonObject => {
  const root: MergeFrame = { patch, keys: Object.keys(patch), i: 0, out: { ...base }, key: "" }
  const stack: Array<MergeFrame> = [root]
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!
    if (f.i === f.keys.length) {
      stack.pop()
      const parent = stack[stack.length - 1]
      if (parent !== undefined) define(parent.out, f.key, f.out)
      continue
    }
    const k = f.keys[f.i++]!
    const incoming = f.patch[k]!
    const existing = hasOwn(f.out, k) ? f.out[k] : undefined
    if (isJsonObject(existing) && isJsonObject(incoming))
      stack.push({ patch: incoming, keys: Object.keys(incoming), i: 0, out: { ...existing }, key: k })
    else define(f.out, k, incoming)
  }
  return root.out
}

/**
 * Dotted paths through nested JSON objects, as Fleare's GET and JSON.* use them: `a.b.c` walks object keys
 * only (no array indices); the empty path is the document itself.
 */
import type { Json } from "../protocol/GoJson.js"

const isObject = (v: Json | undefined): v is { [key: string]: Json } =>
  typeof v === "object" && v !== null && !Array.isArray(v)

/** The value at `path` in `doc`, or undefined when a segment is missing or runs into a non-object. */
export const getPath = (doc: Json, path: string): Json | undefined => {
  if (path === "") return doc
  let cur: Json | undefined = doc
  for (const segment of path.split(".")) {
    if (!isObject(cur) || !Object.prototype.hasOwnProperty.call(cur, segment)) return undefined
    cur = cur[segment]
  }
  return cur
}

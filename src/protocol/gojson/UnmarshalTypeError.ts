/**
 * Go's `json.UnmarshalTypeError` texts (`json: cannot unmarshal array into Go value of type map[string]interface {}`)
 * and the Go type names of the unmarshal targets Fleare uses; clients see these texts verbatim.
 */
import type { Json } from "./Json.js"

/** Go's type names for the unmarshal targets Fleare uses. */
export const GoType = {
  map: "map[string]interface {}",
  stringMap: "map[string]string",
  string: "string",
  float64: "float64"
} as const

/**
 * The JSON kind as Go's UnmarshalTypeError names it: `array`, `object`, `number`, `string`, `bool` (and `null`,
 * which Go never reports since null unmarshals into anything).
 */
export const goKindName = (v: Json): string => {
  if (v === null) return "null"
  if (Array.isArray(v)) return "array"
  switch (typeof v) {
    case "boolean":
      return "bool"
    case "number":
      return "number"
    case "string":
      return "string"
    default:
      return "object"
  }
}

export const unmarshalTypeErrorText = (what: string, goType: string): string =>
  "json: cannot unmarshal " + what + " into Go value of type " + goType

/**
 * Go's UnmarshalTypeError text for a value of the wrong kind, e.g. `json: cannot unmarshal array into Go value of
 * type map[string]interface {}`.
 */
export const unmarshalTypeError = (v: Json, goType: string): string => unmarshalTypeErrorText(goKindName(v), goType)

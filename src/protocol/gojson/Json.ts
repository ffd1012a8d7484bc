/**
 * The JSON value model: what Go's `json.Unmarshal` into `interface{}` produces (nil, bool, float64, string,
 * `[]interface{}`, `map[string]interface {}`), as plain JavaScript values shared by the marshaller, the parser and
 * the stores.
 */

/** A parsed JSON value. */
export type Json = null | boolean | number | string | Array<Json> | { [key: string]: Json }

/** A JSON object (Go's `map[string]interface {}`). */
export type JsonObject = { [key: string]: Json }

/** True for a JSON object (not an array, not null). */
export const isJsonObject = (v: Json | undefined): v is JsonObject =>
  typeof v === "object" && v !== null && !Array.isArray(v)

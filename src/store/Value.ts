/**
 * The kinds of value a key can hold, as Fleare numbers them, and their stored forms. A value handed to the
 * keyspace is not changed afterwards; the keyspace alone may change a list or map in place (`Mutation.ts`),
 * on a private copy it made, within one synchronous step, so a command's read-modify-write is atomic and a
 * background snapshot still reads the value as it was when the snapshot began.
 */
import type { Json } from "../protocol/gojson/Json.js"
import { formatNumber, marshal } from "../protocol/gojson/Marshal.js"

/** Fleare's kind numbers (`internal/store/object.go`); Set (4) is unused upstream too. */
export const KindNumber = { Default: 0, String: 1, Number: 2, Map: 3, List: 5, JSON: 6 } as const

export type Value =
  /** Written by SET: the argument verbatim. */
  | { readonly kind: "Default"; readonly value: string }
  /**
   * Written by STR.SET / STR.APPEND. `pieces`: appends since the text was last flattened (each holds a V8 cons
   * node: the size estimate counts them; see `Mutation.ts`).
   */
  | { readonly kind: "String"; readonly value: string; readonly pieces?: number }
  /** Written by NUM.*: a float64. */
  | { readonly kind: "Number"; readonly value: number }
  /** Written by MAP.SET / MAP.CSET: a JSON object. */
  | { readonly kind: "Map"; readonly value: Readonly<Record<string, Json>> }
  /** Written by LIST.*: a JSON array. */
  | { readonly kind: "List"; readonly value: ReadonlyArray<Json> }
  /** Written by JSON.*: the document's text (verbatim from JSON.SET, re-marshalled by the other writes). */
  | { readonly kind: "JSON"; readonly text: string }

export type Kind = Value["kind"]

/**
 * The list a kind-List key holds when Fleare stored JSON `null` under it (`LIST.PUSH k` with no values on a
 * missing key): every LIST.* command treats it as empty, but its stored text (GET, MAP.GET, the log) is `null`.
 * Frozen, so nothing can push onto the shared instance.
 */
export const NULL_LIST: ReadonlyArray<Json> = Object.freeze([] as Array<Json>)

/**
 * The bytes Fleare keeps for a value, which is what GET without a path returns for any kind: raw text for
 * Default/String/JSON, Go's JSON for numbers, lists and maps.
 */
export const storedText = (v: Value): string => {
  switch (v.kind) {
    case "Default":
    case "String":
      return v.value
    case "Number":
      return formatNumber(v.value)
    case "Map":
      return marshal(v.value as Json)
    case "List":
      return v.value === NULL_LIST ? "null" : marshal(v.value as Json)
    case "JSON":
      return v.text
  }
}

/**
 * The kinds of value a key can hold, as Fleare numbers them, and their stored forms. Values are immutable once
 * stored: a write builds a new value and stores it in one synchronous step, so a command's read-modify-write is
 * atomic and a background snapshot can read a consistent value without copying.
 */
import type { Json } from "../protocol/gojson/Json.js"
import { formatNumber, marshal } from "../protocol/gojson/Marshal.js"

/** Fleare's kind numbers (`internal/store/object.go`); Set (4) is unused upstream too. */
export const KindNumber = { Default: 0, String: 1, Number: 2, Map: 3, List: 5, JSON: 6 } as const

export type Value =
  /** Written by SET: the argument verbatim. */
  | { readonly kind: "Default"; readonly value: string }
  /** Written by STR.SET / STR.APPEND. */
  | { readonly kind: "String"; readonly value: string }
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
    case "List":
      return marshal(v.value as Json)
    case "JSON":
      return v.text
  }
}

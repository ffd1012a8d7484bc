/**
 * The keyspace's memory bookkeeping: the byte estimate of an entry and the heap that finds expired keys without
 * scanning. The eviction policies that pick which key to drop when `memory.max_size_mb` is reached are in
 * Eviction.ts.
 */
import type { Json } from "../protocol/gojson/Json.js"
import { utf8Length } from "../protocol/Utf8.js"
import type { Value } from "./Value.js"

// ---------------------------------------------------------------------------------------------------------------
// The size estimate: a model of what a value costs in V8's heap (64-bit Node, no pointer compression), close
// enough that `memory.max_size_mb` bounds the real heap within 2× for every value shape (checked against
// `process.memoryUsage()` by test/store/MemoryEstimate.test.ts). Every figure is additive over a container's
// parts, so a change in place (a push, a field set, an append) adjusts the estimate by its own delta.

/**
 * Fixed bytes counted per entry on top of its key and value: the keyspace map's entry (about 40 bytes) and its
 * row (an item pointer and a 4-byte figure, in arrays that grow by half to double: 12-24 bytes, see
 * EntryTable.ts) and, for the entries that need them, the entry record and the value's wrapper (about 110 more);
 * under LRU and LFU, the policy's columns in the row (the key, a clock, LFU's counter: 16-20 bytes, 20-40 with
 * the arrays' spare room). One figure for every form, as the keyspace's bookkeeping needs: within 2× of each.
 */
export const ENTRY_OVERHEAD_BYTES = 96

/** A string's header (map, hash, length) before its characters. */
export const STRING_HEADER_BYTES = 16

/** An array: the JSArray object and its elements store's header. */
export const ARRAY_BYTES = 48

/** A slot of an array's elements store (a pointer or an unboxed double). */
export const SLOT_BYTES = 8

/** An object's header (JSON.parse sizes an object to its properties; `{}` gets a few spare slots). */
export const OBJECT_BYTES = 40

/**
 * Objects with up to this many properties are counted as V8 keeps small objects from JSON.parse: a slot per
 * property, the keys and the hidden class shared with every object of the same shape. Beyond it, each property
 * also counts its key and a dictionary entry.
 */
export const SMALL_OBJECT_PROPERTIES = 8

/** A property of a big object beyond its value slot: its share of a dictionary entry or descriptor (key, details). */
export const PROPERTY_BYTES = 24

/** A boxed double: a number that is not a small integer, held by an object (arrays of numbers hold them unboxed). */
export const HEAP_NUMBER_BYTES = 16

/** One node of a string built by appends (a V8 cons string), until the string is flattened. */
export const CONS_STRING_BYTES = 32

/** Bytes of `s` as UTF-8. */
export const utf8Bytes: (s: string) => number = utf8Length

/** Estimated heap bytes of a string: its header and its UTF-8 bytes (additive: `a + b` counts a's and b's bytes). */
export const stringBytes = (s: string): number => STRING_HEADER_BYTES + utf8Bytes(s)

/** Is `n` a small integer, which V8 keeps in the slot itself? */
const isSmall = (n: number): boolean => (n | 0) === n && n >= -0x40000000 && n < 0x40000000

/** The part of an object's estimate owed to its property `k` holding `v` (v's own contents excluded). */
export const propertyBytes = (k: string, v: Json, big: boolean): number =>
  (big ? PROPERTY_BYTES + stringBytes(k) : SLOT_BYTES) + (typeof v === "number" && !isSmall(v) ? HEAP_NUMBER_BYTES : 0)

/** Is an object of `n` properties counted as a big one? */
export const isBigObject = (n: number): boolean => n > SMALL_OBJECT_PROPERTIES

/**
 * Estimated heap bytes of a JSON value, not counting the slot that holds it (its container counts that): a
 * string its header and bytes, an array 48 + 8 per element, an object 40 + 8 per property (small objects) or
 * 24 + its key per property (big ones), 16 more for a property holding a number that is not a small integer,
 * plus their values. Iterative, so a deeply nested document cannot overflow the stack.
 */
export const jsonBytes = (root: Json): number => {
  let total = 0
  const stack: Array<Json> = [root]
  while (stack.length > 0) {
    const v = stack.pop()!
    if (v === null || typeof v === "boolean" || typeof v === "number") continue
    if (typeof v === "string") total += stringBytes(v)
    else if (Array.isArray(v)) {
      total += ARRAY_BYTES + SLOT_BYTES * v.length
      for (const item of v) stack.push(item)
    } else {
      const keys = Object.keys(v)
      const big = isBigObject(keys.length)
      total += OBJECT_BYTES
      for (const k of keys) {
        const x = v[k]!
        total += propertyBytes(k, x, big)
        stack.push(x)
      }
    }
  }
  return total
}

/** What adding `element` to a list adds to its estimate (its slot and its value). */
export const listElementBytes = (element: Json): number => SLOT_BYTES + jsonBytes(element)

/**
 * What field `k` holding `v` adds to a stored map's estimate. A stored map (kind Map) is counted as a big object
 * whatever its size: MAP.SET adds its fields one by one, which gives it a shape of its own (no hidden class
 * shared with other objects), and V8 turns it into a dictionary once it has many.
 */
export const mapFieldBytes = (k: string, v: Json): number => propertyBytes(k, v, true) + jsonBytes(v)

/** Estimated heap bytes of a stored map: the object and its fields (see `mapFieldBytes`). */
export const mapBytes = (map: Readonly<Record<string, Json>>): number => {
  let total = OBJECT_BYTES
  for (const k of Object.keys(map)) total += mapFieldBytes(k, map[k]!)
  return total
}

/** Estimated bytes of a plain text or number value stored under a key. */
export const scalarBytes = (v: string | number): number => (typeof v === "string" ? stringBytes(v) : HEAP_NUMBER_BYTES)

/** Estimated bytes of a stored value: `scalarBytes` for text and numbers, `jsonBytes` for lists, `mapBytes` for maps. */
export const valueBytes = (v: Value): number => {
  switch (v.kind) {
    case "Default":
    case "Number":
      return scalarBytes(v.value)
    case "String":
      // A string built by appends holds a cons node per append until it is flattened (see `Mutation.ts`).
      return scalarBytes(v.value) + CONS_STRING_BYTES * (v.pieces ?? 0)
    case "JSON":
      return stringBytes(v.text)
    case "Map":
      return mapBytes(v.value)
    case "List":
      return jsonBytes(v.value as Json)
  }
}

/**
 * The estimate the memory limit and STATUS's `total_size` use for one entry:
 * `ENTRY_OVERHEAD_BYTES + stringBytes(key) + valueBytes(value)`.
 */
export const entryBytes = (key: string, value: Value): number => keyEntryBytes(key) + valueBytes(value)

/** The part of `entryBytes` that does not depend on the value: the fixed overhead and the key. */
export const keyEntryBytes = (key: string): number => ENTRY_OVERHEAD_BYTES + stringBytes(key)

/** A min-heap by `expiresAt`: the next key to expire is always at the top. */
export class ExpiryHeap<T extends { readonly expiresAt: bigint }> {
  private items: Array<T> = []

  get size(): number {
    return this.items.length
  }

  /** The item expiring first, without removing it. */
  peek(): T | undefined {
    return this.items[0]
  }

  push(item: T): void {
    const a = this.items
    a.push(item)
    let i = a.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (a[parent]!.expiresAt <= item.expiresAt) break
      a[i] = a[parent]!
      i = parent
    }
    a[i] = item
  }

  /** Removes and returns the item expiring first. */
  pop(): T | undefined {
    const a = this.items
    const top = a[0]
    const last = a.pop()
    if (a.length > 0 && last !== undefined) {
      a[0] = last
      this.siftDown(0)
    }
    return top
  }

  /** Keeps only the items `keep` accepts and restores heap order, in O(n): how stale entries are dropped. */
  retain(keep: (item: T) => boolean): void {
    this.items = this.items.filter(keep)
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.siftDown(i)
  }

  private siftDown(start: number): void {
    const a = this.items
    const n = a.length
    const item = a[start]!
    let i = start
    for (;;) {
      let child = 2 * i + 1
      if (child >= n) break
      if (child + 1 < n && a[child + 1]!.expiresAt < a[child]!.expiresAt) child++
      if (a[child]!.expiresAt >= item.expiresAt) break
      a[i] = a[child]!
      i = child
    }
    a[i] = item
  }
}

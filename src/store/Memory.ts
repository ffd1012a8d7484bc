/**
 * The keyspace's memory bookkeeping: the byte estimate of an entry and the heap that finds expired keys without
 * scanning. The eviction policies that pick which key to drop when `memory.max_size_mb` is reached are in
 * Eviction.ts.
 */
import type { Json } from "../protocol/gojson/Json.js"
import { utf8Length } from "../protocol/Utf8.js"
import type { Value } from "./Value.js"

/**
 * Fixed bytes counted per entry on top of its key and value: the map slot, the entry record and its
 * bookkeeping fields on a 64-bit V8. A round figure, so the estimate stays predictable.
 */
export const ENTRY_OVERHEAD_BYTES = 64

/** Bytes of `s` as UTF-8. */
export const utf8Bytes: (s: string) => number = utf8Length

/**
 * Estimated bytes of a JSON value: the length of its compact JSON text, except that every number counts as 8
 * bytes (a float64) and strings count their UTF-8 bytes plus the quotes (escapes are not counted). Iterative,
 * so a deeply nested document cannot overflow the stack.
 */
export const jsonBytes = (root: Json): number => {
  let total = 0
  const stack: Array<Json> = [root]
  while (stack.length > 0) {
    const v = stack.pop()!
    if (v === null) total += 4
    else if (typeof v === "boolean") total += v ? 4 : 5
    else if (typeof v === "number") total += 8
    else if (typeof v === "string") total += utf8Bytes(v) + 2
    else if (Array.isArray(v)) {
      total += 2 + Math.max(0, v.length - 1)
      for (const item of v) stack.push(item)
    } else {
      const keys = Object.keys(v)
      total += 2 + Math.max(0, keys.length - 1)
      for (const k of keys) {
        total += utf8Bytes(k) + 3
        stack.push(v[k]!)
      }
    }
  }
  return total
}

/** Estimated bytes of a plain text or number value: the text's UTF-8 bytes, 8 for a number (a float64). */
export const scalarBytes = (v: string | number): number => (typeof v === "string" ? utf8Bytes(v) : 8)

/** Estimated bytes of a stored value: `scalarBytes` for text and numbers, `jsonBytes` for maps and lists. */
export const valueBytes = (v: Value): number => {
  switch (v.kind) {
    case "Default":
    case "String":
    case "Number":
      return scalarBytes(v.value)
    case "JSON":
      return utf8Bytes(v.text)
    case "Map":
    case "List":
      return jsonBytes(v.value as Json)
  }
}

/**
 * The estimate the memory limit and STATUS's `total_size` use for one entry:
 * `ENTRY_OVERHEAD_BYTES + UTF-8 bytes of the key + valueBytes(value)`.
 */
export const entryBytes = (key: string, value: Value): number => keyEntryBytes(key) + valueBytes(value)

/** The part of `entryBytes` that does not depend on the value: the fixed overhead and the key. */
export const keyEntryBytes = (key: string): number => ENTRY_OVERHEAD_BYTES + utf8Bytes(key)

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

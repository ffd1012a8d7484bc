/**
 * The keyspace's memory bookkeeping: the byte estimate of an entry, the heap that finds expired keys without
 * scanning, and the eviction policies that pick which key to drop when `memory.max_size_mb` is reached.
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

/** `memory.eviction_policy`. */
export type EvictionPolicy = "LRU" | "LFU" | "FIFO" | "noeviction"

/** What an eviction policy needs to know of an entry: its key and a use counter it may keep. */
export interface Tracked {
  readonly key: string
  hits: number
}

/**
 * The bookkeeping of one eviction policy. The keyspace calls it on every insert, access (read or overwrite)
 * and removal, and asks it for a victim when a write does not fit.
 */
export interface EvictionTracker<S extends Tracked> {
  /** A new key was stored. */
  readonly inserted: (slot: S) => void
  /** A live key was read or overwritten (`slot` is its current entry). */
  readonly accessed: (slot: S) => void
  /** A key left the keyspace. */
  readonly removed: (slot: S) => void
  /** The entry to evict next, never the one of `keep` (the key being written); undefined when none is left. */
  readonly victim: (keep: string) => S | undefined
}

const firstOtherThan = <S extends Tracked>(entries: Iterable<S>, keep: string): S | undefined => {
  for (const s of entries) if (s.key !== keep) return s
  return undefined
}

/**
 * The tracker for `policy` over the keyspace's own map, whose insertion order it uses: a JavaScript `Map`
 * iterates in insertion order and overwriting a key keeps its place, so the map's first entry is the oldest
 * key (FIFO), and moving a key to the end on every access makes it the least recently used one (LRU). Both are
 * exact and O(1). LFU keeps keys in buckets by use count (reads and writes since the key was created); it
 * evicts from the lowest count, and among equal counts the key that reached that count first.
 * `noeviction` needs no tracking.
 */
export const makeTracker = <S extends Tracked>(
  policy: EvictionPolicy,
  map: Map<string, S>
): EvictionTracker<S> | undefined => {
  switch (policy) {
    case "noeviction":
      return undefined
    case "FIFO":
      return {
        inserted: () => {},
        accessed: () => {},
        removed: () => {},
        victim: (keep) => firstOtherThan(map.values(), keep)
      }
    case "LRU":
      return {
        inserted: () => {},
        accessed: (slot) => {
          map.delete(slot.key)
          map.set(slot.key, slot)
        },
        removed: () => {},
        victim: (keep) => firstOtherThan(map.values(), keep)
      }
    case "LFU":
      return lfuTracker(map)
  }
}

const lfuTracker = <S extends Tracked>(map: Map<string, S>): EvictionTracker<S> => {
  // use count → keys with that count, in the order they reached it
  const buckets = new Map<number, Set<string>>()
  // the lowest count present; 0 when unknown (recomputed on demand)
  let min = 0
  const add = (count: number, key: string) => {
    let b = buckets.get(count)
    if (b === undefined) {
      b = new Set()
      buckets.set(count, b)
    }
    b.add(key)
  }
  // Takes `key` out of bucket `count`; true when that emptied the bucket.
  const take = (count: number, key: string): boolean => {
    const b = buckets.get(count)
    if (b === undefined) return false
    b.delete(key)
    if (b.size > 0) return false
    buckets.delete(count)
    return true
  }
  const pick = (count: number, keep: string): S | undefined => {
    const b = buckets.get(count)
    if (b === undefined) return undefined
    for (const key of b) if (key !== keep) return map.get(key)
    return undefined
  }
  return {
    inserted: (slot) => {
      slot.hits = 1
      add(1, slot.key)
      min = 1
    },
    accessed: (slot) => {
      const count = slot.hits
      if (take(count, slot.key) && min === count) min = count + 1
      slot.hits = count + 1
      add(count + 1, slot.key)
    },
    removed: (slot) => {
      if (take(slot.hits, slot.key) && min === slot.hits) min = 0
    },
    victim: (keep) => {
      if (buckets.size === 0) return undefined
      if (min === 0 || !buckets.has(min)) min = lowest(buckets.keys())
      const first = pick(min, keep)
      if (first !== undefined) return first
      // The least used bucket holds only the key being written: take the next count up.
      let next = Infinity
      for (const c of buckets.keys()) if (c > min && c < next) next = c
      return next === Infinity ? undefined : pick(next, keep)
    }
  }
}

// The smallest count (`Math.min(...counts)` would overflow the argument list with many distinct counts).
const lowest = (counts: Iterable<number>): number => {
  let m = Infinity
  for (const c of counts) if (c < m) m = c
  return m
}

/**
 * Which key to drop when a write does not fit under `memory.max_size_mb`: the eviction policies and their
 * bookkeeping, kept cheap enough to run on every request. Every policy lets the keyspace keep values bare: what
 * a policy knows of a key lives in the key's row of the keyspace's table (EntryTable.ts), never on the entry.
 *
 * - LRU and LFU are approximate, as Redis does them. Their per-key figures are columns of the table, indexed by
 *   the key's row, which the keyspace has in hand from its one lookup: no hashing, no sharing between keys, and
 *   a read of a bare value stays one Map lookup and one dependent load.
 * - An access is recorded every time while the keyspace is small (below `RECORD_ALL_BELOW` keys, all in cache),
 *   and 1 time in 8 above that (chosen by the top bits of a counter stepped as an LCG, so that a workload cycling
 *   over 8 keys cannot hide all but one of them): a write to a random row of a large column stalls on the cache
 *   miss, and 1 in 8 makes it nearly free. A new key is always recorded, so it never looks like the oldest key. A
 *   removal needs nothing: a free row is never sampled, and a reused one is recorded as new.
 * - The LRU figure is a logical clock bumped on every recorded access (not wall time): it orders accesses exactly
 *   and a float64 holds 2^53 of them.
 * - LFU keeps Redis's 8-bit Morris counter beside the clock (which breaks ties: the oldest access among equals): a
 *   new key starts at 5, an access increments it with probability p = 1 / ((counter - 5) × 10 + 1) (about 100
 *   accesses reach 10, 1,000 reach 18, a million 255), and it loses 1 per minute since its last access (the decay),
 *   applied when it is next accessed or sampled. A recorded access that stands for 8 increments with probability
 *   min(1, 8p), so the counter grows at the same expected rate.
 * - To pick a victim, `samples` keys (default 5, Redis's `maxmemory-samples`) are drawn at random from the rows
 *   (a free row is drawn again), their figures are merged into a pool of the 16 best candidates seen so far
 *   (Redis's eviction pool), and the best candidate that still exists in the same row, is not the key being
 *   written and was not used since it was sampled (its figures are unchanged) is evicted. With `samples` at or
 *   above the number of keys every key is looked at and the choice is exact: the least recently used key (LRU),
 *   or the least used with the oldest access among equals (LFU). A CLOCK-like hand over the keys (sampling the
 *   next keys in insertion order) was tried instead and rejected: when keys are written once and not read, ages
 *   follow the insertion order, the pool keeps only the oldest few of each window, and the hand passes the rest
 *   for a whole turn; simulated on 5,000 keys with one insert per eviction, its victims were at the 44th-48th age
 *   percentile against the 10th for random sampling (docs/PERFORMANCE.md, session 4).
 * - FIFO evicts in insertion order. A JavaScript `Map` iterates in insertion order and an overwrite keeps its
 *   place, so the table's Map is the queue: a persistent iterator over its keys (`Hand`) walks from the oldest
 *   key and is renewed when it reaches the end. It needs nothing per key.
 * - `noeviction` has no tracker: a write that does not fit is refused.
 */

import type { EntryTable } from "./EntryTable.js"

/** `memory.eviction_policy`. */
export type EvictionPolicy = "LRU" | "LFU" | "FIFO" | "noeviction"

/**
 * The bookkeeping of one eviction policy, by the key's row in the keyspace's table. The keyspace calls it on
 * every insert, access and removal of a key, and asks it for a victim when a write does not fit. `now` is epoch
 * nanoseconds (LFU's decay).
 */
export interface EvictionTracker {
  /** A new key was stored in `row` (call it after the key is in the table). */
  inserted(row: number, now: bigint): void
  /** The live key in `row` was read or overwritten. */
  accessed(row: number, now: bigint): void
  /** A key left the keyspace. */
  removed(key: string): void
  /** The key to evict next, never `keep` (the key being written); undefined when there is none. */
  victim(keep: string, now: bigint): string | undefined
}

/** How a tracker is tuned (the defaults are Redis's). */
export interface EvictionOptions {
  /** Keys sampled per eviction (LRU, LFU); default 5, as Redis's `maxmemory-samples`. */
  readonly samples?: number
  /** Uniform numbers in [0, 1) for sampling and LFU's counter; default `Math.random`. Tests pass a seeded one. */
  readonly random?: () => number
}

/** Candidates an eviction pool keeps (Redis's EVPOOL_SIZE). */
export const POOL_SIZE = 16
/** Redis's defaults: the counter a new key starts with, the log factor, minutes per decay step, the cap. */
export const LFU_INIT = 5
export const LFU_LOG_FACTOR = 10
export const LFU_DECAY_MINUTES = 1
export const LFU_MAX = 255

/** Below this many keys every access is recorded (and the exact-choice tests stay exact). */
export const RECORD_ALL_BELOW = 4096
/** Above it, one access in this many is recorded (a power of two). */
export const RECORD_EVERY = 8

const NS_PER_MINUTE = 60e9
/** LFU reads the minute from the clock once per this many recorded accesses (see `minuteAt`). */
const MINUTE_EVERY = 16

/** The minute of `now` (epoch nanoseconds). */
const minuteOf = (now: bigint): number => Math.floor(Number(now) / NS_PER_MINUTE)

/** LFU's counter of a packed `hits` (`minute × 256 + counter`), after the decay due at `minute`. */
export const lfuDecayed = (hits: number, minute: number): number => {
  const counter = hits % 256
  const since = minute - Math.floor(hits / 256)
  const periods = since > 0 ? Math.floor(since / LFU_DECAY_MINUTES) : 0
  return periods >= counter ? 0 : counter - periods
}

/**
 * The logarithmic increment of LFU's counter for an access that stands for `weight` accesses (1 unless accesses
 * are recorded 1 in `weight`): at or below the initial value each access counts (no random number drawn), above
 * it the counter increments with probability min(1, remaining weight × p), p Redis's 1 / ((counter - 5) × 10 + 1),
 * which keeps the expected growth of `weight` single accesses while p × weight is small (p ≤ 1/11 above the
 * initial value).
 */
export const lfuIncrement = (counter: number, random: () => number, weight = 1): number => {
  if (counter >= LFU_MAX) return LFU_MAX
  while (weight > 0 && counter <= LFU_INIT) {
    counter++
    weight--
  }
  if (weight === 0) return counter
  const p = weight / ((counter - LFU_INIT) * LFU_LOG_FACTOR + 1)
  return p >= 1 || random() < p ? counter + 1 : counter
}

/** The new `hits` of an accessed key: decayed to `minute`, incremented for `weight` accesses, stamped with `minute`. */
export const lfuTouch = (hits: number, minute: number, random: () => number, weight = 1): number =>
  minute * 256 + lfuIncrement(lfuDecayed(hits, minute), random, weight)

/** A sampled key as it was when sampled: ranked by `rank` (LFU's counter; 0 under LRU), then `clock`. */
interface Candidate {
  key: string
  row: number
  rank: number
  clock: number
  hits: number
}

/** True when `a` is a better victim than `b`: lower rank, or the same rank and an older access. */
const better = (a: Candidate, b: Candidate): boolean => a.rank < b.rank || (a.rank === b.rank && a.clock < b.clock)

/**
 * A persistent walk over the map's keys in insertion order, from the oldest, renewed when it reaches the end (a
 * fresh iterator per eviction would walk the Map's deleted holes again each time).
 */
class Hand {
  private cursor: Iterator<string> | undefined
  constructor(private readonly map: Map<string, unknown>) {}

  /** The next key, starting over once at the end; undefined when the map is empty. */
  next(): string | undefined {
    for (let pass = 0; pass < 2; pass++) {
      if (this.cursor === undefined) this.cursor = this.map.keys()
      const r = this.cursor.next()
      if (r.done !== true) return r.value
      this.cursor = undefined
    }
    return undefined
  }
}

/** LRU and LFU: their columns of the table, and an eviction pool. */
class SampledTracker implements EvictionTracker {
  /** The best candidates seen so far, best first. */
  private readonly pool: Array<Candidate> = []
  private tick = 0
  /** Whether every access is recorded (a small keyspace); otherwise 1 in `RECORD_EVERY`. */
  private recordAll = true
  /** Stepped as an LCG on every access while not `recordAll`; its top bits choose the recorded ones. */
  private step = 0
  /** LFU: the minute of the tracker's first access (minutes are stored from it), and the current one. */
  private base = -1
  private minute = 0
  private touches = 0

  constructor(
    private readonly table: EntryTable<unknown>,
    private readonly lfu: boolean,
    private readonly samples: number,
    private readonly random: () => number
  ) {
    table.track({ hits: lfu })
  }

  inserted(row: number, now: bigint): void {
    const table = this.table
    this.recordAll = table.size < RECORD_ALL_BELOW
    table.clocks![row] = ++this.tick
    if (table.hits !== undefined) table.hits[row] = this.minuteAt(now) * 256 + LFU_INIT
  }

  accessed(row: number, now: bigint): void {
    if (this.recordAll) this.record(row, now, 1)
    else {
      // The top 3 bits of a full-period LCG: 1 access in 8, without a pattern a cyclic workload can align with.
      const s = (this.step = (Math.imul(this.step, 1664525) + 1013904223) | 0)
      if (s >>> 29 === 0) this.record(row, now, RECORD_EVERY)
    }
  }

  removed(): void {}

  victim(keep: string, now: bigint): string | undefined {
    const minute = this.lfu ? this.currentMinute(now) : 0
    const pool = this.pool
    const table = this.table
    this.recordAll = table.size < RECORD_ALL_BELOW
    // Every sample can be stale or the key being written; sample again a few times, then take any other key.
    for (let attempt = 0; attempt < 4; attempt++) {
      this.populate(keep, minute)
      while (pool.length > 0) {
        const c = pool.shift()!
        // Removed, or moved to another row (stored again, or the rows were renumbered): no longer this candidate.
        if (c.key === keep || table.rows.get(c.key) !== c.row) continue
        // Used since it was sampled: its figures are stale, and it is no victim.
        if (table.clocks![c.row] !== c.clock || (table.hits !== undefined && table.hits[c.row] !== c.hits)) continue
        return c.key
      }
    }
    for (const key of table.rows.keys()) if (key !== keep) return key
    return undefined
  }

  private record(row: number, now: bigint, weight: number): void {
    const table = this.table
    table.clocks![row] = ++this.tick
    if (table.hits !== undefined) table.hits[row] = lfuTouch(table.hits[row]!, this.minuteAt(now), this.random, weight)
  }

  /**
   * The minute (from `base`) LFU stamps an access with. Converting the bigint clock costs more than the rest of an
   * access, so it is read every `MINUTE_EVERY` recorded accesses (and at every eviction): an access may be stamped
   * that many recorded accesses late, far below the minute of one decay step unless the server is nearly idle.
   */
  private minuteAt(now: bigint): number {
    if (this.base < 0 || ++this.touches >= MINUTE_EVERY) {
      this.touches = 0
      return this.currentMinute(now)
    }
    return this.minute
  }

  private currentMinute(now: bigint): number {
    const m = minuteOf(now)
    if (this.base < 0) this.base = m
    // A clock set back must not wrap the uint32 stamp.
    this.minute = Math.max(0, m - this.base)
    return this.minute
  }

  /** Merges `samples` keys drawn at random into the pool: every key when there are no more than `samples`. */
  private populate(keep: string, minute: number): void {
    const table = this.table
    if (table.size <= this.samples) {
      for (const [key, row] of table.rows) if (key !== keep) this.consider(key, row, minute)
      return
    }
    const keys = table.keys!
    const rows = table.rowCount
    // A free row is drawn again. Free rows are at most half of them, or a few thousand (EntryTable's compaction),
    // so draw more often from a sparse table.
    const tries = Math.min(64, Math.ceil((4 * rows) / table.size))
    for (let k = 0; k < this.samples; k++) {
      for (let t = 0; t < tries; t++) {
        const row = Math.floor(this.random() * rows)
        const key = keys[row]
        if (key === undefined) continue
        if (key !== keep) this.consider(key, row, minute)
        break
      }
    }
  }

  private consider(key: string, row: number, minute: number): void {
    const pool = this.pool
    const table = this.table
    const hits = table.hits !== undefined ? table.hits[row]! : 0
    const c: Candidate = { key, row, rank: this.lfu ? lfuDecayed(hits, minute) : 0, clock: table.clocks![row]!, hits }
    // A key already in the pool is refreshed, not added twice.
    const same = pool.findIndex((p) => p.key === key)
    if (same >= 0) pool.splice(same, 1)
    let at = pool.length
    while (at > 0 && better(c, pool[at - 1]!)) at--
    if (at >= POOL_SIZE) return
    pool.splice(at, 0, c)
    if (pool.length > POOL_SIZE) pool.pop()
  }
}

/** FIFO over the keyspace's own map (see the module comment). */
class FifoTracker implements EvictionTracker {
  private readonly hand: Hand
  /** A key the hand passed because it was being written: the oldest, so it goes first next time. */
  private held: string | undefined

  constructor(private readonly map: Map<string, unknown>) {
    this.hand = new Hand(map)
  }

  inserted(): void {}
  accessed(): void {}

  removed(key: string): void {
    if (key === this.held) this.held = undefined
  }

  victim(keep: string): string | undefined {
    const held = this.held
    if (held !== undefined && held !== keep) {
      this.held = undefined
      return held
    }
    // Up to one full turn and one more key: the hand may be anywhere, and the key being written may be anywhere.
    for (let k = this.map.size + 1; k > 0; k--) {
      const key = this.hand.next()
      if (key === undefined) return undefined
      if (key !== keep) return key
      this.held = keep
    }
    return undefined
  }
}

/**
 * The tracker for `policy` (undefined for `noeviction`), over the keyspace's table of every key: LRU and LFU add
 * their columns to it (call this while it is empty), FIFO walks its keys in insertion order.
 */
export const makeEviction = (
  policy: EvictionPolicy,
  table: EntryTable<unknown>,
  options: EvictionOptions = {}
): EvictionTracker | undefined => {
  const samples = Math.max(1, Math.floor(options.samples ?? 5))
  const random = options.random ?? Math.random
  switch (policy) {
    case "noeviction":
      return undefined
    case "FIFO":
      return new FifoTracker(table.rows)
    case "LRU":
      return new SampledTracker(table, false, samples, random)
    case "LFU":
      return new SampledTracker(table, true, samples, random)
  }
}

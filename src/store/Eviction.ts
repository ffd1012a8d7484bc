/**
 * Which key to drop when a write does not fit under `memory.max_size_mb`: the eviction policies and their
 * bookkeeping, kept cheap enough to run on every request. Every policy lets the keyspace keep values bare in its
 * map: what a policy knows of a key lives beside the map, never on the entry.
 *
 * - LRU and LFU are approximate, as Redis does them, and keep their per-key figures in a hashed table of typed
 *   arrays (`AccessTable`), indexed by a cheap hash of the key, not on the entry, so that a read of a bare value
 *   stays one Map lookup and one dependent load (an object per key costs one more cache miss per read on a large
 *   keyspace). The table is sized a power of two, at least 4× the number of keys, and doubled when the keys
 *   outgrow it; two keys that share a bucket share figures, which only makes the less used one look more used.
 * - An access is recorded every time while the keyspace is small (below `RECORD_ALL_BELOW` keys, all in cache),
 *   and 1 time in 8 above that (chosen by the top bits of a counter stepped as an LCG, so that a workload cycling
 *   over 8 keys cannot hide all but one of them): a write to a random bucket of a large table stalls on the cache
 *   miss, and 1 in 8 makes it nearly free. A new key is always recorded, so it never looks like the oldest key. A
 *   removal needs nothing: a stale bucket only makes a later key in it look more recent (it errs toward keeping).
 * - The LRU figure is a logical clock bumped on every recorded access (not wall time): it orders accesses exactly
 *   and a float64 holds 2^53 of them.
 * - LFU keeps Redis's 8-bit Morris counter beside the clock (which breaks ties: the oldest access among equals): a
 *   new key starts at 5, an access increments it with probability p = 1 / ((counter - 5) × 10 + 1) (about 100
 *   accesses reach 10, 1,000 reach 18, a million 255), and it loses 1 per minute since its last access (the decay),
 *   applied when it is next accessed or sampled. A recorded access that stands for 8 increments with probability
 *   min(1, 8p), so the counter grows at the same expected rate.
 * - To pick a victim, `samples` keys (default 5, Redis's `maxmemory-samples`) are drawn at random from an array of
 *   the keys (`KeyArray`: appended on insert, stale elements skipped, rebuilt in steps), their figures are merged
 *   into a pool of the 16 best candidates seen so far (Redis's eviction pool), and the best candidate that still
 *   exists, is not the key being written and was not used since it was sampled (its figure is unchanged) is
 *   evicted. With `samples` at or above the number of keys every key is looked at and the choice is exact (up to
 *   hash collisions, which the table's size makes rare): the least recently used key (LRU), or the least used with
 *   the oldest access among equals (LFU). A CLOCK-like hand over the map (sampling the next keys in insertion
 *   order) was tried instead of the array and rejected: when keys are written once and not read, ages follow the
 *   map's order, the pool keeps only the oldest few of each window, and the hand passes the rest for a whole turn;
 *   simulated on 5,000 keys with one insert per eviction, its victims were at the 44th-48th age percentile against
 *   the 10th for random sampling (docs/PERFORMANCE.md, session 4).
 * - FIFO evicts in insertion order. A JavaScript `Map` iterates in insertion order and an overwrite keeps its
 *   place, so the keyspace's own map is the queue: a persistent iterator over its keys (`Hand`) walks from the
 *   oldest key and is renewed when it reaches the end. It needs nothing per key.
 * - `noeviction` has no tracker: a write that does not fit is refused.
 */

/** `memory.eviction_policy`. */
export type EvictionPolicy = "LRU" | "LFU" | "FIFO" | "noeviction"

/**
 * The bookkeeping of one eviction policy, by key. The keyspace calls it on every insert, access and removal of a
 * key, and asks it for a victim when a write does not fit. `now` is epoch nanoseconds (LFU's decay).
 */
export interface EvictionTracker {
  /** A new key was stored (call it after the key is in the map). */
  inserted(key: string, now: bigint): void
  /** A live key was read or overwritten. */
  accessed(key: string, now: bigint): void
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
/** The access table's least number of buckets, and its buckets per key at the least (powers of two). */
export const TABLE_MIN_BUCKETS = 1 << 16
export const TABLE_BUCKETS_PER_KEY = 4

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

/** A key's hash for the access table: FNV-1a over its UTF-16 code units, finished with murmur3's mixer. */
export const keyHash = (key: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619)
  // FNV's low bits mix only from lower bits; the table indexes by the low bits.
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

/**
 * The per-key figures of LRU and LFU, by bucket: a float64 logical clock, and for LFU a uint32 packed counter
 * (`minute × 256 + counter`, the minute counted from the tracker's first one, so 2^24 minutes fit). Grown by
 * doubling: bucket `i` of the new table takes bucket `i & oldMask` of the old one, which is exactly what
 * rehashing every key would give (a key's new bucket has the old one's low bits), without hashing anything.
 */
export class AccessTable {
  clocks: Float64Array
  hits: Uint32Array | undefined
  mask: number

  constructor(buckets: number, lfu: boolean) {
    this.clocks = new Float64Array(buckets)
    this.hits = lfu ? new Uint32Array(buckets) : undefined
    this.mask = buckets - 1
  }

  /** Buckets in the table. */
  get buckets(): number {
    return this.mask + 1
  }

  /** Doubles the table, keeping every key's figures. */
  grow(): void {
    const n = this.mask + 1
    const clocks = new Float64Array(2 * n)
    clocks.set(this.clocks)
    clocks.set(this.clocks, n)
    this.clocks = clocks
    if (this.hits !== undefined) {
      const hits = new Uint32Array(2 * n)
      hits.set(this.hits)
      hits.set(this.hits, n)
      this.hits = hits
    }
    this.mask = 2 * n - 1
  }
}

/** A sampled key as it was when sampled: ranked by `rank` (LFU's counter; 0 under LRU), then `clock`. */
interface Candidate {
  key: string
  hash: number
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

/**
 * Every key, for sampling at random: appended on insert, never removed from (a removed key stays as a stale
 * element, which sampling skips, and a key stored again appears twice until the next rebuild), and rebuilt from
 * the map's keys, a few keys per call, once it holds twice as many elements as the map has keys. So an insert
 * costs a push, a removal a comparison, and nothing needs a per-key index.
 */
class KeyArray {
  keys: Array<string> = []
  private building: Array<string> | undefined
  private builder: Iterator<string> | undefined

  constructor(private readonly map: Map<string, unknown>) {}

  push(key: string): void {
    this.keys.push(key)
    this.maintain()
  }

  /** Starts a rebuild when stale elements outnumber live keys, and advances one in progress by a few keys. */
  maintain(): void {
    if (this.builder === undefined) {
      if (this.keys.length <= 2 * this.map.size + 64) return
      this.building = []
      this.builder = this.map.keys()
    }
    // The builder's iterator sees keys inserted after it began (a Map iterates its appended entries): once done,
    // the new array has every live key.
    for (let k = 0; k < REBUILD_STEP; k++) {
      const r = this.builder.next()
      if (r.done === true) {
        this.keys = this.building!
        this.building = undefined
        this.builder = undefined
        return
      }
      this.building!.push(r.value)
    }
  }
}

/** Keys a rebuild of the key array copies per insert, removal or eviction. */
const REBUILD_STEP = 8

/** LRU and LFU: the access table, a key array for sampling, and an eviction pool. */
class SampledTracker implements EvictionTracker {
  readonly table: AccessTable
  /** The best candidates seen so far, best first. */
  private readonly pool: Array<Candidate> = []
  private readonly keys: KeyArray
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
    private readonly map: Map<string, unknown>,
    private readonly lfu: boolean,
    private readonly samples: number,
    private readonly random: () => number
  ) {
    this.table = new AccessTable(TABLE_MIN_BUCKETS, lfu)
    this.keys = new KeyArray(map)
  }

  /** Elements of the key array, stale ones included (for tests). */
  get sampled(): number {
    return this.keys.keys.length
  }

  inserted(key: string, now: bigint): void {
    const n = this.map.size
    this.recordAll = n < RECORD_ALL_BELOW
    this.keys.push(key)
    const table = this.table
    if (n * TABLE_BUCKETS_PER_KEY > table.mask + 1) table.grow()
    const i = keyHash(key) & table.mask
    table.clocks[i] = ++this.tick
    if (table.hits !== undefined) table.hits[i] = this.minuteAt(now) * 256 + LFU_INIT
  }

  accessed(key: string, now: bigint): void {
    if (this.recordAll) this.record(key, now, 1)
    else {
      // The top 3 bits of a full-period LCG: 1 access in 8, without a pattern a cyclic workload can align with.
      const s = (this.step = (Math.imul(this.step, 1664525) + 1013904223) | 0)
      if (s >>> 29 === 0) this.record(key, now, RECORD_EVERY)
    }
  }

  removed(): void {
    this.keys.maintain()
  }

  victim(keep: string, now: bigint): string | undefined {
    const minute = this.lfu ? this.currentMinute(now) : 0
    const pool = this.pool
    const table = this.table
    this.recordAll = this.map.size < RECORD_ALL_BELOW
    this.keys.maintain()
    // Every sample can be stale or the key being written; sample again a few times, then take any other key.
    for (let attempt = 0; attempt < 4; attempt++) {
      this.populate(keep, minute)
      while (pool.length > 0) {
        const c = pool.shift()!
        if (c.key === keep || !this.map.has(c.key)) continue
        // Used since it was sampled (or removed and stored again): its figures are stale, and it is no victim.
        const i = c.hash & table.mask
        if (table.clocks[i] !== c.clock || (table.hits !== undefined && table.hits[i] !== c.hits)) continue
        return c.key
      }
    }
    for (const key of this.map.keys()) if (key !== keep) return key
    return undefined
  }

  private record(key: string, now: bigint, weight: number): void {
    const table = this.table
    const i = keyHash(key) & table.mask
    table.clocks[i] = ++this.tick
    if (table.hits !== undefined) table.hits[i] = lfuTouch(table.hits[i]!, this.minuteAt(now), this.random, weight)
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
    const map = this.map
    if (map.size <= this.samples) {
      for (const key of map.keys()) if (key !== keep) this.consider(key, minute)
      return
    }
    const keys = this.keys.keys
    for (let k = 0; k < this.samples; k++) {
      // A stale element (a removed key) is drawn again; at most half the elements are stale.
      for (let tries = 0; tries < 4; tries++) {
        const key = keys[Math.floor(this.random() * keys.length)]!
        if (!map.has(key)) continue
        if (key !== keep) this.consider(key, minute)
        break
      }
    }
  }

  private consider(key: string, minute: number): void {
    const pool = this.pool
    const table = this.table
    const hash = keyHash(key)
    const i = hash & table.mask
    const hits = table.hits !== undefined ? table.hits[i]! : 0
    const c: Candidate = { key, hash, rank: this.lfu ? lfuDecayed(hits, minute) : 0, clock: table.clocks[i]!, hits }
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
 * The tracker for `policy` (undefined for `noeviction`). `map` is the keyspace's map of every key, which the
 * trackers' hands walk in insertion order.
 */
export const makeEviction = (
  policy: EvictionPolicy,
  map: Map<string, unknown>,
  options: EvictionOptions = {}
): EvictionTracker | undefined => {
  const samples = Math.max(1, Math.floor(options.samples ?? 5))
  const random = options.random ?? Math.random
  switch (policy) {
    case "noeviction":
      return undefined
    case "FIFO":
      return new FifoTracker(map)
    case "LRU":
      return new SampledTracker(map, false, samples, random)
    case "LFU":
      return new SampledTracker(map, true, samples, random)
  }
}

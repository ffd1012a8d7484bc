/**
 * Which key to drop when a write does not fit under `memory.max_size_mb`: the eviction policies and their
 * bookkeeping, kept cheap enough to run on every request.
 *
 * - LRU and LFU are approximate, as Redis does them: a read costs a plain field write on the entry (a logical
 *   access clock, and for LFU a logarithmic counter), never a move in a list or a second map lookup. To pick a
 *   victim, a few entries are sampled at random (`samples`, default 5) into a small pool of the best candidates
 *   seen so far (16), and the best of the pool that is still current is evicted. Random sampling needs random
 *   access, so the tracked entries are also kept in a dense array (each entry knows its index; a removal moves
 *   the last entry into the hole). With `samples` at or above the number of keys, every key is looked at and the
 *   choice is exact: the least recently used key (LRU), or the least used with the oldest access among equals
 *   (LFU).
 * - The LRU clock is a counter bumped on every access (not wall time): it orders accesses exactly, costs an
 *   increment, and a float64 holds 2^53 of them.
 * - LFU keeps Redis's 8-bit Morris counter: a new key starts at 5, an access increments it with probability
 *   1 / ((counter - 5) × 10 + 1) (so about 100 accesses reach 10, 1,000 reach 18, a million reach 255), and it
 *   loses 1 per minute since its last access (the decay), applied when it is next accessed or sampled.
 * - FIFO evicts in insertion order. A JavaScript `Map` iterates in insertion order and an overwrite keeps its
 *   place, so the keyspace's own map is the queue: a persistent iterator over its keys walks from the oldest key
 *   and is renewed when it reaches the end. It needs nothing per entry, so values stay bare under FIFO.
 * - `noeviction` has no tracker: a write that does not fit is refused.
 */

/** `memory.eviction_policy`. */
export type EvictionPolicy = "LRU" | "LFU" | "FIFO" | "noeviction"

/** The fields a sampled policy keeps on every entry (the keyspace's slot has them). */
export interface Evictable {
  readonly key: string
  /** The logical time of the last access (insert, read or write). */
  clock: number
  /** LFU: the counter (low 8 bits) and the minute of its last decay (the rest), as `minute × 256 + counter`. */
  hits: number
  /** The entry's place in the tracker's dense array; -1 when untracked. */
  index: number
}

/**
 * The bookkeeping of one eviction policy. The keyspace calls it on every insert, access and removal of an entry
 * it tracks, and asks it for a victim when a write does not fit. `now` is epoch nanoseconds (LFU's decay).
 */
export interface EvictionTracker<S extends Evictable> {
  /**
   * True when every entry must be a slot with the `Evictable` fields (LRU, LFU); false when the policy reads
   * nothing per entry and values may stay bare (FIFO).
   */
  readonly needsSlots: boolean
  /** A new key was stored. */
  inserted(slot: S, now: bigint): void
  /** A live key was read. */
  accessed(slot: S, now: bigint): void
  /** `next` replaces `old` (the same key's current slot): an overwrite, an access too. */
  rewritten(old: S, next: S, now: bigint): void
  /** `next` replaces `old` without an access (a new expiry): it takes `old`'s place and use figures. */
  replaced(old: S, next: S): void
  /** A key left the keyspace (`slot` was its current entry). */
  removed(slot: S): void
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

const NS_PER_MINUTE = 60e9
/** LFU reads the minute from the clock once per this many accesses (see `minuteAt`). */
const MINUTE_EVERY = 64

/** The minute of `now` (epoch nanoseconds). */
const minuteOf = (now: bigint): number => Math.floor(Number(now) / NS_PER_MINUTE)

/** LFU's counter of a packed `hits`, after the decay due at `minute`. */
export const lfuDecayed = (hits: number, minute: number): number => {
  const counter = hits % 256
  const since = minute - Math.floor(hits / 256)
  const periods = since > 0 ? Math.floor(since / LFU_DECAY_MINUTES) : 0
  return periods >= counter ? 0 : counter - periods
}

/** One logarithmic increment of LFU's counter: always below the initial value, then ever less likely. */
export const lfuIncrement = (counter: number, random: () => number): number => {
  if (counter >= LFU_MAX) return LFU_MAX
  // At or below the initial value an access always counts: no random number needed.
  if (counter <= LFU_INIT) return counter + 1
  return random() < 1 / ((counter - LFU_INIT) * LFU_LOG_FACTOR + 1) ? counter + 1 : counter
}

/** The new `hits` of an accessed entry: decayed to `minute`, incremented once, stamped with `minute`. */
export const lfuTouch = (hits: number, minute: number, random: () => number): number =>
  minute * 256 + lfuIncrement(lfuDecayed(hits, minute), random)

/** A sampled entry as it was when sampled: ranked by `rank` (LFU's counter; 0 under LRU), then `clock`. */
interface Candidate<S> {
  slot: S
  rank: number
  clock: number
  hits: number
}

/** True when `a` is a better victim than `b`: lower rank, or the same rank and an older access. */
const better = (a: Candidate<unknown>, b: Candidate<unknown>): boolean =>
  a.rank < b.rank || (a.rank === b.rank && a.clock < b.clock)

/**
 * LRU and LFU: per-entry clock (and counter), a dense array for random sampling, and an eviction pool.
 */
class SampledTracker<S extends Evictable> implements EvictionTracker<S> {
  readonly needsSlots = true
  /** Every tracked entry, in no order; `slot.index` is its place. */
  private readonly slots: Array<S> = []
  /** The best candidates seen so far, best first. */
  private readonly pool: Array<Candidate<S>> = []
  private tick = 0
  /** LFU: the current minute, read from `now` every `MINUTE_EVERY` accesses and at every eviction. */
  private minute = -1
  private touches = 0

  constructor(
    private readonly lfu: boolean,
    private readonly samples: number,
    private readonly random: () => number
  ) {}

  /** Tracked entries (for tests). */
  get size(): number {
    return this.slots.length
  }

  inserted(slot: S, now: bigint): void {
    slot.index = this.slots.length
    this.slots.push(slot)
    slot.clock = ++this.tick
    if (this.lfu) slot.hits = this.minuteAt(now) * 256 + LFU_INIT
  }

  accessed(slot: S, now: bigint): void {
    slot.clock = ++this.tick
    if (this.lfu) slot.hits = lfuTouch(slot.hits, this.minuteAt(now), this.random)
  }

  rewritten(old: S, next: S, now: bigint): void {
    this.replaced(old, next)
    this.accessed(next, now)
  }

  replaced(old: S, next: S): void {
    const i = old.index
    next.index = i
    next.clock = old.clock
    next.hits = old.hits
    old.index = -1
    if (i >= 0) this.slots[i] = next
  }

  removed(slot: S): void {
    const i = slot.index
    if (i < 0) return
    const last = this.slots.pop()!
    if (last !== slot) {
      this.slots[i] = last
      last.index = i
    }
    slot.index = -1
  }

  victim(keep: string, now: bigint): string | undefined {
    const minute = this.lfu ? (this.minute = minuteOf(now)) : 0
    const pool = this.pool
    // A sample can hold only the key being written; sample again a few times, then take any other key.
    for (let attempt = 0; attempt < 4; attempt++) {
      this.populate(keep, minute)
      while (pool.length > 0) {
        const c = pool.shift()!
        const s = c.slot
        // Still the key's current entry, not used since it was sampled: otherwise its figures are stale.
        if (s.index >= 0 && this.slots[s.index] === s && s.clock === c.clock && s.hits === c.hits && s.key !== keep)
          return s.key
      }
    }
    for (const s of this.slots) if (s.key !== keep) return s.key
    return undefined
  }

  /**
   * The minute LFU stamps an access with. Converting the bigint clock costs more than the rest of an access, so
   * it is read every `MINUTE_EVERY` accesses (and at every eviction): an access may be stamped up to that many
   * accesses late, far below the minute of one decay step unless the server is nearly idle.
   */
  private minuteAt(now: bigint): number {
    if (this.minute < 0 || ++this.touches >= MINUTE_EVERY) {
      this.touches = 0
      this.minute = minuteOf(now)
    }
    return this.minute
  }

  /** Samples entries into the pool: all of them when there are no more than `samples`. */
  private populate(keep: string, minute: number): void {
    const n = this.slots.length
    if (n <= this.samples) for (let i = 0; i < n; i++) this.consider(this.slots[i]!, keep, minute)
    else for (let k = 0; k < this.samples; k++) this.consider(this.slots[Math.floor(this.random() * n)]!, keep, minute)
  }

  private consider(slot: S, keep: string, minute: number): void {
    if (slot.key === keep) return
    const pool = this.pool
    const c: Candidate<S> = {
      slot,
      rank: this.lfu ? lfuDecayed(slot.hits, minute) : 0,
      clock: slot.clock,
      hits: slot.hits
    }
    // A key already in the pool is refreshed, not added twice.
    const same = pool.findIndex((p) => p.slot.key === slot.key)
    if (same >= 0) pool.splice(same, 1)
    let at = pool.length
    while (at > 0 && better(c, pool[at - 1]!)) at--
    if (at >= POOL_SIZE) return
    pool.splice(at, 0, c)
    if (pool.length > POOL_SIZE) pool.pop()
  }
}

/** FIFO over the keyspace's own map (see the module comment). */
class FifoTracker implements EvictionTracker<Evictable> {
  readonly needsSlots = false
  private cursor: Iterator<string> | undefined
  /** A key the cursor passed because it was being written: the oldest, so it goes first next time. */
  private held: string | undefined

  constructor(private readonly map: Map<string, unknown>) {}

  inserted(): void {}
  accessed(): void {}
  rewritten(): void {}
  replaced(): void {}

  removed(slot: Evictable): void {
    if (slot.key === this.held) this.held = undefined
  }

  victim(keep: string): string | undefined {
    const held = this.held
    if (held !== undefined && held !== keep) {
      this.held = undefined
      return held
    }
    // Two passes: the cursor may be at the end, and a fresh one starts from the oldest key.
    for (let pass = 0; pass < 2; pass++) {
      if (this.cursor === undefined) this.cursor = this.map.keys()
      for (;;) {
        const r = this.cursor.next()
        if (r.done === true) {
          this.cursor = undefined
          break
        }
        if (r.value !== keep) return r.value
        this.held = keep
      }
    }
    return undefined
  }
}

/**
 * The tracker for `policy` (undefined for `noeviction`). `map` is the keyspace's map of every key, which FIFO
 * walks in insertion order.
 */
export const makeEviction = <S extends Evictable>(
  policy: EvictionPolicy,
  map: Map<string, unknown>,
  options: EvictionOptions = {}
): EvictionTracker<S> | undefined => {
  const samples = Math.max(1, Math.floor(options.samples ?? 5))
  const random = options.random ?? Math.random
  switch (policy) {
    case "noeviction":
      return undefined
    case "FIFO":
      return new FifoTracker(map) as EvictionTracker<Evictable> as EvictionTracker<S>
    case "LRU":
      return new SampledTracker<S>(false, samples, random)
    case "LFU":
      return new SampledTracker<S>(true, samples, random)
  }
}

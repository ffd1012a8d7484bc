/**
 * The keyspace: every key's typed value and expiry, assigned to shards the way Fleare maps keys (so STATUS's
 * per-shard counts match). All operations are synchronous: a command reads, computes and writes in one step,
 * which makes every read-modify-write atomic per key. Time is passed in (epoch nanoseconds from the Effect
 * Clock) so expiry is tested with `TestClock`.
 *
 * Expiry is lazy (a read of an expired key removes it) and active: a heap ordered by expiry time finds the
 * expired keys without scanning, and a sweep fiber sleeps until the heap's earliest deadline, then removes a
 * bounded number of due keys. With nothing due it sleeps until a key is given an expiry earlier than the one it
 * waits for (a write checks that with one comparison), so an idle server never wakes and `TestClock.adjust`
 * costs one sweep per deadline, not one per tick of simulated time. Per-shard key
 * counts and byte estimates are counters kept on every write, so `size` and `stats` cost only the removal of
 * keys that expired since the last sweep. With a memory limit, a write that does not fit evicts keys by the
 * configured policy, or is refused under `noeviction`.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { ServerConfig } from "../config/ServerConfig.js"
import { fail, type CommandFailed } from "../errors.js"
import { EntryTable } from "./EntryTable.js"
import { type EvictionOptions, type EvictionPolicy, makeEviction } from "./Eviction.js"
import { entryBytes, ExpiryHeap, keyEntryBytes, scalarBytes } from "./Memory.js"
import { applyMutation, appliesTo, type Mutation, mutationBytes, privateCopy } from "./Mutation.js"
import { shardOf } from "./Shards.js"
import type { Value } from "./Value.js"

/** A stored key. `expiresAt` is absolute epoch nanoseconds; 0n means no expiry. */
export interface Entry {
  readonly value: Value
  readonly expiresAt: bigint
}

/** Per-shard figures for STATUS. */
export interface ShardStats {
  readonly id: string
  /** Live keys in the shard. */
  readonly keys: number
  /** Estimated bytes of the shard's entries (see `entryBytes` in `Memory.ts`). */
  readonly bytes: number
}

/** The memory figures of the keyspace. */
export interface MemoryStats {
  /** Estimated bytes of all entries, including expired ones not yet removed. */
  readonly usedBytes: number
  /** The limit in bytes; 0 = unlimited. */
  readonly maxBytes: number
  readonly policy: EvictionPolicy
  /** Entries held, including expired ones not yet removed (a cheap count that does not purge). */
  readonly keys: number
  /** Keys removed because they expired, since the keyspace was made. */
  readonly expiredKeys: number
  /** Keys evicted to honour the limit, since the keyspace was made. */
  readonly evictedKeys: number
}

/** The text of the OutOfMemoryError a refused write answers. */
export const OUT_OF_MEMORY_TEXT = "command not allowed when used memory > 'max_size_mb'"

/** How to build an in-memory keyspace. */
export interface MemoryOptions {
  readonly shardCount: number
  /** The memory limit in estimated bytes (`memory.max_size_mb` × 2^20); 0 or absent = unlimited. */
  readonly maxBytes?: number
  /** What a write over the limit does (default `noeviction`: it is refused). */
  readonly evictionPolicy?: EvictionPolicy
  /**
   * The least time between two runs of the active expiry sweep (default 100 ms): keys falling due closer
   * together than this are removed by one run. Used by the layers, not by `makeMemory`.
   */
  readonly sweepInterval?: Duration.DurationInput
  /** The most heap entries one sweep looks at, which bounds its work per run (default 1000). */
  readonly sweepLimit?: number
  /** Called after each run of the active expiry sweep with the number of keys it removed (e.g. to count runs). */
  readonly onSweep?: (removed: number) => void
  /** Called with each key evicted to honour the limit (e.g. to log the delete). */
  readonly onEvict?: (key: string) => void
  /** How LRU and LFU sample (see Eviction.ts); Redis's defaults when absent. */
  readonly eviction?: EvictionOptions
}

/**
 * Sees every change to the keyspace as it happens, synchronously and in order (the write-ahead log encodes
 * them). Expiry needs no notice: expiry times are absolute, so a replay drops what has expired by then.
 */
export interface KeyspaceObserver {
  /** `key` now holds `value`, expiring at `expiresAt` (0n: never). */
  readonly set: (key: string, value: Value, expiresAt: bigint) => void
  /** `key` was removed (DELETE, an eviction, or an expiry set in the past). */
  readonly delete: (key: string) => void
  /** `key` keeps its value and now expires at `expiresAt` (0n: never). */
  readonly expire: (key: string, expiresAt: bigint) => void
  /** `key`'s value was changed in place by `change` and now expires at `expiresAt` (0n: never). */
  readonly mutate: (key: string, change: Mutation, expiresAt: bigint) => void
}

/** The keyspace service. */
export interface KeyspaceShape {
  /** The live entry of `key` at `now`, or undefined (an expired key is removed on the way: lazy expiry). */
  readonly get: (key: string, now: bigint) => Entry | undefined
  /**
   * Stores `value` under `key`, replacing any value and clearing its expiry unless `expiresAt` is given (an
   * `expiresAt` at or before `now` removes the key instead). Returns a `CommandFailed` (OutOfMemoryError) when
   * the memory limit refuses the write.
   */
  readonly set: (key: string, value: Value, now: bigint, expiresAt?: bigint) => CommandFailed | undefined
  /**
   * Changes the live value of `key` in place by `change` (which must apply to it: `appliesTo`; commands check
   * the kind first) and sets its expiry to `expiresAt` (default 0n: none, as a write clears it). O(size of the
   * change): the value is copied only the first time it is changed after it was stored or a snapshot began.
   * Returns a `CommandFailed` (OutOfMemoryError) when the memory limit refuses the growth.
   */
  readonly mutate: (key: string, change: Mutation, now: bigint, expiresAt?: bigint) => CommandFailed | undefined
  /** Removes `key`; true if it was live. */
  readonly delete: (key: string, now: bigint) => boolean
  /**
   * Sets (or with 0n removes) the expiry of a live key; false if the key is missing or expired. An `expiresAt`
   * at or before `now` removes the key (and answers true).
   */
  readonly expire: (key: string, expiresAt: bigint, now: bigint) => boolean
  /** Number of live keys at `now`. */
  readonly size: (now: bigint) => number
  /** Per-shard live key counts and estimated bytes at `now`, in shard order. */
  readonly stats: (now: bigint) => ReadonlyArray<ShardStats>
  /** Removes keys expired at `now`, looking at no more than `limit` heap entries; returns how many it removed. */
  readonly sweep: (now: bigint, limit?: number) => number
  /**
   * The earliest expiry time scheduled (epoch nanoseconds; it may belong to a key rewritten since, which the
   * sweep then skips), or undefined when no key expires. Arms `wake`: it is called once, synchronously, when a
   * write later schedules an expiry earlier than the one returned. The active sweep's timer uses this.
   */
  readonly nextExpiry: (wake: () => void) => bigint | undefined
  /** The memory figures, without purging anything. */
  readonly memory: () => MemoryStats
  /** Every live entry at `now` (e.g. for a snapshot), in insertion order (an overwrite keeps its place). */
  readonly entries: (now: bigint) => IterableIterator<readonly [string, Entry]>
  /**
   * Installs the observer told of every later change (undefined removes it). Without one, writes pay nothing
   * for persistence.
   */
  readonly observe: (observer: KeyspaceObserver | undefined) => void
  /**
   * Stores an entry loaded from a log or snapshot: the memory limit is not applied (what was acknowledged is
   * never dropped on load) and the observer is not told. An `expiresAt` at or before `now` stores nothing.
   */
  readonly restore: (key: string, value: Value, expiresAt: bigint, now: bigint) => void
}

/**
 * A stored entry with its bookkeeping, for what a bare value cannot be: a key with an expiry, a value that is not a
 * SET string or NUM number, a value the keyspace made private (copy-on-write). Every write puts a new slot in
 * place (the expiry heap holds slots and tells stale ones by identity), so callers never get a slot: `get` and
 * `entries` answer a fresh `Entry`, which never changes under its holder. The eviction policies keep nothing on
 * the slot (see Eviction.ts).
 *
 * A slot keeps a SET string or a NUM number bare too (`data`), so that the `Value` a write was given does not
 * outlive the write.
 */
class Slot {
  // Fields in the order V8 lays them out: what a read touches first, next to the object's header.
  /** `expiresAt !== 0n`, kept in the slot: a read then need not load the bigint (another object) to know. */
  readonly timed: boolean
  readonly data: Value | Bare
  readonly expiresAt: bigint
  readonly bytes: number
  readonly key: string
  readonly shard: number
  /** The snapshot epoch in which the keyspace made `data` private; -1 when the caller gave it. */
  readonly owner: number
  constructor(key: string, data: Value | Bare, expiresAt: bigint, shard: number, bytes: number, owner = -1) {
    this.timed = expiresAt !== 0n
    this.owner = owner
    this.data = data
    this.expiresAt = expiresAt
    this.bytes = bytes
    this.key = key
    this.shard = shard
  }

  get value(): Value {
    const d = this.data
    return typeof d === "object" ? d : valueOfBare(d)
  }
}

/** The caller's copy of a slot. */
const entryOf = (s: Slot): Entry => ({ value: s.value, expiresAt: s.expiresAt })

/** A value stored bare: a string is kind Default (SET), a number kind Number (NUM.*). */
type Bare = string | number

const bareOf = (value: Value): Bare | undefined =>
  value.kind === "Default" || value.kind === "Number" ? value.value : undefined

const valueOfBare = (bare: Bare): Value =>
  typeof bare === "string" ? { kind: "Default", value: bare } : { kind: "Number", value: bare }

/** What a slot keeps of `value`: the bare string or number when it has one. */
const dataOf = (value: Value): Value | Bare => bareOf(value) ?? value

const DEFAULT_SWEEP_LIMIT = 1000

/** Later than any expiry time (about 292 years of nanoseconds past the epoch, as Go's time limit). */
const NO_DEADLINE = 2n ** 63n - 1n

const makeMemory = (options: MemoryOptions): KeyspaceShape => {
  const shardCount = Math.max(1, options.shardCount)
  const maxBytes = options.maxBytes ?? 0
  const policy = options.evictionPolicy ?? "noeviction"
  const sweepLimit = options.sweepLimit ?? DEFAULT_SWEEP_LIMIT
  const onEvict = options.onEvict
  let observer: KeyspaceObserver | undefined
  // One table for every key (the shard is recorded per entry and counted per shard): a read is one lookup of
  // its Map and one load from its rows. A value with no expiry written by SET (kind Default) or NUM.* (kind
  // Number) is kept bare, as the string or the number itself, with its `scalarBytes` as its row's figure (so an
  // overwrite sizes the old value without touching it), whatever the eviction policy (its figures are columns of
  // the table); its slot is made when it is needed. A slot's row figure is 0 (the slot has its bytes), so the
  // figure tells a bare value from a slot without loading either.
  const table = new EntryTable<Slot | Bare>()
  const rows = table.rows
  const shardKeys: Array<number> = new Array<number>(shardCount).fill(0)
  const shardBytes: Array<number> = new Array<number>(shardCount).fill(0)
  let usedBytes = 0
  // Live slots with an expiry; heap entries beyond this count are stale (overwritten, deleted, re-expired).
  let expiring = 0
  let expiredKeys = 0
  let evictedKeys = 0
  const heap = new ExpiryHeap<Slot>()
  // The deadline the sweep fiber sleeps until (`nextExpiry`), and how to wake it when an earlier one appears.
  let armed = 0n
  let wake: (() => void) | undefined
  const tracker = maxBytes > 0 ? makeEviction(policy, table, options.eviction) : undefined

  /** The slot of the bare value in `row`: the same shard and size estimate it was counted with when stored. */
  const slotOfBare = (key: string, bare: Bare, row: number): Slot =>
    new Slot(key, bare, 0n, shardOf(key, shardCount), keyEntryBytes(key) + table.figures[row]!)

  /** The item stored under `key` made a slot (a bare value's is made for the occasion), or undefined. */
  const slotOf = (key: string): Slot | undefined => {
    const row = rows.get(key)
    if (row === undefined) return undefined
    const s = table.items[row]!
    return typeof s === "object" ? s : slotOfBare(key, s, row)
  }

  /** Replaces the item of `key`, which is in the table, in its row (its place in the Map's order is kept). */
  const replace = (key: string, item: Slot | Bare, figure: number): number => {
    const row = rows.get(key)!
    table.items[row] = item
    table.figures[row] = figure
    return row
  }

  const isExpired = (s: Slot, now: bigint) => s.timed && now >= s.expiresAt

  // Removes `s`, which must be the current slot of its key, and updates every counter.
  const unlink = (s: Slot) => {
    table.delete(s.key)
    shardKeys[s.shard]! -= 1
    shardBytes[s.shard]! -= s.bytes
    usedBytes -= s.bytes
    if (s.expiresAt !== 0n) expiring -= 1
    tracker?.removed(s.key)
  }

  const scheduleExpiry = (s: Slot) => {
    if (s.expiresAt === 0n) return
    expiring += 1
    heap.push(s)
    // The only per-write cost of the sweep's timer: one comparison, and a wake-up when this key is due first.
    if (wake !== undefined && s.expiresAt < armed) {
      const w = wake
      wake = undefined
      w()
    }
    // Rewrites of the same keys leave stale heap entries behind; drop them once they outnumber the live ones.
    if (heap.size > 2 * expiring + 1024) heap.retain((h) => table.get(h.key) === h)
  }

  // The live slot of `key`, removing it if it has expired (lazy expiry); no access is recorded.
  const live = (key: string, now: bigint): Slot | undefined => {
    const s = slotOf(key)
    if (s === undefined) return undefined
    if (!isExpired(s, now)) return s
    unlink(s)
    expiredKeys += 1
    return undefined
  }

  const sweep = (now: bigint, limit: number = sweepLimit): number => {
    let looked = 0
    let removed = 0
    while (looked < limit) {
      const top = heap.peek()
      if (top === undefined || top.expiresAt > now) break
      heap.pop()
      looked += 1
      if (table.get(top.key) === top) {
        unlink(top)
        expiredKeys += 1
        removed += 1
      }
    }
    return removed
  }

  // Removes the key `victim` chose, whether stored bare or in a slot.
  const evict = (key: string): void => {
    const stored = slotOf(key)
    if (stored === undefined) return
    unlink(stored)
    evictedKeys += 1
    observer?.delete(key)
    onEvict?.(key)
  }

  // Frees room for a write of `bytes` replacing `oldBytes` under `key`; an error when the write must be refused.
  const makeRoom = (key: string, oldBytes: number, bytes: number, now: bigint): CommandFailed | undefined => {
    const fits = () => usedBytes - oldBytes + bytes <= maxBytes
    // Expired keys go first: reclaiming them loses nothing.
    sweep(now, Infinity)
    if (fits()) return undefined
    if (tracker === undefined || bytes > maxBytes) return fail.outOfMemory(OUT_OF_MEMORY_TEXT)
    while (!fits()) {
      const victim = tracker.victim(key, now)
      if (victim === undefined) return fail.outOfMemory(OUT_OF_MEMORY_TEXT)
      evict(victim)
    }
    return undefined
  }

  const get = (key: string, now: bigint): Entry | undefined => {
    const row = rows.get(key)
    if (row === undefined) return undefined
    const s = table.items[row]!
    // A bare value needs no shard or size on a read: answer with a light entry.
    if (typeof s !== "object") {
      if (tracker !== undefined) tracker.accessed(row, now)
      return { value: valueOfBare(s), expiresAt: 0n }
    }
    if (isExpired(s, now)) {
      unlink(s)
      expiredKeys += 1
      return undefined
    }
    if (tracker !== undefined) tracker.accessed(row, now)
    return entryOf(s)
  }

  const set = (key: string, value: Value, now: bigint, expiresAt: bigint = 0n): CommandFailed | undefined => {
    if (expiresAt === 0n) {
      const bare = bareOf(value)
      if (bare !== undefined) {
        // The hot path of SET and NUM.*: a bare value over a bare value or nothing. Sized once, for the limit
        // and the counters; a write that does not grow the estimate always fits.
        const size = scalarBytes(bare)
        const row = rows.get(key)
        if (row === undefined) {
          const growth = keyEntryBytes(key) + size
          if (maxBytes === 0 || usedBytes + growth <= maxBytes) {
            const shard = shardOf(key, shardCount)
            shardKeys[shard]! += 1
            shardBytes[shard]! += growth
            usedBytes += growth
            const added = table.add(key, bare, size)
            tracker?.inserted(added, now)
            observer?.set(key, value, 0n)
            return undefined
          }
        } else if (table.figures[row] !== 0) {
          // A bare value's row has its size (never 0); a slot's has 0. The old value itself is not touched.
          const growth = size - table.figures[row]!
          if (maxBytes === 0 || growth <= 0 || usedBytes + growth <= maxBytes) {
            if (growth !== 0) {
              shardBytes[shardOf(key, shardCount)]! += growth
              usedBytes += growth
            }
            table.items[row] = bare
            table.figures[row] = size
            tracker?.accessed(row, now)
            observer?.set(key, value, 0n)
            return undefined
          }
        }
      }
    }
    const old = live(key, now)
    if (expiresAt !== 0n && expiresAt <= now) {
      // Already expired: the key must not come back.
      if (old !== undefined) {
        unlink(old)
        observer?.delete(key)
      }
      return undefined
    }
    const bytes = entryBytes(key, value)
    const oldBytes = old?.bytes ?? 0
    // A write that does not grow the estimate is always allowed, even over the limit.
    if (maxBytes > 0 && bytes > oldBytes && usedBytes - oldBytes + bytes > maxBytes) {
      const refused = makeRoom(key, oldBytes, bytes, now)
      if (refused !== undefined) return refused
    }
    store(key, value, expiresAt, bytes, old, now)
    observer?.set(key, value, expiresAt)
    return undefined
  }

  // Puts a new slot for `key`, replacing `old` (its current live slot, if any), and updates every counter.
  const store = (
    key: string,
    value: Value,
    expiresAt: bigint,
    bytes: number,
    old: Slot | undefined,
    now: bigint,
    owner = -1
  ): void => {
    const bare = expiresAt === 0n ? bareOf(value) : undefined
    if (old !== undefined) {
      const next = new Slot(key, dataOf(value), expiresAt, old.shard, bytes, owner)
      const row = bare !== undefined ? replace(key, bare, scalarBytes(bare)) : replace(key, next, 0)
      shardBytes[old.shard]! += bytes - old.bytes
      usedBytes += bytes - old.bytes
      if (old.expiresAt !== 0n) expiring -= 1
      scheduleExpiry(next)
      tracker?.accessed(row, now)
    } else {
      const shard = shardOf(key, shardCount)
      const slot = new Slot(key, dataOf(value), expiresAt, shard, bytes)
      const row = bare !== undefined ? table.add(key, bare, scalarBytes(bare)) : table.add(key, slot, 0)
      shardKeys[shard]! += 1
      shardBytes[shard]! += bytes
      usedBytes += bytes
      scheduleExpiry(slot)
      tracker?.inserted(row, now)
    }
  }

  const expire = (key: string, expiresAt: bigint, now: bigint): boolean => {
    const s = live(key, now)
    if (s === undefined) return false
    if (expiresAt !== 0n && expiresAt <= now) {
      unlink(s)
      expiredKeys += 1
      observer?.delete(key)
      return true
    }
    // Same value, same place in the eviction order: only the expiry changes.
    const next = new Slot(key, s.data, expiresAt, s.shard, s.bytes, s.owner)
    replace(key, next, 0)
    if (s.expiresAt !== 0n) expiring -= 1
    scheduleExpiry(next)
    observer?.expire(key, expiresAt)
    return true
  }

  // Bumped when a snapshot begins: a snapshot may still read the values made private before it.
  let epoch = 0

  const mutate = (key: string, change: Mutation, now: bigint, expiresAt: bigint = 0n): CommandFailed | undefined => {
    const old = live(key, now)
    if (old === undefined || !appliesTo(old.value, change))
      throw new Error(`keyspace: ${change.op} does not apply to key ${JSON.stringify(key)}`)
    const delta = mutationBytes(old.value, change)
    const bytes = old.bytes + delta
    if (maxBytes > 0 && delta > 0 && usedBytes + delta > maxBytes) {
      const refused = makeRoom(key, old.bytes, bytes, now)
      if (refused !== undefined) return refused
    }
    // The caller of `set` may still hold the value it gave, and a snapshot the value it saw: copy once.
    const own = old.owner === epoch ? old.value : privateCopy(old.value)
    store(key, applyMutation(own, change), expiresAt, bytes, old, now, epoch)
    observer?.mutate(key, change, expiresAt)
    return undefined
  }

  return {
    get,
    set,
    mutate,
    delete: (key, now) => {
      const s = live(key, now)
      if (s === undefined) return false
      unlink(s)
      observer?.delete(key)
      return true
    },
    expire,
    size: (now) => {
      sweep(now, Infinity)
      return table.size
    },
    stats: (now) => {
      sweep(now, Infinity)
      return shardKeys.map((keys, i) => ({ id: String(i), keys, bytes: shardBytes[i]! }))
    },
    sweep,
    nextExpiry: (w) => {
      const top = heap.peek()
      wake = w
      // With no deadline any expiry is earlier: the first one scheduled wakes the sweep.
      armed = top === undefined ? NO_DEADLINE : top.expiresAt
      return top?.expiresAt
    },
    memory: () => ({ usedBytes, maxBytes, policy, keys: table.size, expiredKeys, evictedKeys }),
    entries: function* (now) {
      // The caller may read the values later (a snapshot written in the background): none changes in place now.
      epoch += 1
      for (const [key, s] of table.entries()) {
        if (typeof s !== "object") yield [key, { value: valueOfBare(s), expiresAt: 0n }] as const
        else if (!isExpired(s, now)) yield [key, entryOf(s)] as const
      }
    },
    observe: (o) => {
      observer = o
    },
    restore: (key, value, expiresAt, now) => {
      const old = live(key, now)
      if (expiresAt !== 0n && expiresAt <= now) {
        if (old !== undefined) unlink(old)
        return
      }
      store(key, value, expiresAt, entryBytes(key, value), old, now)
    }
  }
}

/** Nanoseconds to a whole number of milliseconds, rounded up (a timer must not fire before the deadline). */
const ceilMillis = (nanos: bigint): number => Number((nanos + 999_999n) / 1_000_000n)

/**
 * An in-memory keyspace with its active expiry sweep: a fiber, living as long as the scope, that sleeps on the
 * Effect Clock until the earliest expiry deadline (no sooner than `sweepInterval` after its previous run), sweeps,
 * and sleeps again; with no expiry scheduled it waits until a write schedules one.
 */
const makeScoped = (options: MemoryOptions): Effect.Effect<KeyspaceShape, never, Scope.Scope> =>
  Effect.gen(function* () {
    const keyspace = makeMemory(options)
    const gap = Duration.toNanos(Duration.decode(options.sweepInterval ?? "100 millis"))
    const gapNanos = gap._tag === "Some" ? gap.value : 0n
    const woken = yield* Effect.makeLatch(false)
    const wake = () => woken.unsafeOpen()
    let lastRun: bigint | undefined
    const step: Effect.Effect<void> = Effect.suspend(() => {
      woken.unsafeClose()
      const deadline = keyspace.nextExpiry(wake)
      if (deadline === undefined) return woken.await
      return Effect.flatMap(Clock.currentTimeNanos, (now) => {
        const earliest = lastRun === undefined ? deadline : lastRun + gapNanos
        const due = deadline > earliest ? deadline : earliest
        // Not due yet: sleep until it is, or until a write schedules an earlier deadline; then look again.
        if (due > now) return Effect.race(Effect.sleep(Duration.millis(ceilMillis(due - now))), woken.await)
        lastRun = now
        const removed = keyspace.sweep(now)
        options.onSweep?.(removed)
        return Effect.void
      })
    }).pipe(
      Effect.catchAllDefect((defect) =>
        // Lazy expiry still holds; pause so that a sweep failing every time does not spin.
        Effect.zipRight(Effect.logError("keyspace expiry sweep failed", defect), Effect.sleep("1 second"))
      )
    )
    yield* Effect.forkScoped(Effect.forever(step))
    return keyspace
  })

export class Keyspace extends Context.Tag("fleare/Keyspace")<Keyspace, KeyspaceShape>() {
  /** An in-memory keyspace without the sweep fiber (expiry stays lazy unless `sweep` is called). */
  static makeMemory = makeMemory

  /** An in-memory keyspace with its active expiry sweep, for the life of the scope. */
  static makeScoped = makeScoped

  /** The in-memory keyspace with its active expiry sweep. */
  static layerMemory = (options: MemoryOptions): Layer.Layer<Keyspace> => Layer.scoped(Keyspace, makeScoped(options))

  /** The in-memory keyspace configured from `shard.shard_count` and `memory.*`, with its expiry sweep. */
  static layerConfig: Layer.Layer<Keyspace, never, ServerConfig> = Layer.scoped(
    Keyspace,
    Effect.flatMap(ServerConfig, (c) =>
      makeScoped({
        shardCount: c.shard.shard_count,
        maxBytes: c.memory.max_size_mb * 1024 * 1024,
        evictionPolicy: c.memory.eviction_policy
      })
    )
  )
}

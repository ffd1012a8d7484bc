import { describe, expect, it } from "vitest"
import { EntryTable } from "../../src/store/EntryTable.js"
import {
  type EvictionPolicy,
  type EvictionTracker,
  LFU_INIT,
  LFU_MAX,
  lfuDecayed,
  lfuIncrement,
  lfuTouch,
  makeEviction
} from "../../src/store/Eviction.js"
import { Keyspace } from "../../src/store/Keyspace.js"
import { entryBytes } from "../../src/store/Memory.js"
import type { Value } from "../../src/store/Value.js"

/** A small seeded PRNG (mulberry32), so every run samples the same way. */
const seeded = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = seed
  t = Math.imul(t ^ (t >>> 15), t | 1)
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const MINUTE = 60_000_000_000n

/** A tracker over a table of keys (the keyspace's), driven the way the keyspace drives it. */
const harness = (policy: EvictionPolicy, samples = 64, random: () => number = () => 0) => {
  const table = new EntryTable<number>()
  const tracker = makeEviction(policy, table, { samples, random }) as EvictionTracker
  let now = 0n
  const rowOf = (k: string) => table.rows.get(k)!
  return {
    table,
    tracker,
    advance: (ns: bigint) => {
      now += ns
    },
    insert: (...keys: Array<string>) => {
      for (const k of keys) tracker.inserted(table.add(k, 0, 0), now)
    },
    read: (...keys: Array<string>) => {
      for (const k of keys) tracker.accessed(rowOf(k), now)
    },
    /** An overwrite: the key keeps its row and its place, and it is an access. */
    write: (k: string) => {
      table.items[rowOf(k)]! += 1
      tracker.accessed(rowOf(k), now)
    },
    remove: (k: string) => {
      table.delete(k)
      tracker.removed(k)
    },
    /** Evicts `n` keys (never `keep`) and returns them in order. */
    evict: (n: number, keep = "") => {
      const out: Array<string> = []
      for (let i = 0; i < n; i++) {
        const v = tracker.victim(keep, now)
        if (v === undefined) break
        out.push(v)
        table.delete(v)
        tracker.removed(v)
      }
      return out
    }
  }
}

describe("LRU tracker", () => {
  it("evicts in order of last access (reads and writes count, insertion counts as one)", () => {
    const h = harness("LRU")
    h.insert("a", "b", "c", "d")
    h.read("a")
    h.write("c")
    h.read("b")
    expect(h.evict(4)).toEqual(["d", "a", "c", "b"])
    expect(h.tracker.victim("", 0n)).toBeUndefined()
  })

  it("never picks the key being written, and forgets removed keys", () => {
    const h = harness("LRU")
    h.insert("a", "b", "c")
    h.remove("a")
    expect(h.evict(1, "b")).toEqual(["c"])
    expect(h.evict(1, "b")).toEqual([])
    expect(h.evict(1)).toEqual(["b"])
  })

  it("finds another key when every sample is the key being written", () => {
    // random 0: every sample is row 0, the first key stored, which is the key being written.
    const h = harness("LRU", 1, () => 0)
    h.insert("a", "b", "c")
    expect(h.evict(2, "a")).toEqual(["b", "c"])
    expect(h.evict(1, "a")).toEqual([])
  })

  it("a candidate read after it entered the pool is not evicted on its stale figures", () => {
    const h = harness("LRU", 1, seeded(1))
    h.insert("a", "b")
    // With one sample per eviction the pool fills up over calls; a read in between must count.
    const first = h.tracker.victim("", 0n)!
    h.read(first)
    const second = h.tracker.victim("", 0n)
    expect(second).not.toBe(first)
  })
})

describe("LFU tracker", () => {
  it("evicts the least used key, the oldest access among equals", () => {
    // random 0: every access counts, so the counts are exact.
    const h = harness("LFU")
    h.insert("a", "b", "c", "d")
    h.read("a", "a", "a", "b", "b", "c", "d")
    // a 8, b 7, c 6, d 6 (c's access is older than d's)
    expect(h.evict(4)).toEqual(["c", "d", "b", "a"])
  })

  it("counts logarithmically, as Redis's counter with log factor 10", () => {
    const random = seeded(42)
    const after = (accesses: number) => {
      let c = LFU_INIT
      for (let i = 0; i < accesses; i++) c = lfuIncrement(c, random)
      return c
    }
    // Redis's table for factor 10: 100 hits ~ 10, 1,000 ~ 18, 100,000 ~ 142, 1,000,000 ~ 255.
    expect(after(100)).toBeGreaterThanOrEqual(8)
    expect(after(100)).toBeLessThanOrEqual(12)
    expect(after(1000)).toBeGreaterThanOrEqual(15)
    expect(after(1000)).toBeLessThanOrEqual(21)
    expect(after(100_000)).toBeGreaterThanOrEqual(120)
    expect(after(100_000)).toBeLessThanOrEqual(165)
    expect(after(2_000_000)).toBe(LFU_MAX)
    expect(lfuIncrement(LFU_MAX, () => 0)).toBe(LFU_MAX)
  })

  it("decays by one per idle minute, down to zero", () => {
    const hits = 10 * 256 + 7 // counter 7, last touched at minute 10
    expect(lfuDecayed(hits, 10)).toBe(7)
    expect(lfuDecayed(hits, 13)).toBe(4)
    expect(lfuDecayed(hits, 100)).toBe(0)
    // decayed to 4, below the initial 5, where an access always counts
    expect(lfuTouch(hits, 13, () => 0.999)).toBe(13 * 256 + 5)
    // past the initial value, the random number decides
    expect(lfuTouch(20 * 256 + 8, 20, () => 0.999)).toBe(20 * 256 + 8)
    expect(lfuTouch(20 * 256 + 8, 20, () => 0)).toBe(20 * 256 + 9)
  })

  it("an often-read key that went idle is evicted before a newer, less-read one", () => {
    const h = harness("LFU")
    h.insert("old", "new")
    h.read("old", "old", "old", "old")
    h.advance(10n * MINUTE)
    h.read("new")
    // old: 9 decayed by 10 minutes to 0; new: 5 + 1 decayed to 6 at its access.
    expect(h.evict(1)).toEqual(["old"])
  })
})

describe("FIFO tracker", () => {
  it("evicts in insertion order; an overwrite keeps its place, a re-inserted key goes last", () => {
    const h = harness("FIFO")
    h.insert("a", "b", "c", "d")
    h.write("b") // overwrite: keeps its place
    h.remove("c")
    h.insert("c")
    expect(h.evict(2)).toEqual(["a", "b"])
    h.insert("e")
    expect(h.evict(3)).toEqual(["d", "c", "e"])
    expect(h.evict(1)).toEqual([])
  })

  it("passes over the key being written and takes it first when it may", () => {
    const h = harness("FIFO")
    h.insert("a", "b", "c")
    expect(h.evict(1, "a")).toEqual(["b"])
    expect(h.evict(1)).toEqual(["a"])
    expect(h.evict(1)).toEqual(["c"])
  })

  it("starts over from the oldest key once its cursor has reached the end", () => {
    const h = harness("FIFO")
    h.insert("a")
    expect(h.evict(1)).toEqual(["a"])
    expect(h.evict(1)).toEqual([])
    h.insert("b", "c")
    expect(h.evict(2)).toEqual(["b", "c"])
  })
})

/**
 * The randomized reference check: random writes, reads, overwrites, deletes and expiry changes on a small
 * keyspace with room for `room` entries, through the real keyspace, against a plain model of the policy. With
 * the sample size at least the key count every eviction must be the model's exact choice.
 */
describe("eviction against a reference model", () => {
  const text = (s: string): Value => ({ kind: "Default", value: s })
  const E = entryBytes("k0", text("x"))
  const T = 1_000_000_000_000n

  const run = (policy: "LRU" | "LFU" | "FIFO", seed: number) => {
    const random = seeded(seed)
    const room = 2 + Math.floor(random() * 5)
    const evicted: Array<string> = []
    const ks = Keyspace.makeMemory({
      shardCount: 2,
      maxBytes: room * E,
      evictionPolicy: policy,
      onEvict: (k) => evicted.push(k),
      // Every access counts (see the LFU tests), and every key is sampled: the choice must be exact.
      eviction: { samples: 16, random: () => 0 }
    })
    // The model: per key its last access, its use count, its insertion order.
    const model = new Map<string, { clock: number; count: number; order: number }>()
    let tick = 0
    let order = 0
    const expected: Array<string> = []
    for (let step = 0; step < 400; step++) {
      const key = `k${Math.floor(random() * 10)}`
      const op = random()
      const m = model.get(key)
      if (op < 0.5) {
        if (m !== undefined) {
          m.clock = ++tick
          m.count = Math.min(255, m.count + 1)
        } else {
          if (model.size === room) {
            let victim: string | undefined
            let best: { clock: number; count: number; order: number } | undefined
            for (const [k, v] of model) {
              const wins =
                best === undefined ||
                (policy === "LRU"
                  ? v.clock < best.clock
                  : policy === "LFU"
                    ? v.count < best.count || (v.count === best.count && v.clock < best.clock)
                    : v.order < best.order)
              if (wins) {
                victim = k
                best = v
              }
            }
            model.delete(victim!)
            expected.push(victim!)
          }
          model.set(key, { clock: ++tick, count: 5, order: ++order })
        }
        expect(ks.set(key, text("x"), T)).toBeUndefined()
      } else if (op < 0.8) {
        if (m !== undefined && policy !== "FIFO") {
          m.clock = ++tick
          m.count = Math.min(255, m.count + 1)
        }
        expect(ks.get(key, T) !== undefined).toBe(m !== undefined)
      } else if (op < 0.9) {
        model.delete(key)
        ks.delete(key, T)
      } else {
        // A new expiry, far away: the entry is replaced but keeps its place and figures.
        expect(ks.expire(key, T + 1_000_000n * T, T)).toBe(m !== undefined)
      }
      expect(evicted).toEqual(expected)
    }
    expect(evicted.length).toBeGreaterThan(10)
  }

  for (const policy of ["LRU", "LFU", "FIFO"] as const)
    it(`${policy}: 50 random runs choose exactly as the model`, () => {
      for (let seed = 1; seed <= 50; seed++) run(policy, seed * 7919)
    })
})

describe("sampled LRU's approximation (5 samples, Redis's default)", () => {
  it("evicts keys from the least recently used part of the keyspace", () => {
    const h = harness("LRU", 5, seeded(7))
    const n = 2000
    for (let i = 0; i < n; i++) h.insert(`k${i}`)
    // Key i was last used at time i: the exact order is k0, k1, ...
    const victims = h.evict(200).map((k) => Number(k.slice(1)))
    expect(victims).toHaveLength(200)
    // An exact LRU would take k0..k199. The sampled one takes old keys, though not exactly those: most from the
    // oldest quarter, none from the newest fifth.
    const oldQuarter = victims.filter((i) => i < n / 4).length
    expect(oldQuarter).toBeGreaterThanOrEqual(160)
    expect(Math.max(...victims)).toBeLessThan(0.8 * n)
    const mean = victims.reduce((a, b) => a + b, 0) / victims.length
    expect(mean).toBeLessThan(0.2 * n)
  })
})

describe("the keyspace's counters under a memory limit", () => {
  it("stay equal to the live entries' estimates under random writes, overwrites in place and evictions", () => {
    const rand = seeded(99)
    const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(rand() * xs.length)]!
    const values: ReadonlyArray<Value> = [
      { kind: "Default", value: "x" },
      { kind: "Default", value: "a longer plain value, é" },
      { kind: "Number", value: 7 },
      { kind: "String", value: "str" },
      { kind: "List", value: [1, "two"] }
    ]
    const keys = ["k0", "k1", "key-2", "ключ", "k4", "k5", "k6", "k7"]
    for (const policy of ["LRU", "LFU", "FIFO", "noeviction"] as const) {
      const ks = Keyspace.makeMemory({ shardCount: 3, maxBytes: 500, evictionPolicy: policy })
      for (let step = 0; step < 3000; step++) {
        const t = BigInt(step)
        const key = pick(keys)
        const op = rand()
        if (op < 0.6) ks.set(key, pick(values), t, rand() < 0.2 ? t + BigInt(1 + Math.floor(rand() * 20)) : 0n)
        else if (op < 0.75) ks.get(key, t)
        else if (op < 0.85) ks.expire(key, rand() < 0.5 ? 0n : t + BigInt(Math.floor(rand() * 20)), t)
        else if (op < 0.95) ks.delete(key, t)
        else ks.sweep(t)
        const live = [...ks.entries(t)]
        const used = live.reduce((n, [k, e]) => n + entryBytes(k, e.value), 0)
        expect(ks.stats(t).reduce((n, s) => n + s.bytes, 0)).toBe(used)
        expect(ks.memory().usedBytes).toBe(used)
        expect(used).toBeLessThanOrEqual(500)
      }
      if (policy !== "noeviction") expect(ks.memory().evictedKeys).toBeGreaterThan(0)
    }
  })
})

describe("LRU and LFU figures in the table's rows", () => {
  it("survive the table's growth: an LRU tracker past its first capacity evicts only keys older than the ones read", () => {
    const n = 20_000
    const h = harness("LRU", n + 1)
    for (let i = 0; i < 1000; i++) h.insert(`k${i}`)
    // Below 4,096 keys every access is recorded: k0..k99 are now newer than k100..k999.
    for (let i = 0; i < 100; i++) h.read(`k${i}`)
    for (let i = 1000; i < n; i++) h.insert(`k${i}`)
    expect(h.table.clocks!.length).toBeGreaterThanOrEqual(n)
    // Every key is sampled: the victims are the oldest figures, which a lost figure (0) would undercut.
    const victims = h.evict(40).map((k) => Number(k.slice(1)))
    expect(victims).toHaveLength(40)
    expect(victims.every((i) => i >= 100 && i < 1000)).toBe(true)
  })

  for (const policy of ["LRU", "LFU"] as const)
    it(`${policy}: survive the rows' renumbering after mass removals, and only live keys are chosen`, () => {
      const h = harness(policy, 5, seeded(17))
      for (let i = 0; i < 20_000; i++) h.insert(`k${i}`)
      // Make the keys ending in 5 the most used: under LFU the counter grows, under LRU they are the newest. Above
      // 4,096 keys 1 access in 8 is recorded: 40 reads leave a key unrecorded with probability (7/8)^40, 0.5 %.
      for (let r = 0; r < 40; r++) for (let i = 5; i < 20_000; i += 10) h.read(`k${i}`)
      const rowsBefore = h.table.rowCount
      // Remove 4 keys in 5 (none of the used ones): the table renumbers its rows meanwhile.
      for (let i = 0; i < 20_000; i++) if (i % 5 !== 0) h.remove(`k${i}`)
      expect(h.table.rowCount).toBeLessThan(rowsBefore)
      const victims = h.evict(3000)
      expect(victims).toHaveLength(3000)
      expect(new Set(victims).size).toBe(3000)
      expect(victims.every((k) => Number(k.slice(1)) % 5 === 0)).toBe(true)
      // The used keys (multiples of 5 ending in 5) kept their figures through the renumbering: few go first.
      const used = victims.slice(0, 1000).filter((k) => k.endsWith("5")).length
      expect(used).toBeLessThan(100)
      // A key stored again after its removal is live again: evicting everything takes every live key once.
      h.insert("k1")
      const rest = h.evict(5000)
      expect(rest).toHaveLength(1001)
      expect(new Set(rest).size).toBe(1001)
      expect(rest).toContain("k1")
      expect(h.table.size).toBe(0)
    })
})

describe("sampled recording on a large keyspace (1 access in 8 recorded above 4,096 keys)", () => {
  it("keys read many times survive a fill that evicts; keys never read after writing go first", () => {
    const h = harness("LRU", 5, seeded(3))
    const random = seeded(11)
    const n = 10_000
    for (let i = 0; i < n; i++) h.insert(`k${i}`)
    // A hot tenth, spread over the keyspace, read 50 times each in random order.
    const hot = Array.from({ length: n / 10 }, (_, j) => `k${j * 10 + 3}`)
    const reads = hot.flatMap((k) => Array.from({ length: 50 }, () => k))
    for (let i = reads.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1))
      ;[reads[i], reads[j]] = [reads[j]!, reads[i]!]
    }
    h.read(...reads)
    // A fill of 3,000 new keys, each evicting one.
    const victims: Array<string> = []
    for (let i = n; i < n + 3000; i++) {
      victims.push(...h.evict(1, `k${i}`))
      h.insert(`k${i}`)
    }
    expect(victims).toHaveLength(3000)
    const hotSet = new Set(hot)
    const hotEvicted = victims.filter((k) => hotSet.has(k)).length
    const newEvicted = victims.filter((k) => Number(k.slice(1)) >= n).length
    // A hot key is unrecorded with probability (7/8)^50 (0.1 %) or shares a bucket with an older cold key.
    expect(hotEvicted).toBeLessThanOrEqual(15)
    // Victims are the written-once keys; the new keys are younger than all of them.
    expect(newEvicted).toBeLessThanOrEqual(30)
    expect(victims.length - hotEvicted - newEvicted).toBeGreaterThanOrEqual(2955)
  })

  it("a workload cycling over 8 keys gets each of them recorded (no pattern to align with)", () => {
    const h = harness("LRU", 5, seeded(5))
    // The 8 hot keys are the oldest written; a plain counter & 7 would record only one of them.
    const hot = Array.from({ length: 8 }, (_, i) => `hot${i}`)
    h.insert(...hot)
    for (let i = 0; i < 5000; i++) h.insert(`k${i}`)
    for (let round = 0; round < 400; round++) h.read(...hot)
    const victims = h.evict(2000)
    expect(victims).toHaveLength(2000)
    expect(victims.filter((k) => k.startsWith("hot"))).toEqual([])
  })

  it("LFU's scaled increment keeps the counter's expected growth", () => {
    const random = seeded(21)
    const meanAfter = (accesses: number, weight: number) => {
      let total = 0
      for (let key = 0; key < 400; key++) {
        let c = LFU_INIT
        for (let i = 0; i < accesses / weight; i++) c = lfuIncrement(c, random, weight)
        total += c
      }
      return total / 400
    }
    for (const accesses of [80, 800, 8000, 80_000]) {
      const every = meanAfter(accesses, 1)
      const scaled = meanAfter(accesses, 8)
      expect({ accesses, ratio: Math.abs(scaled / every - 1) < 0.06 }).toEqual({ accesses, ratio: true })
    }
    // At or below the initial value each of the accesses counts, as unscaled.
    expect(lfuIncrement(2, () => 0.999, 8)).toBe(LFU_INIT + 1)
    expect(lfuIncrement(LFU_MAX, () => 0, 8)).toBe(LFU_MAX)
  })
})

/**
 * The tracker alone against a plain model, on up to 40 keys (more than the pool's 16) with every key sampled:
 * random inserts, reads, overwrites and removals, and an eviction now and then, which must be the model's exact
 * choice. LFU's random source always increments, so its counts are exact.
 */
describe("the sampled tracker against a reference, past the pool's size", () => {
  for (const policy of ["LRU", "LFU"] as const)
    it(`${policy}: 30 random runs choose exactly as the model`, () => {
      for (let seed = 1; seed <= 30; seed++) {
        const random = seeded(seed * 104729)
        const h = harness(policy, 64)
        const model = new Map<string, { clock: number; count: number }>()
        let tick = 0
        let evictions = 0
        for (let step = 0; step < 600; step++) {
          const key = `key-${Math.floor(random() * 40)}`
          const op = random()
          const m = model.get(key)
          if (op < 0.35) {
            if (m === undefined) {
              h.insert(key)
              model.set(key, { clock: ++tick, count: LFU_INIT })
            } else {
              h.write(key)
              m.clock = ++tick
              m.count = Math.min(LFU_MAX, m.count + 1)
            }
          } else if (op < 0.75) {
            if (m !== undefined) {
              h.read(key)
              m.clock = ++tick
              m.count = Math.min(LFU_MAX, m.count + 1)
            }
          } else if (op < 0.85) {
            if (m !== undefined) {
              h.remove(key)
              model.delete(key)
            }
          } else if (model.size > 0) {
            const keep = random() < 0.3 ? key : ""
            let expected: string | undefined
            let best: { clock: number; count: number } | undefined
            for (const [k, v] of model) {
              if (k === keep) continue
              const wins =
                best === undefined ||
                (policy === "LRU"
                  ? v.clock < best.clock
                  : v.count < best.count || (v.count === best.count && v.clock < best.clock))
              if (wins) {
                expected = k
                best = v
              }
            }
            const got = h.evict(1, keep)
            expect({ seed, step, got }).toEqual({ seed, step, got: expected === undefined ? [] : [expected] })
            if (expected !== undefined) model.delete(expected)
            evictions++
          }
        }
        expect(evictions).toBeGreaterThan(50)
      }
    })
})

import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Layer, TestClock } from "effect"
import { ServerConfig } from "../../src/config/ServerConfig.js"
import { CommandFailed } from "../../src/errors.js"
import type { Json } from "../../src/protocol/gojson/Json.js"
import { Keyspace, type KeyspaceShape, OUT_OF_MEMORY_TEXT } from "../../src/store/Keyspace.js"
import { ENTRY_OVERHEAD_BYTES, entryBytes, jsonBytes, valueBytes } from "../../src/store/Memory.js"
import { shardOf } from "../../src/store/Shards.js"
import type { Value } from "../../src/store/Value.js"

const S = 1_000_000_000n
const text = (s: string): Value => ({ kind: "Default", value: s })
const num = (n: number): Value => ({ kind: "Number", value: n })
const now = Clock.currentTimeNanos

// Every key below is two bytes and every value one byte, so each entry has the same estimate.
const E = entryBytes("k1", text("x"))

const keysOf = (ks: KeyspaceShape, t: bigint) => [...ks.entries(t)].map(([k]) => k).sort()

const fill = (ks: KeyspaceShape, t: bigint, ...keys: Array<string>) => {
  for (const k of keys) expect(ks.set(k, text("x"), t)).toBeUndefined()
}

describe("Keyspace expiry", () => {
  it.effect("a key set to expire in 10 s is present at 9.999 s and gone at 10 s", () =>
    Effect.gen(function* () {
      const ks = Keyspace.makeMemory({ shardCount: 2 })
      const t0 = yield* now
      ks.set("k", text("v"), t0, t0 + 10n * S)
      yield* TestClock.adjust("9999 millis")
      expect(ks.get("k", yield* now)?.value).toEqual(text("v"))
      expect(ks.size(yield* now)).toBe(1)
      yield* TestClock.adjust("1 millis")
      expect(ks.get("k", yield* now)).toBeUndefined()
      expect(ks.size(yield* now)).toBe(0)
      expect(ks.memory().expiredKeys).toBe(1)
    })
  )

  it.effect("size and stats count only live keys without any read or sweep", () =>
    Effect.gen(function* () {
      const ks = Keyspace.makeMemory({ shardCount: 2 })
      const t0 = yield* now
      ks.set("a", text("1"), t0, t0 + S)
      ks.set("b", text("22"), t0)
      ks.set("c", text("333"), t0, t0 + 5n * S)
      expect(ks.size(t0)).toBe(3)
      yield* TestClock.adjust("1 second")
      const t1 = yield* now
      expect(ks.size(t1)).toBe(2)
      const expected = [
        { id: "0", keys: 0, bytes: 0 },
        { id: "1", keys: 0, bytes: 0 }
      ]
      for (const k of ["b", "c"]) {
        const s = expected[shardOf(k, 2)]!
        expected[shardOf(k, 2)] = { ...s, keys: s.keys + 1, bytes: s.bytes + entryBytes(k, ks.get(k, t1)!.value) }
      }
      expect(ks.stats(t1)).toEqual(expected)
      yield* TestClock.adjust("4 seconds")
      const t2 = yield* now
      expect(ks.stats(t2).reduce((n, s) => n + s.keys, 0)).toBe(1)
      expect(ks.memory().usedBytes).toBe(entryBytes("b", text("22")))
    })
  )

  it.scoped("the active sweep removes expired keys without any access", () =>
    Effect.gen(function* () {
      const ks = yield* Keyspace.makeScoped({ shardCount: 2 })
      const t0 = yield* now
      ks.set("e1", text("x"), t0, t0 + S)
      ks.set("e2", text("x"), t0, t0 + S)
      ks.set("e3", text("x"), t0, t0 + 2n * S)
      ks.set("keep", text("x"), t0)
      expect(ks.memory().keys).toBe(4)
      yield* TestClock.adjust("999 millis")
      expect(ks.memory().keys).toBe(4)
      yield* TestClock.adjust("1 millis")
      expect(ks.memory()).toMatchObject({ keys: 2, expiredKeys: 2 })
      yield* TestClock.adjust("1 second")
      expect(ks.memory()).toMatchObject({ keys: 1, expiredKeys: 3, usedBytes: entryBytes("keep", text("x")) })
    })
  )

  it.scoped("each sweep tick does bounded work", () =>
    Effect.gen(function* () {
      const ks = yield* Keyspace.makeScoped({ shardCount: 2, sweepLimit: 2, sweepInterval: "100 millis" })
      const t0 = yield* now
      for (const k of ["a", "b", "c", "d", "e"]) ks.set(k, text("x"), t0, t0 + S)
      yield* TestClock.adjust("1 second")
      expect(ks.memory().keys).toBe(3)
      yield* TestClock.adjust("100 millis")
      expect(ks.memory().keys).toBe(1)
      yield* TestClock.adjust("100 millis")
      expect(ks.memory().keys).toBe(0)
    })
  )

  it.scoped("layerMemory runs the sweep for the life of its scope", () =>
    Effect.gen(function* () {
      const ks = yield* Keyspace
      const t0 = yield* now
      ks.set("k", text("x"), t0, t0 + S)
      yield* TestClock.adjust("1 second")
      expect(ks.memory().keys).toBe(0)
    }).pipe(Effect.provide(Keyspace.layerMemory({ shardCount: 2 })))
  )

  it.effect("a key re-expired later is not removed at its first expiry time", () =>
    Effect.gen(function* () {
      const ks = Keyspace.makeMemory({ shardCount: 2 })
      const t0 = yield* now
      ks.set("k", text("x"), t0, t0 + S)
      for (let i = 0; i < 5000; i++) expect(ks.expire("k", t0 + 10n * S, t0)).toBe(true)
      expect(ks.sweep(t0 + 5n * S, Infinity)).toBe(0)
      expect(ks.get("k", t0 + 5n * S)?.expiresAt).toBe(t0 + 10n * S)
      expect(ks.sweep(t0 + 10n * S, Infinity)).toBe(1)
      expect(ks.memory().keys).toBe(0)
    })
  )

  it.effect("overwriting clears the expiry; expire 0 removes it; a past expiry removes the key", () =>
    Effect.gen(function* () {
      const ks = Keyspace.makeMemory({ shardCount: 2 })
      // away from the epoch, where an expiry "at now" would read as 0n (no expiry)
      yield* TestClock.adjust("1 second")
      const t0 = yield* now
      ks.set("k", text("x"), t0, t0 + S)
      ks.set("k", text("y"), t0)
      expect(ks.get("k", t0)).toMatchObject({ value: text("y"), expiresAt: 0n })
      expect(ks.get("k", t0 + 2n * S)?.value).toEqual(text("y"))
      expect(ks.expire("k", t0 + S, t0)).toBe(true)
      expect(ks.expire("k", 0n, t0)).toBe(true)
      expect(ks.get("k", t0 + 2n * S)?.expiresAt).toBe(0n)
      expect(ks.expire("missing", t0 + S, t0)).toBe(false)
      expect(ks.expire("k", t0, t0)).toBe(true)
      expect(ks.get("k", t0)).toBeUndefined()
      expect(ks.set("k", text("x"), t0, t0)).toBeUndefined()
      expect(ks.get("k", t0)).toBeUndefined()
      expect(ks.size(t0)).toBe(0)
    })
  )

  it.effect("an entry held by a caller does not change when the key is rewritten", () =>
    Effect.gen(function* () {
      const ks = Keyspace.makeMemory({ shardCount: 2 })
      const t0 = yield* now
      ks.set("k", text("old"), t0)
      const held = ks.get("k", t0)!
      ks.set("k", text("new"), t0, t0 + S)
      ks.expire("k", 0n, t0)
      expect(held).toMatchObject({ value: text("old"), expiresAt: 0n })
    })
  )
})

describe("Keyspace byte estimate", () => {
  it("is the overhead plus the key's and the value's heap model", () => {
    // Strings: a 16-byte header and their UTF-8 bytes.
    expect(entryBytes("k1", text("x"))).toBe(ENTRY_OVERHEAD_BYTES + 16 + 2 + 16 + 1)
    expect(entryBytes("é", { kind: "String", value: "日本" })).toBe(ENTRY_OVERHEAD_BYTES + 16 + 2 + 16 + 6)
    expect(valueBytes({ kind: "String", value: "ab", pieces: 3 })).toBe(16 + 2 + 3 * 32)
    expect(valueBytes({ kind: "Number", value: 1e21 })).toBe(16)
    expect(valueBytes({ kind: "JSON", text: '{"a":1}' })).toBe(16 + 7)
    // An array 48 + 8 per element; "ab" 16 + 2; numbers, null and booleans live in their slot.
    expect(valueBytes({ kind: "List", value: ["ab", 1, 1.5, null, true] })).toBe(48 + 5 * 8 + 18)
    // A stored map counts its key and a dictionary entry per field; a small nested object 40 + 8 per property,
    // and 16 more for a property holding a boxed double.
    expect(valueBytes({ kind: "Map", value: { a: { b: false, c: 0.5 } } })).toBe(40 + 24 + 17 + 40 + 8 + 8 + 16)
  })

  it("does not overflow the stack on a deeply nested value", () => {
    let deep: Json = []
    for (let i = 0; i < 200_000; i++) deep = [deep]
    expect(jsonBytes(deep)).toBe(200_001 * 48 + 200_000 * 8)
  })
})

describe("Keyspace memory limit", () => {
  it.effect("FIFO evicts the oldest key; an overwrite keeps its place, a read does not matter", () =>
    Effect.gen(function* () {
      const evicted: Array<string> = []
      const ks = Keyspace.makeMemory({
        shardCount: 2,
        maxBytes: 3 * E,
        evictionPolicy: "FIFO",
        onEvict: (k) => evicted.push(k)
      })
      const t = yield* now
      fill(ks, t, "k1", "k2", "k3")
      ks.get("k1", t)
      fill(ks, t, "k4")
      expect(keysOf(ks, t)).toEqual(["k2", "k3", "k4"])
      ks.set("k2", text("y"), t)
      fill(ks, t, "k5")
      expect(keysOf(ks, t)).toEqual(["k3", "k4", "k5"])
      expect(evicted).toEqual(["k1", "k2"])
      expect(ks.memory()).toMatchObject({ usedBytes: 3 * E, evictedKeys: 2, maxBytes: 3 * E, policy: "FIFO" })
    })
  )

  it.effect("LRU evicts the least recently read or written key", () =>
    Effect.gen(function* () {
      const ks = Keyspace.makeMemory({ shardCount: 2, maxBytes: 3 * E, evictionPolicy: "LRU" })
      const t = yield* now
      fill(ks, t, "k1", "k2", "k3")
      ks.get("k1", t)
      fill(ks, t, "k4")
      expect(keysOf(ks, t)).toEqual(["k1", "k3", "k4"])
      ks.set("k3", text("y"), t)
      fill(ks, t, "k5")
      expect(keysOf(ks, t)).toEqual(["k3", "k4", "k5"])
    })
  )

  it.effect("LFU evicts the least used key, the earliest among equals", () =>
    Effect.gen(function* () {
      // LFU's counter is Redis's logarithmic one: past its first step an access counts only with some
      // probability, so exact counts cannot be promised. With a random source that always answers 0 every access
      // counts, which makes the order below exact (the counter itself is tested in Eviction.test.ts).
      const ks = Keyspace.makeMemory({
        shardCount: 2,
        maxBytes: 3 * E,
        evictionPolicy: "LFU",
        eviction: { random: () => 0 }
      })
      const t = yield* now
      fill(ks, t, "k1", "k2", "k3")
      ks.get("k1", t)
      ks.get("k1", t)
      ks.get("k3", t)
      fill(ks, t, "k4")
      expect(keysOf(ks, t)).toEqual(["k1", "k3", "k4"])
      fill(ks, t, "k5")
      expect(keysOf(ks, t)).toEqual(["k1", "k3", "k5"])
      ks.get("k5", t)
      // k3 and k5 both have 2 uses; k3 reached it first
      fill(ks, t, "k6")
      expect(keysOf(ks, t)).toEqual(["k1", "k5", "k6"])
    })
  )

  it.effect("the key being written is never its own victim, and a value over the whole limit is refused", () =>
    Effect.gen(function* () {
      const ks = Keyspace.makeMemory({ shardCount: 2, maxBytes: 3 * E, evictionPolicy: "LRU" })
      const t = yield* now
      fill(ks, t, "k1", "k2", "k3")
      expect(ks.set("k1", text("xy"), t)).toBeUndefined()
      expect(keysOf(ks, t)).toEqual(["k1", "k3"])
      const refused = ks.set("big", text("x".repeat(3 * E)), t)
      expect(refused).toBeInstanceOf(CommandFailed)
      expect(keysOf(ks, t)).toEqual(["k1", "k3"])
    })
  )

  it.effect("noeviction refuses a write that would go over the limit and keeps every key", () =>
    Effect.gen(function* () {
      const ks = Keyspace.makeMemory({ shardCount: 2, maxBytes: 3 * E, evictionPolicy: "noeviction" })
      const t = yield* now
      fill(ks, t, "k1", "k2", "k3")
      expect(ks.set("k4", text("x"), t)).toEqual(
        new CommandFailed({ prefix: "OutOfMemoryError", message: OUT_OF_MEMORY_TEXT })
      )
      expect(ks.set("k1", text("xy"), t)?.message).toBe(OUT_OF_MEMORY_TEXT)
      expect(ks.get("k1", t)?.value).toEqual(text("x"))
      // a write that does not grow is allowed
      expect(ks.set("k1", text("z"), t)).toBeUndefined()
      expect(keysOf(ks, t)).toEqual(["k1", "k2", "k3"])
      ks.delete("k2", t)
      expect(ks.set("k4", text("x"), t)).toBeUndefined()
      expect(ks.memory().evictedKeys).toBe(0)
    })
  )

  it.effect("expired keys are reclaimed before anything is evicted or refused", () =>
    Effect.gen(function* () {
      const ks = Keyspace.makeMemory({ shardCount: 2, maxBytes: 3 * E, evictionPolicy: "noeviction" })
      const t0 = yield* now
      ks.set("k1", text("x"), t0, t0 + S)
      fill(ks, t0, "k2", "k3")
      yield* TestClock.adjust("1 second")
      const t1 = yield* now
      expect(ks.set("k4", text("x"), t1)).toBeUndefined()
      expect(keysOf(ks, t1)).toEqual(["k2", "k3", "k4"])
    })
  )

  it.effect("layerConfig reads max_size_mb (in MiB) and the policy", () =>
    Effect.gen(function* () {
      const ks = yield* Keyspace
      expect(ks.memory()).toMatchObject({ maxBytes: 2 * 1024 * 1024, policy: "LFU" })
      expect(ks.stats(yield* now).map((s) => s.id)).toEqual(["0", "1", "2"])
    }).pipe(
      Effect.provide(
        Keyspace.layerConfig.pipe(
          Layer.provide(
            ServerConfig.layer(
              ServerConfig.unsafeMake({ memory: { max_size_mb: 2, eviction_policy: "LFU" }, shard: { shard_count: 3 } })
            )
          )
        )
      )
    )
  )
})

describe("values kept bare (SET strings and NUM numbers without expiry)", () => {
  it("read back, overwritten, expired and deleted with every counter exact", () => {
    const ks = Keyspace.makeMemory({ shardCount: 2 })
    const plain: Value = { kind: "Default", value: "hello" }
    const str: Value = { kind: "String", value: "a longer string value" }
    const total = () => ks.stats(0n).reduce((n, s) => n + s.bytes, 0)
    ks.set("a", plain, 0n)
    ks.set("b", plain, 0n)
    expect(ks.get("a", 0n)).toEqual({ value: plain, expiresAt: 0n })
    expect(total()).toBe(2 * (ENTRY_OVERHEAD_BYTES + 16 + 1) + 2 * valueBytes(plain))
    expect(ks.stats(0n)[shardOf("a", 2)]!.keys).toBeGreaterThan(0)
    // Bare → slot (another kind), slot → bare, bare → slot with a TTL: the estimate follows each value.
    ks.set("a", str, 0n)
    expect(total()).toBe(entryBytes("a", str) + entryBytes("b", plain))
    ks.set("a", plain, 0n)
    expect(total()).toBe(entryBytes("a", plain) + entryBytes("b", plain))
    expect(ks.expire("b", 10n, 0n)).toBe(true)
    const b = ks.get("b", 5n)
    expect([b?.value, b?.expiresAt]).toEqual([plain, 10n])
    expect(ks.get("b", 10n)).toBeUndefined()
    expect([...ks.entries(0n)].map(([k, e]) => [k, e.value])).toEqual([["a", plain]])
    expect(ks.delete("a", 0n)).toBe(true)
    expect(total()).toBe(0)
    expect(ks.size(0n)).toBe(0)
    expect(ks.memory().usedBytes).toBe(0)
  })

  it("keep values, order and counters through mass deletes (the key table renumbers its rows) and overwrites", () => {
    const ks = Keyspace.makeMemory({ shardCount: 4 })
    const n = 12_000
    const key = (i: number) => `key:${i}`
    for (let i = 0; i < n; i++) ks.set(key(i), i % 3 === 0 ? num(i) : text("v".repeat(i % 7)), 0n)
    for (let i = 0; i < n; i++) if (i % 4 !== 0) expect(ks.delete(key(i), 0n)).toBe(true)
    // Overwrites after the renumbering size the old value from its new row.
    for (let i = 0; i < n; i += 8) ks.set(key(i), text("w".repeat(i % 11)), 0n)
    const live = [...ks.entries(0n)]
    expect(live.map(([k]) => k)).toEqual(Array.from({ length: n / 4 }, (_, j) => key(4 * j)))
    for (const [k, e] of live) {
      const i = Number(k.slice(4))
      expect(e.value).toEqual(i % 8 === 0 ? text("w".repeat(i % 11)) : i % 3 === 0 ? num(i) : text("v".repeat(i % 7)))
    }
    expect(ks.memory().usedBytes).toBe(live.reduce((b, [k, e]) => b + entryBytes(k, e.value), 0))
    expect(ks.stats(0n).reduce((b, s) => b + s.bytes, 0)).toBe(ks.memory().usedBytes)
    expect(ks.size(0n)).toBe(n / 4)
  })

  it("keep every counter equal to the sum of the live entries' estimates under 5,000 random writes", () => {
    // A small deterministic PRNG, so a failure replays.
    let seed = 12345
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
      return (seed >>> 8) % n
    }
    const values: ReadonlyArray<Value> = [
      { kind: "Default", value: "x" },
      { kind: "Default", value: "a longer plain value, é" },
      { kind: "Number", value: 7 },
      { kind: "Number", value: 0.5 },
      { kind: "String", value: "str" },
      { kind: "List", value: [1, "two"] }
    ]
    const ks = Keyspace.makeMemory({ shardCount: 3 })
    const keys = ["k0", "k1", "key-2", "ключ", "k4", "k5"]
    for (let step = 0; step < 5000; step++) {
      const t = BigInt(step)
      const key = keys[rand(keys.length)]!
      const op = rand(10)
      if (op < 6) ks.set(key, values[rand(values.length)]!, t, rand(4) === 0 ? t + BigInt(1 + rand(20)) : 0n)
      else if (op < 8) ks.expire(key, rand(2) === 0 ? 0n : t + BigInt(rand(20)), t)
      else if (op < 9) ks.delete(key, t)
      else ks.sweep(t)
      const live = [...ks.entries(t)]
      const stats = ks.stats(t)
      for (let shard = 0; shard < 3; shard++) {
        const mine = live.filter(([k]) => shardOf(k, 3) === shard)
        expect(stats[shard]!.keys).toBe(mine.length)
        expect(stats[shard]!.bytes).toBe(mine.reduce((n, [k, e]) => n + entryBytes(k, e.value), 0))
      }
      expect(ks.memory().usedBytes).toBe(live.reduce((n, [k, e]) => n + entryBytes(k, e.value), 0))
      for (const [k, e] of live) {
        const got = ks.get(k, t)
        expect([got?.value, got?.expiresAt]).toEqual([e.value, e.expiresAt])
      }
    }
  })
})

import { describe, expect, it } from "@effect/vitest"
import type { Json } from "../../src/protocol/gojson/Json.js"
import { Keyspace, OUT_OF_MEMORY_TEXT } from "../../src/store/Keyspace.js"
import { entryBytes, stringBytes, valueBytes } from "../../src/store/Memory.js"
import { appliesTo, type Mutation } from "../../src/store/Mutation.js"
import { NULL_LIST, storedText, type Value } from "../../src/store/Value.js"

/** A small deterministic PRNG, so a failure replays. */
const prng = (seed: number) => (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
  return (seed >>> 8) % n
}

describe("Keyspace.mutate", () => {
  it("keeps the byte counters equal to the sum of the live entries' estimates under 10,000 random changes", () => {
    const ks = Keyspace.makeMemory({ shardCount: 3 })
    const rand = prng(99)
    const values: ReadonlyArray<Json> = [null, 1, 2.5, "x", "日本語", { a: [1, { b: 0.1 }] }, [], [1, 2, 3]]
    const pick = () => values[rand(values.length)]!
    for (let i = 0; i < 10_000; i++) {
      const key = `k${rand(10)}`
      const e = ks.get(key, 0n)
      const r = rand(12)
      if (e === undefined || r === 0) {
        const kinds: ReadonlyArray<Value> = [
          { kind: "List", value: [pick()] },
          { kind: "Map", value: { a: pick() } },
          { kind: "String", value: "s" }
        ]
        ks.set(key, kinds[rand(3)]!, 0n)
        continue
      }
      const changes: ReadonlyArray<Mutation> = [
        { op: "push", values: [pick(), pick()] },
        { op: "pop" },
        { op: "mapSet", field: `f${rand(5)}`, value: pick() },
        { op: "mapDel", field: `f${rand(5)}` },
        { op: "append", text: ["a", "é", "", "long text ".repeat(rand(5))][rand(4)]! }
      ]
      const change = changes[rand(changes.length)]!
      if (appliesTo(e.value, change)) expect(ks.mutate(key, change, 0n)).toBeUndefined()
      if (i % 500 === 0) [...ks.entries(0n)] // a snapshot now and then: the next changes copy first
    }
    const sum = [...ks.entries(0n)].reduce((n, [k, e]) => n + entryBytes(k, e.value), 0)
    expect(ks.memory().usedBytes).toBe(sum)
    expect(ks.stats(0n).reduce((n, s) => n + s.bytes, 0)).toBe(sum)
  })

  it("refuses growth over the limit under noeviction (the value unchanged), and always allows shrinking", () => {
    const ks = Keyspace.makeMemory({ shardCount: 1, maxBytes: 4000 })
    expect(ks.set("l", { kind: "List", value: [1] }, 0n)).toBeUndefined()
    const refused = ks.mutate("l", { op: "push", values: ["x".repeat(5000)] }, 0n)
    expect(refused?.message).toBe(OUT_OF_MEMORY_TEXT)
    expect(storedText(ks.get("l", 0n)!.value)).toBe("[1]")
    expect(ks.mutate("l", { op: "pop" }, 0n)).toBeUndefined()
    expect(storedText(ks.get("l", 0n)!.value)).toBe("[]")
    expect(ks.memory().usedBytes).toBe(entryBytes("l", { kind: "List", value: [] }))
  })

  it("evicts other keys to make room for growth under LRU, never the key being changed", () => {
    const ks = Keyspace.makeMemory({ shardCount: 1, maxBytes: 3000, evictionPolicy: "LRU" })
    ks.set("old", { kind: "String", value: "o".repeat(1000) }, 0n)
    ks.set("l", { kind: "List", value: [] }, 0n)
    expect(ks.mutate("l", { op: "push", values: ["y".repeat(2000)] }, 0n)).toBeUndefined()
    expect(ks.get("old", 0n)).toBeUndefined()
    expect(ks.memory().evictedKeys).toBe(1)
  })

  it("clears the expiry unless told to keep it; a kept expiry still expires", () => {
    const ks = Keyspace.makeMemory({ shardCount: 1 })
    ks.set("m", { kind: "Map", value: { a: 1, b: 2, c: 3 } }, 0n, 100n)
    ks.mutate("m", { op: "mapDel", field: "a" }, 0n, 100n)
    expect(ks.get("m", 0n)?.expiresAt).toBe(100n)
    expect(ks.sweep(100n)).toBe(1)
    expect(ks.get("m", 100n)).toBeUndefined()
    ks.set("n", { kind: "Map", value: { a: 1 } }, 0n, 100n)
    ks.mutate("n", { op: "mapSet", field: "b", value: 2 }, 0n)
    expect(ks.get("n", 200n)?.expiresAt).toBe(0n)
    expect(storedText(ks.get("n", 200n)!.value)).toBe('{"a":1,"b":2}')
  })

  it("a field named __proto__ is a field like any other", () => {
    const ks = Keyspace.makeMemory({ shardCount: 1 })
    ks.set("m", { kind: "Map", value: { a: 1 } }, 0n)
    ks.mutate("m", { op: "mapSet", field: "__proto__", value: { x: 1 } }, 0n)
    expect(storedText(ks.get("m", 0n)!.value)).toBe('{"__proto__":{"x":1},"a":1}')
    ks.mutate("m", { op: "mapDel", field: "__proto__" }, 0n)
    expect(storedText(ks.get("m", 0n)!.value)).toBe('{"a":1}')
  })

  it("a string built by 100k one-byte appends stays a small multiple of its text in the estimate (flattened)", () => {
    const ks = Keyspace.makeMemory({ shardCount: 1 })
    ks.set("s", { kind: "String", value: "" }, 0n)
    for (let i = 0; i < 100_000; i++) ks.mutate("s", { op: "append", text: "x" }, 0n)
    const v = ks.get("s", 0n)!.value
    expect(storedText(v)).toBe("x".repeat(100_000))
    expect(valueBytes(v)).toBeLessThanOrEqual(2 * stringBytes("x".repeat(100_000)))
  })

  it("a push, pop or field change that does not apply is a bug: it throws and changes nothing", () => {
    const ks = Keyspace.makeMemory({ shardCount: 1 })
    ks.set("n", { kind: "List", value: NULL_LIST }, 0n)
    expect(() => ks.mutate("n", { op: "push", values: [1] }, 0n)).toThrow()
    expect(() => ks.mutate("missing", { op: "pop" }, 0n)).toThrow()
    expect(storedText(ks.get("n", 0n)!.value)).toBe("null")
  })
})

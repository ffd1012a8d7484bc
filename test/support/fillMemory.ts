/**
 * Run by test/store/MemoryEstimate.test.ts in a child process with `--expose-gc`: fills a keyspace with each
 * value shape, built the way the commands build it (parsed arguments, changes in place), up to a memory limit,
 * and prints, per shape, the keyspace's estimate and the growth of the heap (with array buffers) after a full
 * collection.
 */
import { parse } from "../../src/protocol/gojson/Parse.js"
import type { Json } from "../../src/protocol/gojson/Json.js"
import { Keyspace, type KeyspaceShape } from "../../src/store/Keyspace.js"
import type { EvictionPolicy } from "../../src/store/Eviction.js"

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error("run with --expose-gc")

// As the commands read an argument (Fleare's EnsureUnmarshal).
const arg = (text: string): Json => {
  const r = parse(text)
  return r.ok ? r.value : text
}

type Fill = (ks: KeyspaceShape, key: string, i: number) => unknown

const shapes: Record<string, Fill> = {
  "SET short strings": (ks, k, i) => ks.set(k, { kind: "Default", value: `value-${i}` }, 0n),
  "STR.SET 100-byte strings": (ks, k, i) => ks.set(k, { kind: "String", value: "s".repeat(96) + i }, 0n),
  "STR.APPEND 200 pieces": (ks, k) => {
    ks.set(k, { kind: "String", value: "" }, 0n)
    for (let j = 0; j < 200; j++) ks.mutate(k, { op: "append", text: "ab" }, 0n)
  },
  "NUM.SET numbers": (ks, k, i) => ks.set(k, { kind: "Number", value: i + 0.5 }, 0n),
  "LIST.SET of {}": (ks, k) => ks.set(k, { kind: "List", value: Array.from({ length: 100 }, () => arg("{}")) }, 0n),
  "LIST.PUSH of {}": (ks, k) => {
    ks.set(k, { kind: "List", value: [arg("{}")] }, 0n)
    for (let j = 0; j < 100; j++) ks.mutate(k, { op: "push", values: [arg("{}")] }, 0n)
  },
  "LIST.SET of small objects": (ks, k, i) =>
    ks.set(k, { kind: "List", value: Array.from({ length: 50 }, (_, j) => arg(`{"name":"n${j}","age":${i}}`)) }, 0n),
  "LIST.SET of numbers": (ks, k, i) =>
    ks.set(k, { kind: "List", value: Array.from({ length: 100 }, (_, j) => arg(String(i + j / 7))) }, 0n),
  "MAP.SET 20 fields": (ks, k, i) => {
    ks.set(k, { kind: "Map", value: { f: arg("1") } }, 0n)
    for (let j = 0; j < 20; j++) ks.mutate(k, { op: "mapSet", field: `field${j}`, value: arg(`"v${i}"`) }, 0n)
  },
  "MAP.SET 2000 fields": (ks, k, i) => {
    ks.set(k, { kind: "Map", value: { f: 1 } }, 0n)
    for (let j = 0; j < 2000; j++) ks.mutate(k, { op: "mapSet", field: `u${i}-${j}`, value: arg("{}") }, 0n)
  },
  "deep JSON map": (ks, k, i) =>
    ks.set(k, { kind: "Map", value: arg('{"a":'.repeat(100) + i + "}".repeat(100)) as never }, 0n),
  "JSON.SET documents": (ks, k, i) =>
    ks.set(k, { kind: "JSON", text: JSON.stringify({ id: i, tags: ["a", "b"], nested: { x: [1, 2, { y: i }] } }) }, 0n)
}

const limitBytes = Number(process.argv[2] ?? 32 * 1024 * 1024)
const policy = (process.argv[3] ?? "noeviction") as EvictionPolicy
const only = process.argv[4]
const results: Array<{ shape: string; keys: number; estimate: number; heap: number }> = []
for (const [shape, fill] of Object.entries(shapes)) {
  if (only !== undefined && shape !== only) continue
  gc()
  gc()
  // The heap and the typed arrays' backing stores (the key table's typed columns live outside the JS heap).
  const used = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers
  const before = used()
  let ks: KeyspaceShape | undefined = Keyspace.makeMemory({
    shardCount: 2,
    maxBytes: limitBytes,
    evictionPolicy: policy
  })
  // Fill until a write is refused (noeviction), or until the estimate nears the limit (other policies evict).
  for (let i = 0; ks.memory().usedBytes < limitBytes * 0.95 && ks.memory().evictedKeys === 0; i++) {
    try {
      if (fill(ks, `key:${i}`, i) !== undefined) break
    } catch {
      break
    }
  }
  gc()
  gc()
  const heap = used() - before
  results.push({ shape, keys: ks.memory().keys, estimate: ks.memory().usedBytes, heap })
  ks = undefined
}
process.stdout.write(JSON.stringify(results) + "\n")

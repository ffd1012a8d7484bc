/**
 * Changes in place and the log (issue 10): random sequences of pushes, pops, field sets and deletes, appends,
 * whole-value writes, deletes and expiries are logged to a real file, and a restart (replay of that file, with
 * or without a compaction in the middle, which snapshots values that keep changing while it writes) rebuilds
 * exactly the state before it. And the log grows by the change, not by the value.
 */
import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Scope } from "effect"
import { statSync } from "node:fs"
import * as nodePath from "node:path"
import { MAGIC } from "../../src/persistence/Record.js"
import { recover } from "../../src/persistence/Replay.js"
import { makeWal } from "../../src/persistence/Wal.js"
import type { Json } from "../../src/protocol/gojson/Json.js"
import { Keyspace, type KeyspaceShape } from "../../src/store/Keyspace.js"
import { appliesTo, fieldCount, type Mutation } from "../../src/store/Mutation.js"
import { NULL_LIST, storedText, type Value } from "../../src/store/Value.js"
import { collectLogs, FsLive, readRecords, tempDir } from "./support.js"

const FUTURE = 10n ** 19n

/** A keyspace logging to a fresh WAL in a temp dir; `close` flushes and closes the WAL. */
const setup = Effect.gen(function* () {
  const fs = yield* FileSystem.FileSystem
  const dir = yield* tempDir
  const path = nodePath.join(dir, "fleare.wal")
  yield* fs.writeFile(path, MAGIC)
  const ks = Keyspace.makeMemory({ shardCount: 2 })
  const scope = yield* Scope.make()
  const wal = yield* makeWal(fs, {
    path,
    fsync: "no",
    rewriteMinBytes: 0,
    rewritePercentage: 0,
    keyspace: ks
  }).pipe(Scope.extend(scope), Effect.provide(collectLogs([])))
  ks.observe(wal.observer)
  return { ks, wal, path, close: Scope.close(scope, Exit.void) }
})

/** Every live entry as [kind, stored text, expiry]: what a client could observe. */
const state = (ks: KeyspaceShape) =>
  Object.fromEntries(
    [...ks.entries(0n)].map(([k, e]) => [k, [e.value.kind, storedText(e.value), String(e.expiresAt)]] as const)
  )

/** What a restart would load from `path`. */
const reload = (path: string) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const ks = Keyspace.makeMemory({ shardCount: 2 })
    yield* recover(fs, path, ks, { repair: false }).pipe(Effect.provide(collectLogs([])))
    return ks
  })

/** A small deterministic PRNG, so a failure replays. */
const prng = (seed: number) => (n: number) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0
  return (seed >>> 8) % n
}

const jsonValues: ReadonlyArray<Json> = [
  null,
  true,
  0,
  -1.5,
  1e21,
  "",
  "x",
  "é日本",
  { a: 1 },
  [1, [2]],
  { __proto__: 1 }
]

/**
 * One random change to `ks`, as the commands would make it (a change in place only where it applies); with
 * `rareWrites`, whole-value writes, deletes and expiries come 1 in 100 times rather than 6 in 20.
 */
const randomOp = (ks: KeyspaceShape, rand: (n: number) => number, keys: number, rareWrites = false): void => {
  const key = `k${rand(keys)}`
  const e = ks.get(key, 0n)
  const pick = () => jsonValues[rand(jsonValues.length)]!
  const r = rareWrites && rand(100) !== 0 ? 6 + rand(14) : rand(20)
  const set = (v: Value) => ks.set(key, v, 0n, rand(4) === 0 ? FUTURE : 0n)
  if (r === 0) return void set({ kind: "List", value: [pick(), pick()] })
  if (r === 1) return void set({ kind: "Map", value: { f0: pick(), f1: pick() } })
  if (r === 2) return void set({ kind: "String", value: "s" })
  if (r === 3) return void set({ kind: "List", value: NULL_LIST })
  if (r === 4) return void ks.delete(key, 0n)
  if (r === 5) return void ks.expire(key, rand(2) === 0 ? 0n : FUTURE, 0n)
  if (e === undefined) return
  let change: Mutation
  let expiresAt = 0n
  if (r < 9) change = { op: "push", values: Array.from({ length: rand(3) }, pick) }
  else if (r < 11) change = { op: "pop" }
  else if (r < 14) change = { op: "mapSet", field: `f${rand(6)}`, value: pick() }
  else if (r < 16) {
    change = { op: "mapDel", field: `f${rand(6)}` }
    expiresAt = e.expiresAt
  } else change = { op: "append", text: ["a", "", "日本", "xyz".repeat(rand(20))][rand(4)]! }
  if (!appliesTo(e.value, change)) return
  const failed = ks.mutate(key, change, 0n, expiresAt)
  if (failed) throw new Error(failed.message)
}

describe("changes in place survive a restart", () => {
  it.scoped("replay of 5,000 random operations rebuilds the same state", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup
      const rand = prng(7)
      for (let i = 0; i < 5000; i++) randomOp(ks, rand, 12)
      yield* wal.durability.barrier() ?? Effect.void
      const before = state(ks)
      yield* close
      // The log holds changes in place, not only whole values.
      const ops = new Set(readRecords(path).map((r) => (r.op === "mutate" ? r.change.op : r.op)))
      expect([...ops].sort()).toEqual(["append", "delete", "expire", "mapDel", "mapSet", "pop", "push", "set"])
      expect(state(yield* reload(path))).toEqual(before)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("a compaction while values keep changing in place snapshots them consistently", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup
      const rand = prng(11)
      // Big lists, maps and strings, so the snapshot is written in several chunks while the changes go on.
      for (let i = 0; i < 24; i++) {
        ks.set(`k${i}`, { kind: "List", value: Array.from({ length: 10_000 }, (_, j) => `item-${i}-${j}`) }, 0n)
        if (i % 3 === 0) ks.set(`k${i}`, { kind: "Map", value: { f0: "x".repeat(100_000), f1: 1 } }, 0n)
        if (i % 5 === 0) ks.set(`k${i}`, { kind: "String", value: "y".repeat(200_000) }, 0n)
      }
      yield* wal.durability.barrier() ?? Effect.void
      const rewriting = yield* Effect.fork(wal.rewrite)
      // Bursts of changes between the snapshot's chunks (it writes one per turn of the event loop).
      let during = 0
      while (rewriting.unsafePoll() === null) {
        for (let i = 0; i < 20; i++) randomOp(ks, rand, 24, true)
        during += 20
        yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      }
      expect(during).toBeGreaterThan(100)
      yield* Fiber.join(rewriting)
      expect(wal.stats().rewrites).toBe(1)
      // The compacted log alone (snapshot and the changes captured while it was written) is the live state.
      yield* wal.durability.barrier() ?? Effect.void
      expect(state(yield* reload(path))).toEqual(state(ks))
      for (let i = 0; i < 500; i++) randomOp(ks, rand, 24, true)
      yield* wal.durability.barrier() ?? Effect.void
      const before = state(ks)
      yield* close
      expect(state(yield* reload(path))).toEqual(before)
    }).pipe(Effect.provide(FsLive))
  )
})

describe("snapshots see values as they were", () => {
  it.scoped("a list pushed, popped and field-set while the snapshot is written replays once, not twice", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup
      // Written last (after 4 MB of other keys), so the changes below happen before it is encoded.
      for (let i = 0; i < 4; i++) ks.set(`pad${i}`, { kind: "String", value: "p".repeat(1 << 20) }, 0n)
      ks.set("list", { kind: "List", value: [0] }, 0n)
      ks.set("map", { kind: "Map", value: { a: 1, b: 2 } }, 0n)
      yield* wal.durability.barrier() ?? Effect.void
      const rewriting = yield* Effect.fork(wal.rewrite)
      let n = 0
      while (rewriting.unsafePoll() === null) {
        n += 1
        ks.mutate("list", { op: "push", values: [n] }, 0n)
        if (n % 3 === 0) ks.mutate("list", { op: "pop" }, 0n)
        ks.mutate("map", { op: "mapSet", field: `f${n}`, value: n }, 0n)
        if (n === 2) ks.mutate("map", { op: "mapDel", field: "a" }, 0n)
        yield* Effect.promise(() => new Promise((resolve) => setImmediate(resolve)))
      }
      yield* Fiber.join(rewriting)
      expect(n).toBeGreaterThan(2)
      yield* wal.durability.barrier() ?? Effect.void
      const before = state(ks)
      yield* close
      expect(state(yield* reload(path))).toEqual(before)
    }).pipe(Effect.provide(FsLive))
  )

  it("a value given to set is never changed by a later change in place; a snapshot's values neither", () => {
    const ks = Keyspace.makeMemory({ shardCount: 1 })
    const given = [1, 2]
    ks.set("l", { kind: "List", value: given }, 0n)
    ks.mutate("l", { op: "push", values: [3] }, 0n)
    expect(given).toEqual([1, 2])
    const image = [...ks.entries(0n)]
    ks.mutate("l", { op: "push", values: [4] }, 0n)
    ks.mutate("l", { op: "pop" }, 0n)
    ks.mutate("l", { op: "pop" }, 0n)
    expect(storedText(image[0]![1].value)).toBe("[1,2,3]")
    expect(storedText(ks.get("l", 0n)!.value)).toBe("[1,2]")
  })
})

describe("the log records the change, not the value", () => {
  it.scoped("a 1-byte push onto a 100k list, a field set on a 15k-field map, an append to 1 MB add bytes, not KB", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup
      ks.set("list", { kind: "List", value: Array.from({ length: 100_000 }, (_, i) => i) }, 0n)
      const fields: Record<string, Json> = {}
      for (let i = 0; i < 15_000; i++) fields[`field${i}`] = i
      ks.set("map", { kind: "Map", value: fields }, 0n)
      ks.set("str", { kind: "String", value: "z".repeat(1 << 20) }, 0n)
      const grew = function* (f: () => void) {
        yield* wal.durability.barrier() ?? Effect.void
        const before = statSync(path).size
        f()
        yield* wal.durability.barrier() ?? Effect.void
        return statSync(path).size - before
      }
      // Header 12, op 1, expiry 8, key length 4, key, and the change itself.
      expect(yield* grew(() => ks.mutate("list", { op: "push", values: ["x"] }, 0n))).toBe(12 + 1 + 8 + 4 + 4 + 5)
      expect(yield* grew(() => ks.mutate("list", { op: "pop" }, 0n))).toBe(12 + 1 + 8 + 4)
      expect(yield* grew(() => ks.mutate("map", { op: "mapSet", field: "f", value: 1 }, 0n))).toBe(
        12 + 1 + 8 + 4 + 3 + 4 + 1 + 1
      )
      expect(yield* grew(() => ks.mutate("map", { op: "mapDel", field: "f" }, 0n))).toBe(12 + 1 + 8 + 4 + 3 + 1)
      expect(yield* grew(() => ks.mutate("str", { op: "append", text: "!" }, 0n))).toBe(12 + 1 + 8 + 4 + 3 + 1)
      const map = ks.get("map", 0n)!.value
      expect(map.kind === "Map" && fieldCount(map.value)).toBe(15_000)
      const before = state(ks)
      yield* close
      expect(state(yield* reload(path))).toEqual(before)
    }).pipe(Effect.provide(FsLive))
  )
})

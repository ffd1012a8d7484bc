import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Scope, TestClock } from "effect"
import { existsSync, readFileSync, statSync } from "node:fs"
import * as nodePath from "node:path"
import { encodeRecords, MAGIC, type WalRecord } from "../../src/persistence/Record.js"
import { recover } from "../../src/persistence/Replay.js"
import { makeWal } from "../../src/persistence/Wal.js"
import { Keyspace, type KeyspaceShape } from "../../src/store/Keyspace.js"
import type { Value } from "../../src/store/Value.js"
import { collectLogs, FsLive, readRecords, tempDir } from "./support.js"

const S = 1_000_000_000n
const text = (s: string): Value => ({ kind: "Default", value: s })
const set = (key: string, value: string, expiresAt = 0n): WalRecord => ({
  op: "set",
  key,
  value: text(value),
  expiresAt
})
const fileOf = (records: ReadonlyArray<WalRecord>) => Buffer.concat([MAGIC, encodeRecords(records)])
const keysOf = (ks: KeyspaceShape, now: bigint) =>
  Object.fromEntries([...ks.entries(now)].map(([k, e]) => [k, (e.value as { value: string }).value]))

/** Writes `bytes` as a log in a temp dir, recovers it into a fresh keyspace; returns the outcome. */
const recoverBytes = (bytes: Buffer, options: { repair?: boolean } = {}) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const dir = yield* tempDir
    const path = nodePath.join(dir, "fleare.wal")
    yield* fs.writeFile(path, bytes)
    const ks = Keyspace.makeMemory({ shardCount: 2 })
    const logs: Array<string> = []
    const exit = yield* Effect.exit(
      recover(fs, path, ks, { repair: options.repair ?? false }).pipe(Effect.provide(collectLogs(logs)))
    )
    return { exit, ks, logs, path, dir }
  })

const three = [set("a", "1"), set("b", "2"), set("c", "3")]
const twoBytes = fileOf(three.slice(0, 2)).length
const threeBytes = fileOf(three)

describe("recovering a log file", () => {
  it.scoped("a whole log loads every key and says how many", () =>
    Effect.gen(function* () {
      const { exit, ks, logs } = yield* recoverBytes(threeBytes)
      expect(Exit.isSuccess(exit) && exit.value.keys).toBe(3)
      expect(keysOf(ks, 0n)).toEqual({ a: "1", b: "2", c: "3" })
      expect(logs.some((l) => /INFO loaded 3 keys from .*fleare\.wal \(3 records, 0\.0 MiB\) in /.test(l))).toBe(true)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("a last record cut at any byte is dropped with a warning, and the file is truncated for appending", () =>
    Effect.gen(function* () {
      for (let cut = twoBytes + 1; cut < threeBytes.length; cut++) {
        const { exit, ks, logs, path } = yield* recoverBytes(threeBytes.subarray(0, cut))
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(keysOf(ks, 0n)).toEqual({ a: "1", b: "2" })
        expect(logs.filter((l) => l.startsWith("WARN"))).toEqual([
          expect.stringContaining(`dropped a torn record at the end of ${path} (byte offset ${twoBytes}, `)
        ])
        expect(statSync(path).size).toBe(twoBytes)
      }
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("zero bytes after the last record (a file extended but never written) are a torn tail", () =>
    Effect.gen(function* () {
      const { exit, ks, logs, path } = yield* recoverBytes(Buffer.concat([threeBytes, Buffer.alloc(5000)]))
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(keysOf(ks, 0n)).toEqual({ a: "1", b: "2", c: "3" })
      expect(logs.some((l) => l.includes("zero bytes where a record should start"))).toBe(true)
      expect(statSync(path).size).toBe(threeBytes.length)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("a flipped byte in the last record (ending the file) is a torn tail", () =>
    Effect.gen(function* () {
      const damaged = Buffer.from(threeBytes)
      damaged[damaged.length - 1]! ^= 0x10
      const { exit, ks, logs } = yield* recoverBytes(damaged)
      expect(Exit.isSuccess(exit)).toBe(true)
      expect(keysOf(ks, 0n)).toEqual({ a: "1", b: "2" })
      expect(logs.some((l) => l.includes("checksum fails"))).toBe(true)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("a flipped byte before the last record stops recovery, naming the file and the byte offset", () =>
    Effect.gen(function* () {
      const firstBytes = fileOf(three.slice(0, 1)).length
      for (const at of [firstBytes, firstBytes + 5, firstBytes + 13, twoBytes - 1]) {
        const damaged = Buffer.from(threeBytes)
        damaged[at]! ^= 0x01
        const { exit, path } = yield* recoverBytes(damaged)
        expect(exit).toEqual(Exit.fail(expect.objectContaining({ _tag: "WalCorrupt", path, offset: firstBytes })))
        if (Exit.isFailure(exit))
          expect(String(exit.cause)).toContain(`corrupt record in ${path} at byte offset ${firstBytes}`)
        // Nothing was changed on disk.
        expect(readFileSync(path).equals(damaged)).toBe(true)
      }
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("repair keeps a copy of the damaged file, truncates at the first bad record and loads what precedes", () =>
    Effect.gen(function* () {
      const firstBytes = fileOf(three.slice(0, 1)).length
      const damaged = Buffer.from(threeBytes)
      damaged[firstBytes + 20]! ^= 0xff
      const { exit, ks, logs, path, dir } = yield* recoverBytes(damaged, { repair: true })
      expect(Exit.isSuccess(exit)).toBe(true)
      const copy = Exit.isSuccess(exit) ? exit.value.repairedCopy! : ""
      expect(nodePath.dirname(copy)).toBe(dir)
      expect(nodePath.basename(copy)).toMatch(/^fleare\.wal\.corrupt-\d{8}T\d{6}\.\d{9}Z$/)
      expect(readFileSync(copy).equals(damaged)).toBe(true)
      expect(statSync(path).size).toBe(firstBytes)
      expect(keysOf(ks, 0n)).toEqual({ a: "1" })
      expect(logs.some((l) => l.startsWith("WARN repair: corrupt record in") && l.includes(copy))).toBe(true)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("loading ignores the memory limit: what was acknowledged is never dropped at startup", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const path = nodePath.join(dir, "fleare.wal")
      yield* fs.writeFile(path, fileOf(Array.from({ length: 50 }, (_, i) => set(`k${i}`, "v".repeat(100)))))
      const ks = Keyspace.makeMemory({ shardCount: 2, maxBytes: 1000, evictionPolicy: "noeviction" })
      yield* recover(fs, path, ks, { repair: false }).pipe(Effect.provide(collectLogs([])))
      expect(ks.size(0n)).toBe(50)
      expect(ks.memory().usedBytes).toBeGreaterThan(1000)
      // Later writes see the limit as usual.
      expect(ks.set("new", text("x".repeat(100)), 0n)).toBeDefined()
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("a file that is not a log is refused at offset 0", () =>
    Effect.gen(function* () {
      const { exit } = yield* recoverBytes(Buffer.from("SET a 1\nSET b 2\n"))
      expect(exit).toEqual(Exit.fail(expect.objectContaining({ _tag: "WalCorrupt", offset: 0 })))
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("an empty file or a partial magic (a crash right after creating the log) becomes an empty log", () =>
    Effect.gen(function* () {
      for (const bytes of [Buffer.alloc(0), MAGIC.subarray(0, 3)]) {
        const { exit, path } = yield* recoverBytes(bytes)
        expect(Exit.isSuccess(exit) && exit.value.keys).toBe(0)
        expect(readFileSync(path).equals(MAGIC)).toBe(true)
      }
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("records larger than the read chunk, and records straddling chunks, load whole", () =>
    Effect.gen(function* () {
      const big = "v".repeat(3 * 1024 * 1024 + 7)
      const records = [
        set("small", "x"),
        set("big", big),
        ...Array.from({ length: 5000 }, (_, i) => set(`k${i}`, "y".repeat(i % 700)))
      ]
      const { exit, ks } = yield* recoverBytes(fileOf(records))
      expect(Exit.isSuccess(exit) && exit.value.keys).toBe(5002)
      expect(keysOf(ks, 0n)["big"]).toBe(big)
      expect(keysOf(ks, 0n)["k4999"]).toBe("y".repeat(4999 % 700))
    }).pipe(Effect.provide(FsLive))
  )
})

describe("replay rules (TestClock)", () => {
  it.scoped(
    "a key whose TTL elapsed while the server was down is not restored; a live one keeps its remaining TTL",
    () =>
      Effect.gen(function* () {
        const t0 = yield* Clock.currentTimeNanos
        const bytes = fileOf([set("short", "s", t0 + 10n * S), set("long", "l", t0 + 100n * S), set("forever", "f")])
        // Down for 30 s.
        yield* TestClock.adjust("30 seconds")
        const t1 = yield* Clock.currentTimeNanos
        const { exit, ks } = yield* recoverBytes(bytes)
        expect(Exit.isSuccess(exit) && exit.value.keys).toBe(2)
        expect(ks.get("short", t1)).toBeUndefined()
        expect(ks.get("long", t1)?.expiresAt).toBe(t0 + 100n * S)
        expect(ks.get("long", t1)!.expiresAt - t1).toBe(70n * S)
        expect(ks.get("forever", t1)?.expiresAt).toBe(0n)
        // The restored TTL runs on: gone exactly at t0 + 100 s.
        yield* TestClock.adjust("69999 millis")
        expect(ks.get("long", yield* Clock.currentTimeNanos)).toBeDefined()
        yield* TestClock.adjust("1 millis")
        expect(ks.get("long", yield* Clock.currentTimeNanos)).toBeUndefined()
      }).pipe(Effect.provide(FsLive))
  )

  it.scoped("records apply in order with nothing expiring mid-replay: a later EXPIRE 0 keeps the key forever", () =>
    Effect.gen(function* () {
      const t0 = yield* Clock.currentTimeNanos
      const bytes = fileOf([
        set("k", "v", t0 + 5n * S),
        { op: "expire", key: "k", expiresAt: 0n },
        set("gone", "x"),
        { op: "delete", key: "gone" },
        set("again", "1"),
        { op: "delete", key: "again" },
        set("again", "2", t0 + 50n * S),
        { op: "expire", key: "again", expiresAt: t0 + 8n * S },
        { op: "expire", key: "missing", expiresAt: 0n }
      ])
      yield* TestClock.adjust("20 seconds")
      const t1 = yield* Clock.currentTimeNanos
      const { ks } = yield* recoverBytes(bytes)
      expect(keysOf(ks, t1)).toEqual({ k: "v" })
      expect(ks.get("k", t1)?.expiresAt).toBe(0n)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("what the keyspace logs through the WAL replays to the same state, TTLs measured from the Clock", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const path = nodePath.join(dir, "fleare.wal")
      yield* fs.writeFile(path, MAGIC)
      const before = Keyspace.makeMemory({ shardCount: 2 })
      const scope = yield* Scope.make()
      const wal = yield* makeWal(fs, {
        path,
        fsync: "always",
        rewriteMinBytes: 0,
        rewritePercentage: 0,
        keyspace: before
      }).pipe(Scope.extend(scope), Effect.provide(collectLogs([])))
      before.observe(wal.observer)
      const t0 = yield* Clock.currentTimeNanos
      before.set("plain", text("p"), t0)
      before.set("ttl10", text("a"), t0, t0 + 10n * S)
      before.set("ttl60", text("b"), t0, t0 + 60n * S)
      before.set("persisted", text("c"), t0, t0 + 5n * S)
      before.expire("persisted", 0n, t0)
      before.set("num", { kind: "Number", value: 42.5 }, t0)
      before.set("map", { kind: "Map", value: { f: [1, { g: "h" }] } }, t0)
      before.set("doc", { kind: "JSON", text: '{"user":"$ref:u1","n":1}' }, t0)
      before.set("deleted", text("d"), t0)
      before.delete("deleted", t0)
      before.set("past", text("x"), t0, t0 - 1n)
      yield* wal.durability.barrier() ?? Effect.void
      yield* Scope.close(scope, Exit.void)
      expect(readRecords(path).map((r) => `${r.op} ${r.key}`)).toEqual([
        "set plain",
        "set ttl10",
        "set ttl60",
        "set persisted",
        "expire persisted",
        "set num",
        "set map",
        "set doc",
        "set deleted",
        "delete deleted"
      ])
      yield* TestClock.adjust("30 seconds")
      const t1 = yield* Clock.currentTimeNanos
      const { ks } = yield* recoverBytes(readFileSync(path))
      expect([...ks.entries(t1)].map(([k, e]) => [k, e.value, e.expiresAt]).sort()).toEqual(
        [...before.entries(t1)].map(([k, e]) => [k, e.value, e.expiresAt]).sort()
      )
      expect(ks.get("ttl60", t1)!.expiresAt - t1).toBe(30n * S)
      expect(ks.get("ttl10", t1)).toBeUndefined()
      expect(existsSync(`${path}.rewrite`)).toBe(false)
    }).pipe(Effect.provide(FsLive))
  )
})

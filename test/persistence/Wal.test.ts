import { FileSystem } from "@effect/platform"
import { type PlatformError, SystemError } from "@effect/platform/Error"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Exit, Fiber, Scope, TestClock } from "effect"
import { readFileSync, statSync } from "node:fs"
import * as nodePath from "node:path"
import type { FsyncPolicy } from "../../src/persistence/Fsync.js"
import { makeWal, type WalOptions } from "../../src/persistence/Wal.js"
import { MAGIC } from "../../src/persistence/Record.js"
import { recover } from "../../src/persistence/Replay.js"
import { Keyspace, type KeyspaceShape } from "../../src/store/Keyspace.js"
import type { Value } from "../../src/store/Value.js"
import { collectLogs, FsLive, readRecords, tempDir, withFileFaults } from "./support.js"

const text = (s: string): Value => ({ kind: "Default", value: s })

/** A keyspace logging to a fresh WAL in a temp dir; `close` flushes and closes the WAL. */
const setup = (policy: FsyncPolicy, extra: Partial<WalOptions> = {}, fsOverride?: FileSystem.FileSystem) =>
  Effect.gen(function* () {
    const realFs = yield* FileSystem.FileSystem
    const fs = fsOverride ?? realFs
    const dir = yield* tempDir
    const path = nodePath.join(dir, "fleare.wal")
    yield* realFs.writeFile(path, MAGIC)
    const ks = Keyspace.makeMemory({ shardCount: 2 })
    const logs: Array<string> = []
    const scope = yield* Scope.make()
    const wal = yield* makeWal(fs, {
      path,
      fsync: policy,
      rewriteMinBytes: 0,
      rewritePercentage: 0,
      keyspace: ks,
      ...extra
    }).pipe(Scope.extend(scope), Effect.provide(collectLogs(logs)))
    ks.observe(wal.observer)
    return { ks, wal, path, dir, logs, close: Scope.close(scope, Exit.void) }
  })

/** What a restart would load from `path`, at time `now`. */
const reload = (path: string, now = 0n) =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const ks = Keyspace.makeMemory({ shardCount: 2 })
    yield* recover(fs, path, ks, { repair: false }).pipe(Effect.provide(collectLogs([])))
    return ks
  }).pipe(Effect.map((ks) => contents(ks, now)))

const contents = (ks: KeyspaceShape, now = 0n) =>
  Object.fromEntries([...ks.entries(now)].map(([k, e]) => [k, `${(e.value as { value: string }).value}`]))

/** The real file system, except that every file's `sync` runs `sync(realSync)` instead. */
const withSync = (
  real: FileSystem.FileSystem,
  sync: (realSync: Effect.Effect<void, PlatformError>) => Effect.Effect<void, PlatformError>
): FileSystem.FileSystem => withFileFaults(real, (f) => ({ sync: Effect.suspend(() => sync(f.sync)) }))

/** Polls (real time) until `cond` holds, for at most 5 s. */
const eventually = (cond: () => boolean) =>
  Effect.promise(async () => {
    for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5))
  })

describe("group commit (fsync: always)", () => {
  it.scoped("nothing appended: no barrier to wait for", () =>
    Effect.gen(function* () {
      const { wal, close } = yield* setup("always")
      expect(wal.durability.barrier()).toBeUndefined()
      yield* close
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("50 writers appending before the writer runs share one write and one fsync", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup("always")
      const barriers = Array.from({ length: 50 }, (_, i) => {
        ks.set(`k${i}`, text(`v${i}`), 0n)
        return wal.durability.barrier()!
      })
      yield* Effect.all(barriers, { concurrency: "unbounded" })
      expect(wal.stats()).toMatchObject({ records: 50, writes: 1, fsyncs: 1 })
      // Durable means on disk: the file holds all 50 records now, before any close.
      expect(readRecords(path).length).toBe(50)
      expect(wal.durability.barrier()).toBeUndefined()
      yield* close
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("records appended during an fsync are written and fsynced without waiting for it to end", () =>
    Effect.gen(function* () {
      const real = yield* FileSystem.FileSystem
      // Every fsync waits until the test opens the gate.
      const gate = yield* Deferred.make<void>()
      const gated = withSync(real, (realSync) => Effect.zipRight(Deferred.await(gate), realSync))
      const { ks, wal, path, close } = yield* setup("always", { syncMethod: "fsync" }, gated)
      ks.set("a", text("1"), 0n)
      const first = yield* Effect.fork(wal.durability.barrier()!)
      yield* eventually(() => wal.stats().writes === 1)
      // A reader arriving now waits for the batch on its way, which covers what it may have read.
      expect(wal.durability.barrier()).toBeDefined()
      ks.set("b", text("2"), 0n)
      const second = yield* Effect.fork(wal.durability.barrier()!)
      // The second batch is written (and its fsync started) while the first fsync still runs.
      yield* eventually(() => wal.stats().writes === 2)
      expect(wal.stats().writes).toBe(2)
      expect(wal.stats().fsyncs).toBe(0)
      expect(first.unsafePoll()).toBeNull()
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      yield* Fiber.join(second)
      // Either fsync may end first (the later one covers both batches); both run.
      yield* eventually(() => wal.stats().fsyncs === 2)
      expect(wal.stats().fsyncs).toBe(2)
      expect(readRecords(path).map((r) => r.key)).toEqual(["a", "b"])
      expect(wal.durability.barrier()).toBeUndefined()
      yield* close
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("afterDurable calls back in order once durable, and says when there is nothing to wait for", () =>
    Effect.gen(function* () {
      const { ks, wal, close } = yield* setup("always")
      const calls: Array<string> = []
      expect(wal.durability.afterDurable(() => calls.push("never"))).toBe(false)
      ks.set("a", text("1"), 0n)
      expect(wal.durability.afterDurable((e) => calls.push(`first ${e}`))).toBe(true)
      ks.set("b", text("2"), 0n)
      expect(wal.durability.afterDurable((e) => calls.push(`second ${e}`))).toBe(true)
      yield* wal.durability.barrier()!
      expect(calls).toEqual(["first undefined", "second undefined"])
      expect(wal.durability.afterDurable(() => calls.push("never"))).toBe(false)
      yield* close
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("concurrent writers with barriers between writes need far fewer fsyncs than writes", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup("always")
      const writer = (c: number) =>
        Effect.gen(function* () {
          for (let i = 0; i < 40; i++) {
            ks.set(`c${c}:${i}`, text("x"), 0n)
            yield* wal.durability.barrier() ?? Effect.void
          }
        })
      yield* Effect.all(
        Array.from({ length: 20 }, (_, c) => writer(c)),
        { concurrency: "unbounded" }
      )
      const stats = wal.stats()
      expect(stats.records).toBe(800)
      expect(stats.fsyncs).toBeLessThan(400)
      expect(readRecords(path).length).toBe(800)
      yield* close
    }).pipe(Effect.provide(FsLive))
  )
})

describe("fsync policies", () => {
  it.scoped("everysec: the barrier waits for the write only; the fsync follows within a second (TestClock)", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup("everysec")
      ks.set("a", text("1"), 0n)
      yield* wal.durability.barrier()!
      expect(readRecords(path).length).toBe(1)
      expect(wal.stats().fsyncs).toBe(0)
      yield* TestClock.adjust("1 second")
      // The background fsync runs in its own fiber: wait for it.
      while (wal.stats().fsyncs === 0) yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
      expect(wal.stats().fsyncs).toBe(1)
      // Nothing new: no further fsync.
      yield* TestClock.adjust("3 seconds")
      yield* Effect.promise(() => new Promise((r) => setTimeout(r, 50)))
      expect(wal.stats().fsyncs).toBe(1)
      yield* close
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("no: written at once, never fsynced until the log closes", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup("no")
      for (let i = 0; i < 10; i++) ks.set(`k${i}`, text("v"), 0n)
      yield* wal.durability.barrier()!
      expect(readRecords(path).length).toBe(10)
      yield* TestClock.adjust("1 minute")
      expect(wal.stats().fsyncs).toBe(0)
      yield* close
      expect(wal.stats().fsyncs).toBe(1)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("closing flushes what was appended but not yet written, with an fsync", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup("always")
      for (let i = 0; i < 5; i++) ks.set(`k${i}`, text(`v${i}`), 0n)
      yield* close
      expect(yield* reload(path)).toEqual({ k0: "v0", k1: "v1", k2: "v2", k3: "v3", k4: "v4" })
      expect(wal.stats().fsyncs).toBeGreaterThanOrEqual(1)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("a failed fsync fails the barrier waiting on it; the log is then failing (retries: WalRetry.test.ts)", () =>
    Effect.gen(function* () {
      const real = yield* FileSystem.FileSystem
      let failSync = false
      const failing = withSync(real, (realSync) =>
        failSync
          ? Effect.fail(
              new SystemError({ module: "FileSystem", method: "sync", reason: "Unknown", description: "EIO" })
            )
          : realSync
      )
      const { ks, wal, logs, close } = yield* setup("always", { syncMethod: "fsync" }, failing)
      ks.set("ok", text("1"), 0n)
      yield* wal.durability.barrier()!
      failSync = true
      ks.set("lost", text("2"), 0n)
      const failed = yield* Effect.exit(wal.durability.barrier()!)
      expect(Exit.isFailure(failed)).toBe(true)
      expect(String(Exit.isFailure(failed) && failed.cause)).toContain("write-ahead log failed")
      // Failing: writers are refused up front (by the connection), and nothing waits.
      expect(wal.durability.failure()?.reason).toBe("EIO")
      expect(wal.durability.barrier()).toBeUndefined()
      expect(logs.some((l) => l.startsWith("ERROR write-ahead log cannot be written (EIO)"))).toBe(true)
      // Closing while the disk still fails reports it (the program then exits non-zero).
      const closed = yield* Effect.exit(close)
      expect(String(Exit.isFailure(closed) && closed.cause)).toContain("could not be written completely")
    }).pipe(Effect.provide(FsLive))
  )
})

describe("compaction", () => {
  it.scoped("rewrite replaces the log with a snapshot of the live data, atomically and much smaller", () =>
    Effect.gen(function* () {
      const { ks, wal, path, dir, logs, close } = yield* setup("always")
      for (let round = 0; round < 50; round++) for (let i = 0; i < 20; i++) ks.set(`k${i}`, text(`r${round}`), 0n)
      ks.set("ttl", text("t"), 0n, 10n ** 18n)
      ks.delete("k19", 0n)
      yield* wal.durability.barrier()!
      const before = statSync(path).size
      yield* wal.rewrite
      const after = statSync(path).size
      expect(after).toBeLessThan(before / 20)
      expect(wal.stats()).toMatchObject({ rewrites: 1, bytes: after, baseBytes: after })
      const snapshot = readRecords(path)
      expect(snapshot.length).toBe(20)
      expect(snapshot.every((r) => r.op === "set")).toBe(true)
      expect(snapshot.find((r) => r.key === "ttl")).toMatchObject({ expiresAt: 10n ** 18n })
      // The log goes on after the switch.
      ks.set("after", text("a"), 0n)
      yield* wal.durability.barrier()!
      yield* close
      expect(yield* reload(path)).toEqual({ ...contents(ks), after: "a" })
      expect(FileSystem.FileSystem).toBeDefined()
      expect((yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.readDirectory(dir))).sort()).toEqual([
        "fleare.wal"
      ])
      expect(logs.some((l) => /INFO compacted .*fleare\.wal: .* MiB -> .* MiB \(20 keys\)/.test(l))).toBe(true)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("writes made while the snapshot is written reach the new log, in order", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup("always")
      const big = "x".repeat(2000)
      for (let i = 0; i < 3000; i++) ks.set(`k${i}`, text(big), 0n)
      yield* wal.durability.barrier()!
      const rewriting = yield* Effect.fork(wal.rewrite)
      // Writers keep going during the rewrite (some overwrite, some delete, some add).
      for (let i = 0; i < 400; i++) {
        ks.set(`k${i}`, text(`new${i}`), 0n)
        if (i % 3 === 0) ks.delete(`k${i + 1000}`, 0n)
        ks.set(`fresh${i}`, text("f"), 0n)
        yield* wal.durability.barrier() ?? Effect.void
      }
      yield* Fiber.join(rewriting)
      expect(wal.stats().rewrites).toBe(1)
      const expected = contents(ks)
      yield* close
      expect(yield* reload(path)).toEqual(expected)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("starts by itself past rewrite_min_bytes once the log has grown by rewrite_percentage", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup("always", { rewriteMinBytes: 20_000, rewritePercentage: 100 })
      const value = text("v".repeat(100))
      let i = 0
      // Below the minimum: no compaction however much it grew.
      while (statSync(path).size < 15_000) {
        ks.set(`k${i++ % 10}`, value, 0n)
        yield* wal.durability.barrier()!
      }
      expect(wal.stats().rewrites).toBe(0)
      while (wal.stats().rewrites === 0 && i < 10_000) {
        ks.set(`k${i++ % 10}`, value, 0n)
        yield* wal.durability.barrier()!
        yield* Effect.sleep("1 millis").pipe(Effect.withClock(Clock.make()))
      }
      expect(wal.stats().rewrites).toBe(1)
      // After it: 10 keys, and the next compaction waits until the file doubles from there.
      expect(wal.stats().baseBytes).toBeLessThan(2000)
      yield* close
      expect(Object.keys(yield* reload(path)).length).toBe(10)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("a compaction that cannot finish leaves the old log as it was and removes its temp file", () =>
    Effect.gen(function* () {
      const real = yield* FileSystem.FileSystem
      const failingRename: FileSystem.FileSystem = {
        ...real,
        rename: () =>
          Effect.fail(
            new SystemError({ module: "FileSystem", method: "rename", reason: "Unknown", description: "EXDEV" })
          )
      }
      const { ks, wal, path, dir, close } = yield* setup("always", {}, failingRename)
      for (let i = 0; i < 100; i++) ks.set(`k${i % 5}`, text(`v${i}`), 0n)
      yield* wal.durability.barrier()!
      const exit = yield* Effect.exit(wal.rewrite)
      expect(Exit.isFailure(exit)).toBe(true)
      ks.set("after", text("a"), 0n)
      yield* wal.durability.barrier()!
      expect(readRecords(path).length).toBe(101)
      expect((yield* real.readDirectory(dir)).sort()).toEqual(["fleare.wal"])
      yield* close
      expect(yield* reload(path)).toEqual({ k0: "v95", k1: "v96", k2: "v97", k3: "v98", k4: "v99", after: "a" })
    }).pipe(Effect.provide(FsLive))
  )
})

describe("the log file on disk", () => {
  it.scoped("holds exactly the records of the changes, in order", () =>
    Effect.gen(function* () {
      const { ks, wal, path, close } = yield* setup("always")
      ks.set("a", text("1"), 0n, 99n)
      ks.expire("a", 500n, 0n)
      ks.set("n", { kind: "Number", value: 3 }, 0n)
      ks.delete("n", 0n)
      ks.delete("missing", 0n)
      // An expiry already past removes the key: logged as a delete (and not at all for a missing key).
      ks.set("p", text("p"), 10n)
      ks.set("p", text("q"), 20n, 15n)
      ks.set("never", text("q"), 20n, 15n)
      ks.set("e", text("e"), 10n)
      ks.expire("e", 15n, 20n)
      ks.expire("missing", 100n, 20n)
      yield* wal.durability.barrier()!
      expect(readRecords(path)).toEqual([
        { op: "set", key: "a", value: text("1"), expiresAt: 99n },
        { op: "expire", key: "a", expiresAt: 500n },
        { op: "set", key: "n", value: { kind: "Number", value: 3 }, expiresAt: 0n },
        { op: "delete", key: "n" },
        { op: "set", key: "p", value: text("p"), expiresAt: 0n },
        { op: "delete", key: "p" },
        { op: "set", key: "e", value: text("e"), expiresAt: 0n },
        { op: "delete", key: "e" }
      ])
      yield* close
      expect(readFileSync(path).subarray(0, 8).toString()).toBe("FLRWAL01")
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("evictions are logged as deletes, before the write that caused them", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const path = nodePath.join(dir, "fleare.wal")
      yield* fs.writeFile(path, MAGIC)
      const ks = Keyspace.makeMemory({ shardCount: 1, maxBytes: 400, evictionPolicy: "FIFO" })
      const scope = yield* Scope.make()
      const wal = yield* makeWal(fs, {
        path,
        fsync: "always",
        rewriteMinBytes: 0,
        rewritePercentage: 0,
        keyspace: ks
      }).pipe(Scope.extend(scope), Effect.provide(collectLogs([])))
      ks.observe(wal.observer)
      let i = 0
      while (ks.memory().evictedKeys === 0) ks.set(`k${i++}`, text("x".repeat(50)), 0n)
      yield* Scope.close(scope, Exit.void)
      const ops = readRecords(path).map((r) => `${r.op} ${r.key}`)
      expect(ops.slice(-2)).toEqual(["delete k0", `set k${i - 1}`])
      expect(yield* reload(path)).toEqual(contents(ks))
    }).pipe(Effect.provide(FsLive))
  )
})

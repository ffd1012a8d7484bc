/**
 * The failing state of the log and its retries, under the TestClock, on real files through a FileSystem that
 * fails on demand (a write that stops halfway with ENOSPC, a failed fsync, a failed truncate): waiting writes
 * fail, nothing waits while failing, retries follow the backoff on the Clock, writes resume by themselves, and
 * the file afterwards holds every record exactly once with no torn bytes.
 */
import { FileSystem } from "@effect/platform"
import { SystemError } from "@effect/platform/Error"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope, TestClock } from "effect"
import * as nodePath from "node:path"
import { DurabilityError } from "../../src/persistence/Durability.js"
import type { FsyncPolicy } from "../../src/persistence/Fsync.js"
import { MAGIC } from "../../src/persistence/Record.js"
import { makeWal, type WalOptions } from "../../src/persistence/Wal.js"
import { Keyspace } from "../../src/store/Keyspace.js"
import type { Value } from "../../src/store/Value.js"
import { collectLogs, FsLive, readRecords, tempDir, withFileFaults } from "./support.js"

const text = (s: string): Value => ({ kind: "Default", value: s })

/** What the faulty file system does to the log's file (files it opens for writing). */
interface Faults {
  /** `partial`: write the first half, then fail with ENOSPC; `fail`: fail at once with ENOSPC. */
  write: "ok" | "partial" | "fail"
  sync: "ok" | "fail"
  truncate: "ok" | "fail"
  writes: number
  truncates: number
}

const enospc = (method: string) =>
  new SystemError({
    module: "FileSystem",
    method,
    reason: "Unknown",
    description: "ENOSPC: no space left on device, write"
  })

/** The real file system, except that files opened to append fail as `faults` says. */
const faulty = (real: FileSystem.FileSystem, faults: Faults): FileSystem.FileSystem =>
  withFileFaults(
    real,
    (f) => ({
      truncate: (n) =>
        Effect.suspend(() => {
          faults.truncates += 1
          return faults.truncate === "ok" ? f.truncate(n) : Effect.fail(enospc("truncate"))
        }),
      writeAll: (b) =>
        Effect.suspend(() => {
          faults.writes += 1
          if (faults.write === "ok") return f.writeAll(b)
          if (faults.write === "fail") return Effect.fail(enospc("writeAll"))
          return Effect.zipRight(f.writeAll(b.subarray(0, b.length >> 1)), Effect.fail(enospc("writeAll")))
        }),
      sync: Effect.suspend(() =>
        faults.sync === "ok"
          ? f.sync
          : Effect.fail(
              new SystemError({
                module: "FileSystem",
                method: "sync",
                reason: "Unknown",
                description: "EIO: i/o error, fsync"
              })
            )
      )
    }),
    "a"
  )

const setup = (policy: FsyncPolicy, extra: Partial<WalOptions> = {}) =>
  Effect.gen(function* () {
    const real = yield* FileSystem.FileSystem
    const faults: Faults = { write: "ok", sync: "ok", truncate: "ok", writes: 0, truncates: 0 }
    const dir = yield* tempDir
    const path = nodePath.join(dir, "fleare.wal")
    yield* real.writeFile(path, MAGIC)
    const ks = Keyspace.makeMemory({ shardCount: 2 })
    const logs: Array<string> = []
    const scope = yield* Scope.make()
    const wal = yield* makeWal(faulty(real, faults), {
      path,
      fsync: policy,
      rewriteMinBytes: 0,
      rewritePercentage: 0,
      keyspace: ks,
      syncMethod: "fsync",
      retry: { minMillis: 100, maxMillis: 400 },
      ...extra
    }).pipe(Scope.extend(scope), Effect.provide(collectLogs(logs)))
    ks.observe(wal.observer)
    return { ks, wal, path, logs, faults, close: Scope.close(scope, Exit.void) }
  })

/** Polls (real time: the file operations are real) until `cond` holds, for at most 5 s. */
const eventually = (cond: () => boolean) =>
  Effect.promise(async () => {
    for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 5))
  })

/** Waits (real time) until the retry loop sleeps on the TestClock, so that `TestClock.adjust` reaches it. */
const sleeping = Effect.gen(function* () {
  for (let i = 0; i < 1000; i++) {
    if ((yield* TestClock.sleeps()).length > 0) return
    yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
  }
})

/** Lets real I/O that might be under way finish (to assert that nothing happened). */
const settle = Effect.promise(() => new Promise((r) => setTimeout(r, 60)))

const keysIn = (path: string) => readRecords(path).map((r) => r.key)

describe("a log that cannot be written", () => {
  it.scoped("fails what waits, refuses nothing itself, retries on the Clock with capped backoff, and resumes", () =>
    Effect.gen(function* () {
      const { ks, wal, path, logs, faults, close } = yield* setup("always")
      ks.set("a", text("1"), 0n)
      yield* wal.durability.barrier()!
      expect(wal.durability.failure()).toBeUndefined()

      // The disk fills up in the middle of a write: half a record reaches the file.
      faults.write = "partial"
      ks.set("b", text("x".repeat(5000)), 0n)
      const failed = yield* Effect.exit(wal.durability.barrier()!)
      expect(Exit.isFailure(failed)).toBe(true)
      const failure = wal.durability.failure()
      expect(failure).toBeInstanceOf(DurabilityError)
      expect(failure!.reason).toBe("ENOSPC: no space left on device, write")
      expect(failure!.refusal.message).toBe(
        "writes are refused while the log cannot be written (ENOSPC: no space left on device, write); nothing was changed"
      )
      expect(wal.stats().failing).toEqual({ sinceMillis: 0, reason: "ENOSPC: no space left on device, write" })

      // The first retry runs at once, and fails (the disk is still full).
      faults.write = "fail"
      yield* eventually(() => wal.stats().retries === 1)
      yield* sleeping
      expect(wal.stats().retries).toBe(1)
      // While failing nothing waits: a reader's reply goes out; a change made meanwhile (an expiry) is kept.
      ks.set("c", text("3"), 0n)
      expect(wal.durability.barrier()).toBeUndefined()
      expect(wal.durability.afterDurable(() => {})).toBe(false)

      // Backoff on the Clock: 100 ms, 200 ms, 400 ms, then capped at 400 ms.
      yield* TestClock.adjust("99 millis")
      yield* settle
      expect(wal.stats().retries).toBe(1)
      yield* TestClock.adjust("1 millis")
      yield* eventually(() => wal.stats().retries === 2)
      yield* sleeping
      yield* TestClock.adjust("200 millis")
      yield* eventually(() => wal.stats().retries === 3)
      yield* sleeping
      yield* TestClock.adjust("400 millis")
      yield* eventually(() => wal.stats().retries === 4)
      yield* sleeping
      yield* TestClock.adjust("399 millis")
      yield* settle
      expect(wal.stats().retries).toBe(4)
      yield* TestClock.adjust("1 millis")
      yield* eventually(() => wal.stats().retries === 5)
      yield* sleeping
      expect(wal.stats().retries).toBe(5)
      expect(wal.durability.failure()).toBe(failure)

      // Space returns: the next retry puts the log right and writes are accepted again, without a restart.
      faults.write = "ok"
      yield* TestClock.adjust("400 millis")
      yield* eventually(() => wal.durability.failure() === undefined)
      expect(wal.durability.failure()).toBeUndefined()
      expect(wal.stats().failing).toBeUndefined()
      expect(wal.stats().failures).toBe(1)
      ks.set("d", text("4"), 0n)
      yield* wal.durability.barrier()!

      // Logged once each way, not per retry.
      expect(logs.filter((l) => l.includes("cannot be written (ENOSPC")).length).toBe(1)
      expect(logs.filter((l) => l.includes("can be written again")).length).toBe(1)
      expect(logs.find((l) => l.includes("can be written again"))).toMatch(/after 1\.5 s and 6 retries/)

      yield* close
      // Every record once, in order, and no torn bytes (readRecords throws on anything but whole records).
      expect(keysIn(path)).toEqual(["a", "b", "c", "d"])
      expect(faults.truncates).toBeGreaterThanOrEqual(6)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("a failed fsync: what was written since the last good fsync is written again, once", () =>
    Effect.gen(function* () {
      const { ks, wal, path, faults, close } = yield* setup("always")
      ks.set("a", text("1"), 0n)
      yield* wal.durability.barrier()!
      faults.sync = "fail"
      ks.set("b", text("2"), 0n)
      expect(Exit.isFailure(yield* Effect.exit(wal.durability.barrier()!))).toBe(true)
      expect(wal.durability.failure()?.reason).toBe("EIO: i/o error, fsync")
      yield* eventually(() => wal.stats().retries >= 1)
      yield* sleeping
      faults.sync = "ok"
      yield* TestClock.adjust("100 millis")
      yield* eventually(() => wal.durability.failure() === undefined)
      expect(wal.durability.failure()).toBeUndefined()
      ks.set("c", text("3"), 0n)
      yield* wal.durability.barrier()!
      yield* close
      // "b" was in the file before the failed fsync: truncated away and written again, not doubled.
      expect(keysIn(path)).toEqual(["a", "b", "c"])
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("the failing state names the latest error: a full disk that turns into an I/O error", () =>
    Effect.gen(function* () {
      const { ks, wal, path, logs, faults, close } = yield* setup("always")
      faults.write = "partial"
      ks.set("a", text("x".repeat(3000)), 0n)
      expect(Exit.isFailure(yield* Effect.exit(wal.durability.barrier()!))).toBe(true)
      expect(wal.durability.failure()?.reason).toBe("ENOSPC: no space left on device, write")
      yield* eventually(() => wal.stats().retries >= 1)
      yield* sleeping
      faults.write = "ok"
      faults.sync = "fail"
      yield* TestClock.adjust("100 millis")
      yield* eventually(() => wal.durability.failure()?.reason === "EIO: i/o error, fsync")
      expect(wal.durability.failure()!.refusal.message).toContain("(EIO: i/o error, fsync)")
      expect(wal.stats().failing).toEqual({ sinceMillis: 0, reason: "EIO: i/o error, fsync" })
      expect(logs.filter((l) => l.includes("still cannot be written, now: EIO")).length).toBe(1)
      faults.sync = "ok"
      yield* TestClock.adjust("200 millis")
      yield* eventually(() => wal.durability.failure() === undefined)
      yield* close
      expect(keysIn(path)).toEqual(["a"])
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("a retry whose truncate fails writes nothing: no record lands after a torn one", () =>
    Effect.gen(function* () {
      const { ks, wal, path, faults, close } = yield* setup("everysec")
      ks.set("a", text("1"), 0n)
      yield* wal.durability.barrier()!
      faults.write = "partial"
      faults.truncate = "fail"
      ks.set("b", text("x".repeat(3000)), 0n)
      expect(Exit.isFailure(yield* Effect.exit(wal.durability.barrier()!))).toBe(true)
      faults.write = "ok"
      yield* eventually(() => wal.stats().retries >= 1)
      yield* sleeping
      yield* settle
      const writesBefore = faults.writes
      yield* TestClock.adjust("100 millis")
      yield* eventually(() => wal.stats().retries >= 2)
      yield* sleeping
      yield* settle
      expect(faults.writes).toBe(writesBefore)
      expect(wal.durability.failure()).toBeDefined()
      faults.truncate = "ok"
      yield* TestClock.adjust("200 millis")
      yield* eventually(() => wal.durability.failure() === undefined)
      ks.set("c", text("3"), 0n)
      yield* wal.durability.barrier()!
      yield* close
      expect(keysIn(path)).toEqual(["a", "b", "c"])
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("closing while failing: one last retry; if the disk is still full the shutdown reports it", () =>
    Effect.gen(function* () {
      const { ks, wal, path, logs, faults, close } = yield* setup("always")
      ks.set("a", text("1"), 0n)
      yield* wal.durability.barrier()!
      faults.write = "fail"
      ks.set("b", text("2"), 0n)
      expect(Exit.isFailure(yield* Effect.exit(wal.durability.barrier()!))).toBe(true)
      yield* eventually(() => wal.stats().retries >= 1)
      yield* sleeping
      // The close does not wait for the backoff (the TestClock never moves here).
      const closed = yield* Effect.exit(close)
      expect(String(Exit.isFailure(closed) && closed.cause)).toContain("could not be written completely")
      expect(logs.some((l) => l.includes("still cannot be written at shutdown"))).toBe(true)
      expect(keysIn(path)).toEqual(["a"])
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("closing while failing, after space returned: the last retry writes everything", () =>
    Effect.gen(function* () {
      const { ks, wal, path, faults, close } = yield* setup("always")
      faults.write = "partial"
      ks.set("a", text("x".repeat(3000)), 0n)
      expect(Exit.isFailure(yield* Effect.exit(wal.durability.barrier()!))).toBe(true)
      yield* eventually(() => wal.stats().retries >= 1)
      yield* sleeping
      faults.write = "ok"
      yield* close
      expect(keysIn(path)).toEqual(["a"])
    }).pipe(Effect.provide(FsLive))
  )
})

/**
 * Compaction of the write-ahead log: once the file is `rewrite_min_bytes` large and has grown by
 * `rewrite_percentage` since the last compaction, a background fiber writes a snapshot of the live data (a frozen
 * list of entries taken in one synchronous step, whose values the keyspace no longer changes in place) to
 * `<log>.rewrite`, then the records appended since that instant, fsyncs it, and the writer renames it over the
 * log and fsyncs the directory. Until the rename the old log stays complete (the writer keeps appending to it);
 * after it, the new one is. Clients are never blocked: only the last few records are copied while the writer
 * pauses.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as nodePath from "node:path"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Scope from "effect/Scope"
import type { KeyspaceShape } from "../store/Keyspace.js"
import { ioError, type PersistenceError } from "./errors.js"
import { syncDirectory, writeSnapshot } from "./files.js"
import type { FsyncPolicy, FsyncScheduler } from "./Fsync.js"
import { openFile } from "./OpenFile.js"
import { RecordWriter } from "./Record.js"
import { failLog } from "./WalRetry.js"
import type { SwitchRequest, WalState } from "./WalState.js"
import { mib } from "./sizes.js"

// While compacting, the records appended meanwhile are copied to the new file in chunks of this size; the
// writer pauses only for the remainder.
const CATCH_UP_BYTES = 256 * 1024

/** What compaction needs of `WalOptions`. */
export interface CompactionOptions {
  readonly path: string
  readonly fsync: FsyncPolicy
  readonly rewriteMinBytes: number
  readonly rewritePercentage: number
  readonly keyspace: KeyspaceShape
}

/** The compactions of a running log. */
export interface Compaction {
  /** Puts the compacted file in place of the log (runs in the writer, between batches, no fsync running). */
  readonly doSwitch: (req: SwitchRequest) => Effect.Effect<void>
  /** Starts a compaction unless one runs or the log is closing; succeeds with the one under way, if any. */
  readonly startRewrite: Effect.Effect<Fiber.RuntimeFiber<void, PersistenceError> | undefined>
  /** Starts a compaction if the file has grown enough since the last one. */
  readonly maybeRewrite: Effect.Effect<void>
  /** The compaction under way, if any. */
  readonly rewriteFiber: Fiber.RuntimeFiber<void, PersistenceError> | undefined
}

/** The compactions of the log described by `s`. */
export const makeCompaction = (
  fs: FileSystem.FileSystem,
  s: WalState,
  syncs: FsyncScheduler,
  options: CompactionOptions
): Compaction => {
  const { path, fsync: policy, keyspace } = options
  const { sync, startSync, whenSyncsIdle, waitEverysecSync } = syncs
  const dir = nodePath.dirname(path)
  const tmpPath = `${path}.rewrite`
  let rewriteFiber: Fiber.RuntimeFiber<void, PersistenceError> | undefined

  // Puts the compacted file in place of the log (runs in the writer, between batches, no fsync running).
  const doSwitch = (req: SwitchRequest) =>
    Effect.gen(function* () {
      s.switchRequest = undefined
      yield* whenSyncsIdle
      yield* waitEverysecSync
      if (s.failure !== undefined || s.capture === undefined) {
        s.capture = undefined
        return Deferred.unsafeDone(req.done, Exit.fail(ioError("compaction abandoned")(s.failure)))
      }
      // Everything appended up to now is in the snapshot or in `capture`: the new file covers it.
      const covered = s.pending.take()
      const coveredBatch = s.openBatch
      s.openBatch = undefined
      if (coveredBatch !== undefined) s.unsettled.push(coveredBatch)
      const tail = s.capture.take()
      s.capture = undefined
      const renamed = yield* Effect.exit(
        Effect.gen(function* () {
          if (tail.length > 0) yield* req.tmp.file.writeAll(tail)
          yield* sync(req.tmp.file)
          yield* fs.rename(tmpPath, path)
        })
      )
      if (Exit.isFailure(renamed)) {
        // The old log is still the log: the covered records go there, as any batch would.
        if (coveredBatch !== undefined) {
          const wrote = yield* Effect.exit(s.current.file.writeAll(covered))
          if (Exit.isFailure(wrote)) {
            s.unwritten.push(covered)
            yield* failLog(s, `cannot write ${path}`, wrote.cause)
          } else {
            s.bytes += covered.length
            s.written(covered, policy !== "no")
            if (policy === "always") startSync(s.current.file, coveredBatch.seq)
            else {
              s.dirty = true
              s.settleUpTo(coveredBatch.seq)
            }
          }
        }
        return Deferred.unsafeDone(req.done, Exit.fail(ioError(`cannot complete compaction`)(renamed.cause)))
      }
      const dirSynced = yield* Effect.exit(syncDirectory(fs, dir))
      const old = s.current
      s.current = req.tmp
      req.adopted = true
      // The new file was fsynced whole before the rename.
      s.resetDurable(req.tmpBytes + tail.length)
      s.baseBytes = s.bytes
      yield* Scope.close(old.scope, Exit.void)
      if (Exit.isFailure(dirSynced)) {
        // The file is whole and synced; its name is not yet: the retry syncs the directory.
        s.dirUnsynced = true
        yield* failLog(s, `cannot sync directory ${dir}`, dirSynced.cause)
        return Deferred.unsafeDone(req.done, Exit.failCause(dirSynced.cause))
      }
      if (coveredBatch !== undefined) s.settleUpTo(coveredBatch.seq)
      s.rewrites += 1
      Deferred.unsafeDone(req.done, Exit.void)
    })

  const runRewrite = Effect.gen(function* () {
    // Never finish before `rewriteFiber` is assigned (the fiber starts synchronously).
    yield* Effect.yieldNow()
    const started = yield* Clock.currentTimeMillis
    const before = s.bytes
    const now = yield* Clock.currentTimeNanos
    // The point-in-time image: from this instant the keyspace copies a value before changing it in place, and
    // every record is also captured.
    const image = Array.from(keyspace.entries(now))
    s.capture = new RecordWriter()
    const tmp = yield* openFile(fs, tmpPath, "w")
    const req: SwitchRequest = { tmp, tmpBytes: 0, done: Deferred.unsafeMake(FiberId.none), adopted: false }
    yield* Effect.gen(function* () {
      let written = yield* writeSnapshot(tmp.file, image, now, tmpPath)
      while (s.capture !== undefined && s.capture.length >= CATCH_UP_BYTES) {
        const chunk = s.capture.take()
        yield* tmp.file.writeAll(chunk).pipe(Effect.mapError(ioError(`cannot write ${tmpPath}`)))
        written += chunk.length
      }
      yield* sync(tmp.file).pipe(Effect.mapError(ioError(`cannot sync ${tmpPath}`)))
      req.tmpBytes = written
      s.switchRequest = req
      s.wake()
      yield* Deferred.await(req.done)
    }).pipe(
      Effect.onExit(() =>
        req.adopted
          ? Effect.void
          : Effect.gen(function* () {
              s.capture = undefined
              yield* Scope.close(tmp.scope, Exit.void)
              yield* Effect.ignore(fs.remove(tmpPath))
            })
      )
    )
    const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
    s.lastRewriteAt = yield* Clock.currentTimeNanos
    s.lastRewriteSeconds = seconds
    yield* Effect.logInfo(
      `compacted ${path}: ${mib(before)} MiB -> ${mib(s.bytes)} MiB (${image.length} keys) in ${seconds.toFixed(2)} s`
    )
  }).pipe(
    Effect.tapError((e) => Effect.logError(`compaction of ${path} failed; the log is unchanged`, e)),
    Effect.ensuring(
      Effect.sync(() => {
        rewriteFiber = undefined
      })
    )
  )

  const startRewrite = Effect.suspend(() => {
    if (rewriteFiber !== undefined || s.closing) return Effect.succeed(rewriteFiber)
    return Effect.sync(() => {
      rewriteFiber = s.runFork(runRewrite)
      return rewriteFiber
    })
  })

  const maybeRewrite = Effect.suspend(() => {
    const due =
      options.rewritePercentage > 0 &&
      s.bytes >= options.rewriteMinBytes &&
      s.bytes >= s.baseBytes + (s.baseBytes * options.rewritePercentage) / 100
    return due && rewriteFiber === undefined ? Effect.asVoid(startRewrite) : Effect.void
  })

  return {
    doSwitch,
    startRewrite,
    maybeRewrite,
    get rewriteFiber() {
      return rewriteFiber
    }
  }
}

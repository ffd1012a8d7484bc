/**
 * The write-ahead log. Every keyspace change is encoded synchronously, as it happens, into an in-memory buffer
 * (`observer`); one writer fiber hands the buffer to the file and, with `fsync: always`, starts an fdatasync of
 * it. A connection acknowledges its writes only after `durability.barrier()` (or `afterDurable`), which waits
 * for the write (and fsync) covering everything appended so far: every connection waiting at that moment shares
 * one fsync (group commit), while the next batch accumulates. Batches are written in order and settle in order.
 *
 *   always    reply after the record is written and fsynced: nothing acknowledged is ever lost.
 *   everysec  reply after the record is written to the OS; a background fsync runs every second. A crash of the
 *             server process loses nothing acknowledged; a crash of the machine loses about the last second or two.
 *   no        reply after the write to the OS, which flushes when it likes (Linux: within about 30 s).
 *
 * Compaction: once the file is `rewrite_min_bytes` large and has grown by `rewrite_percentage` since the last
 * compaction, a background fiber writes a snapshot of the live data (a frozen list of immutable entries taken
 * in one synchronous step) to `<log>.rewrite`, then the records appended since that instant, fsyncs it, and the
 * writer renames it over the log and fsyncs the directory. Until the rename the old log stays complete (the
 * writer keeps appending to it); after it, the new one is. Clients are never blocked: only the last few records
 * are copied while the writer pauses.
 *
 * A failed write or fsync is sticky: nothing after it can be acknowledged, so every later barrier fails and the
 * connections close without replies (the file's state after a failed write is unknown).
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import { type PlatformError, SystemError } from "@effect/platform/Error"
import * as nodeFs from "node:fs"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { Batch } from "./Batch.js"
import * as nodePath from "node:path"
import type { KeyspaceObserver, KeyspaceShape } from "../store/Keyspace.js"
import { DurabilityError, type DurabilityShape } from "./Durability.js"
import { ioError, type PersistenceError } from "./errors.js"
import { syncDirectory, writeSnapshot } from "./files.js"
import { RecordWriter } from "./Record.js"

/** When a write counts as durable (`persistence.fsync`). */
export type FsyncPolicy = "always" | "everysec" | "no"

/** How the log is kept. */
export interface WalOptions {
  /** The log file: it exists, holds the magic and ends with a whole record (see `recover`). */
  readonly path: string
  readonly fsync: FsyncPolicy
  /** No compaction below this size. */
  readonly rewriteMinBytes: number
  /** Compact when the file has grown by this percentage since the last compaction; 0 = never automatically. */
  readonly rewritePercentage: number
  /** The keyspace that compaction snapshots. */
  readonly keyspace: KeyspaceShape
  /**
   * How to make written bytes durable: `fdatasync` (default: data and the size, not the timestamps, about half
   * the cost of an fsync on Linux) or the FileSystem's `fsync`.
   */
  readonly syncMethod?: "fdatasync" | "fsync"
}

/** Counters, for STATUS-like reporting and tests. */
export interface WalStats {
  /** Size of the log file. */
  readonly bytes: number
  /** Size right after the last compaction (or at startup). */
  readonly baseBytes: number
  /** Records appended since startup. */
  readonly records: number
  /** Batches written. */
  readonly writes: number
  /** fsyncs of the log. */
  readonly fsyncs: number
  /** Compactions completed. */
  readonly rewrites: number
}

/** A running log. */
export interface WalShape {
  readonly path: string
  /** Install on the keyspace: encodes every change. */
  readonly observer: KeyspaceObserver
  /** What connections wait on before acknowledging. */
  readonly durability: DurabilityShape
  /** Compacts the log now (or joins the compaction under way) and returns once the new file is in place. */
  readonly rewrite: Effect.Effect<void, PersistenceError>
  readonly stats: () => WalStats
}

interface OpenFile {
  readonly file: FileSystem.File
  readonly scope: Scope.CloseableScope
}

interface SwitchRequest {
  readonly tmp: OpenFile
  /** Bytes already in the temporary file. */
  tmpBytes: number
  readonly done: Deferred.Deferred<void, PersistenceError>
  /** Set once the temporary file has become the log (its handle then belongs to the writer). */
  adopted: boolean
}

// While compacting, the records appended meanwhile are copied to the new file in chunks of this size; the
// writer pauses only for the remainder.
const CATCH_UP_BYTES = 256 * 1024

// With `always`, how many fsyncs may run at once. An fsync covers every write made before it started, so the
// next batch is written and its fsync started while the previous one is still running: connections that
// arrive during an fsync need not wait for it to end first (disks complete overlapping flushes together).
const MAX_SYNCS = 2

/** Opens the log at `options.path` for appending and runs its writer until the scope closes (then flushes). */
export const makeWal = (
  fs: FileSystem.FileSystem,
  options: WalOptions
): Effect.Effect<WalShape, PersistenceError, Scope.Scope> =>
  Effect.gen(function* () {
    const { path, fsync: policy, keyspace } = options
    // Background fibers run with the layer's context (its logger), whoever starts them.
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())
    const dir = nodePath.dirname(path)
    const tmpPath = `${path}.rewrite`

    const openFile = (p: string, flag: "a" | "w") =>
      Effect.gen(function* () {
        const scope = yield* Scope.make()
        const file = yield* fs.open(p, { flag }).pipe(
          Scope.extend(scope),
          Effect.tapError(() => Scope.close(scope, Exit.void)),
          Effect.mapError(ioError(`cannot open ${p}`))
        )
        return { file, scope } satisfies OpenFile
      })

    let current = yield* openFile(path, "a")
    let bytes = Number((yield* current.file.stat.pipe(Effect.mapError(ioError(`cannot stat ${path}`)))).size)
    let baseBytes = bytes
    let records = 0
    let writes = 0
    let fsyncs = 0
    let rewrites = 0

    const pending = new RecordWriter()
    let seq = 0
    let openBatch: Batch | undefined // settles once the records in `pending` are durable
    const unsettled: Array<Batch> = [] // taken by the writer, in log order, not yet durable
    let syncsRunning = 0
    let syncsIdle: Array<() => void> = [] // waiting for syncsRunning to reach 0
    let failure: DurabilityError | undefined
    let failed: Effect.Effect<never, DurabilityError> | undefined
    let capture: RecordWriter | undefined // during a compaction: every record since its snapshot
    let switchRequest: SwitchRequest | undefined
    let closing = false
    let syncDue = false // everysec: a second has passed
    let dirty = false // written since the last fsync
    let syncing: Fiber.RuntimeFiber<void> | undefined // everysec's background fsync
    let rewriteFiber: Fiber.RuntimeFiber<void, PersistenceError> | undefined
    let wakeWriter: (() => void) | undefined
    const callbackDefects: Array<unknown> = []

    const wake = (): void => {
      const w = wakeWriter
      if (w === undefined) return
      wakeWriter = undefined
      w()
    }

    const settle = (batch: Batch | undefined, error?: DurabilityError): void => {
      if (batch !== undefined) callbackDefects.push(...batch.settle(error))
    }
    // Settles, in order, every unsettled batch up to `upTo` (all of them when undefined).
    const settleUpTo = (upTo: number | undefined, error?: DurabilityError): void => {
      while (unsettled.length > 0 && (upTo === undefined || unsettled[0]!.seq <= upTo)) settle(unsettled.shift(), error)
    }

    // True once a write or fsync failed: then the shutdown cannot report success.
    let ioFailed = false
    // Makes the failure sticky and fails everything that waits: nothing after a failed write is acknowledged.
    const fail = (what: string, cause: unknown, io = true): DurabilityError => {
      ioFailed ||= io
      if (failure === undefined) {
        failure = new DurabilityError({ cause: ioError(what)(cause) })
        failed = Effect.fail(failure)
      }
      settleUpTo(undefined, failure)
      const open = openBatch
      openBatch = undefined
      settle(open, failure)
      return failure
    }

    // Called synchronously by the keyspace after each change.
    const appended = (start: number): void => {
      if (capture !== undefined) capture.append(pending.from(start))
      records += 1
      openBatch ??= new Batch(++seq)
      wake()
    }

    const observer: KeyspaceObserver = {
      set: (key, value, expiresAt) => {
        if (failure !== undefined) return
        const start = pending.length
        pending.set(key, value, expiresAt)
        appended(start)
      },
      delete: (key) => {
        if (failure !== undefined) return
        const start = pending.length
        pending.delete(key)
        appended(start)
      },
      expire: (key, expiresAt) => {
        if (failure !== undefined) return
        const start = pending.length
        pending.expire(key, expiresAt)
        appended(start)
      }
    }

    // The batch that covers everything appended so far, if any is still on its way.
    const last = (): Batch | undefined => openBatch ?? unsettled[unsettled.length - 1]

    const durability: DurabilityShape = {
      barrier: () => {
        if (failed !== undefined) return failed
        return last()?.await()
      },
      afterDurable: (done) => {
        if (failure !== undefined) {
          done(failure)
          return true
        }
        const b = last()
        if (b === undefined) return false
        b.onSettled(done)
        return true
      }
    }

    const sync = (file: FileSystem.File) =>
      Effect.tap(options.syncMethod === "fsync" ? file.sync : fdatasync(file), () => {
        fsyncs += 1
      })

    const whenSyncsIdle = Effect.async<void>((resume) => {
      if (syncsRunning === 0) return resume(Effect.void)
      syncsIdle.push(() => resume(Effect.void))
    })

    // Starts an fsync covering every write so far; when it ends, the batches up to `upTo` are durable.
    const startSync = (file: FileSystem.File, upTo: number): void => {
      syncsRunning += 1
      runFork(
        Effect.exit(sync(file)).pipe(
          Effect.flatMap((exit) =>
            Effect.gen(function* () {
              syncsRunning -= 1
              if (Exit.isSuccess(exit)) settleUpTo(upTo)
              else if (failure === undefined) {
                fail(`cannot sync ${path}`, exit.cause)
                yield* Effect.logError("write-ahead log fsync failed: no further write can be acknowledged", exit.cause)
              }
              if (syncsRunning === 0) {
                const idle = syncsIdle
                syncsIdle = []
                for (const f of idle) f()
              }
              wake()
            })
          )
        )
      )
    }

    // Writes everything appended so far as one batch, then (with `always`, or when closing) starts its fsync.
    const writeBatch = Effect.gen(function* () {
      const data = pending.take()
      const batch = openBatch
      openBatch = undefined
      if (batch === undefined) return
      if (failure !== undefined) return settle(batch, failure)
      unsettled.push(batch)
      const exit = yield* Effect.exit(current.file.writeAll(data))
      writes += 1
      if (Exit.isFailure(exit)) {
        fail(`cannot write ${path}`, exit.cause)
        return yield* Effect.logError("write-ahead log write failed: no further write can be acknowledged", exit.cause)
      }
      bytes += data.length
      if (policy === "always" || closing) startSync(current.file, batch.seq)
      else {
        dirty = true
        settleUpTo(batch.seq)
      }
    })

    const waitEverysecSync = Effect.suspend(() => (syncing === undefined ? Effect.void : Fiber.await(syncing)))

    // Puts the compacted file in place of the log (runs in the writer, between batches, no fsync running).
    const doSwitch = (req: SwitchRequest) =>
      Effect.gen(function* () {
        switchRequest = undefined
        yield* whenSyncsIdle
        yield* waitEverysecSync
        if (failure !== undefined || capture === undefined) {
          capture = undefined
          return Deferred.unsafeDone(req.done, Exit.fail(ioError("compaction abandoned")(failure)))
        }
        // Everything appended up to now is in the snapshot or in `capture`: the new file covers it.
        const covered = pending.take()
        const coveredBatch = openBatch
        openBatch = undefined
        if (coveredBatch !== undefined) unsettled.push(coveredBatch)
        const tail = capture.take()
        capture = undefined
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
            const wrote = yield* Effect.exit(current.file.writeAll(covered))
            if (Exit.isFailure(wrote)) fail(`cannot write ${path}`, wrote.cause)
            else {
              bytes += covered.length
              if (policy === "always") startSync(current.file, coveredBatch.seq)
              else {
                dirty = true
                settleUpTo(coveredBatch.seq)
              }
            }
          }
          return Deferred.unsafeDone(req.done, Exit.fail(ioError(`cannot complete compaction`)(renamed.cause)))
        }
        const dirSynced = yield* Effect.exit(syncDirectory(fs, dir))
        const old = current
        current = req.tmp
        req.adopted = true
        bytes = req.tmpBytes + tail.length
        baseBytes = bytes
        dirty = false
        yield* Scope.close(old.scope, Exit.void)
        if (Exit.isFailure(dirSynced)) {
          fail(`cannot sync directory ${dir}`, dirSynced.cause)
          return Deferred.unsafeDone(req.done, Exit.failCause(dirSynced.cause))
        }
        if (coveredBatch !== undefined) settleUpTo(coveredBatch.seq)
        rewrites += 1
        Deferred.unsafeDone(req.done, Exit.void)
      })

    const runRewrite = Effect.gen(function* () {
      // Never finish before `rewriteFiber` is assigned (the fiber starts synchronously).
      yield* Effect.yieldNow()
      const started = yield* Clock.currentTimeMillis
      const before = bytes
      const now = yield* Clock.currentTimeNanos
      // The point-in-time image: entries are immutable, and from this instant every record is also captured.
      const image = Array.from(keyspace.entries(now))
      capture = new RecordWriter()
      const tmp = yield* openFile(tmpPath, "w")
      const req: SwitchRequest = { tmp, tmpBytes: 0, done: Deferred.unsafeMake(FiberId.none), adopted: false }
      yield* Effect.gen(function* () {
        let written = yield* writeSnapshot(tmp.file, image, now, tmpPath)
        while (capture !== undefined && capture.length >= CATCH_UP_BYTES) {
          const chunk = capture.take()
          yield* tmp.file.writeAll(chunk).pipe(Effect.mapError(ioError(`cannot write ${tmpPath}`)))
          written += chunk.length
        }
        yield* sync(tmp.file).pipe(Effect.mapError(ioError(`cannot sync ${tmpPath}`)))
        req.tmpBytes = written
        switchRequest = req
        wake()
        yield* Deferred.await(req.done)
      }).pipe(
        Effect.onExit(() =>
          req.adopted
            ? Effect.void
            : Effect.gen(function* () {
                capture = undefined
                yield* Scope.close(tmp.scope, Exit.void)
                yield* Effect.ignore(fs.remove(tmpPath))
              })
        )
      )
      const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
      yield* Effect.logInfo(
        `compacted ${path}: ${mib(before)} MiB -> ${mib(bytes)} MiB (${image.length} keys) in ${seconds.toFixed(2)} s`
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
      if (rewriteFiber !== undefined || closing) return Effect.succeed(rewriteFiber)
      return Effect.sync(() => {
        rewriteFiber = runFork(runRewrite)
        return rewriteFiber
      })
    })

    const maybeRewrite = Effect.suspend(() => {
      const due =
        options.rewritePercentage > 0 &&
        bytes >= options.rewriteMinBytes &&
        bytes >= baseBytes + (baseBytes * options.rewritePercentage) / 100
      return due && rewriteFiber === undefined ? Effect.asVoid(startRewrite) : Effect.void
    })

    // everysec: an fsync in its own fiber, so the writer goes on writing meanwhile.
    const backgroundSync = Effect.sync(() => {
      syncDue = false
      if (!dirty || syncing !== undefined || failure !== undefined) return
      dirty = false
      syncing = runFork(
        sync(current.file).pipe(
          Effect.catchAll((e) =>
            Effect.zipRight(
              Effect.sync(() => fail(`cannot sync ${path}`, e)),
              Effect.logError("write-ahead log fsync failed: no further write can be acknowledged", e)
            )
          ),
          Effect.ensuring(
            Effect.sync(() => {
              syncing = undefined
            })
          )
        )
      )
    })

    const canWrite = () => pending.length > 0 && syncsRunning < MAX_SYNCS
    const waitForWork = Effect.async<void>((resume) => {
      if (canWrite() || switchRequest !== undefined || syncDue || (closing && pending.length === 0))
        return resume(Effect.void)
      wakeWriter = () => resume(Effect.void)
      return Effect.sync(() => {
        wakeWriter = undefined
      })
    })

    const writer = Effect.gen(function* () {
      while (true) {
        yield* waitForWork
        if (callbackDefects.length > 0) yield* Effect.logError("a durability callback threw", callbackDefects.splice(0))
        if (switchRequest !== undefined) {
          if (closing) {
            const req = switchRequest
            switchRequest = undefined
            capture = undefined
            Deferred.unsafeDone(req.done, Exit.fail(ioError("compaction abandoned")("the server is shutting down")))
          } else yield* doSwitch(switchRequest)
          continue
        }
        if (canWrite()) {
          yield* writeBatch
          yield* maybeRewrite
          continue
        }
        if (closing && pending.length === 0) break
        if (syncDue) yield* backgroundSync
      }
      // Shutting down: whatever the policy, the log ends synced.
      yield* whenSyncsIdle
      yield* waitEverysecSync
      if (dirty && failure === undefined) {
        const exit = yield* Effect.exit(sync(current.file))
        if (Exit.isFailure(exit)) {
          fail(`cannot sync ${path}`, exit.cause)
          yield* Effect.logError(`cannot sync ${path} at shutdown`, exit.cause)
        }
      }
    })

    // However the writer ends (closed, or a bug), nothing may wait on it afterwards: later barriers fail.
    const writerFiber = yield* Effect.forkDaemon(
      writer.pipe(
        Effect.onExit((exit) =>
          Effect.gen(function* () {
            if (Exit.isFailure(exit) && !Exit.isInterrupted(exit))
              yield* Effect.logError("write-ahead log writer failed", exit.cause)
            fail(`${path} is closed`, Exit.isFailure(exit) ? exit.cause : "the log was closed", false)
          })
        )
      )
    )
    const ticker =
      policy === "everysec"
        ? yield* Effect.forkDaemon(
            Effect.repeat(
              Effect.sync(() => {
                syncDue = true
                wake()
              }),
              Schedule.spaced("1 second")
            )
          )
        : undefined

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        closing = true
        wake()
        yield* Fiber.await(writerFiber)
        if (ticker !== undefined) yield* Fiber.interrupt(ticker)
        if (rewriteFiber !== undefined) yield* Fiber.interrupt(rewriteFiber)
        yield* Scope.close(current.scope, Exit.void)
        // Exit non-zero: what was acknowledged is safe, but the log's end is not as it should be.
        if (ioFailed) return yield* Effect.dieMessage(`${path} could not be written completely; see the errors above`)
        yield* Effect.logInfo(
          `closed ${path} (${mib(bytes)} MiB; since startup ${records} records, ${fsyncs} fsyncs, ${rewrites} compactions)`
        )
      })
    )

    return {
      path,
      observer,
      durability,
      rewrite: Effect.flatMap(startRewrite, (f) => (f === undefined ? Effect.void : Fiber.join(f))),
      stats: () => ({ bytes, baseBytes, records, writes, fsyncs, rewrites })
    }
  })

/**
 * fdatasync(2) of an open file. `FileSystem.File` offers only `sync` (fsync); this is the one file operation the
 * log performs on the descriptor directly. For an append-only file it is as safe as fsync: the new size is
 * flushed with the data.
 */
const fdatasync = (file: FileSystem.File): Effect.Effect<void, PlatformError> =>
  Effect.async<void, PlatformError>((resume) => {
    nodeFs.fdatasync(file.fd, (err) =>
      resume(
        err === null
          ? Effect.void
          : Effect.fail(
              new SystemError({
                module: "FileSystem",
                method: "fdatasync",
                reason: "Unknown",
                pathOrDescriptor: file.fd,
                description: err.message
              })
            )
      )
    )
  })

const mib = (n: number): string => (n / (1024 * 1024)).toFixed(1)

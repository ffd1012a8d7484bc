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
 * Compaction rewrites the file in the background, without blocking clients (see `Compaction.ts`).
 *
 * A failed write or fsync (a full disk, an I/O error) puts the log in a failing state (see `WalRetry.ts`): every
 * batch waiting to be durable fails (its writes are answered `PersistenceError`, never acknowledged), write
 * commands are refused up front (`durability.failure()`), and the writer retries with backoff: it truncates the
 * file to the last offset known durable and writes again everything after it, so no torn or doubled record
 * remains. Records appended meanwhile (writes that ran before the failure was seen, expiries) are kept and
 * written by the retry. Once a retry succeeds, writes are accepted again.
 *
 * This module is the log as a service: its options, what it offers, and its start and close. The parts share a
 * `WalState`; the writer is in `WalWriter.ts`, the fsyncs in `Fsync.ts`, the file handles in `OpenFile.ts`.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import { Batch } from "./Batch.js"
import type { KeyspaceObserver, KeyspaceShape } from "../store/Keyspace.js"
import { makeCompaction } from "./Compaction.js"
import type { DurabilityShape } from "./Durability.js"
import { ioError, type PersistenceError } from "./errors.js"
import { type FsyncPolicy, makeFsyncScheduler } from "./Fsync.js"
import { openFile } from "./OpenFile.js"
import { WalState } from "./WalState.js"
import { makeWriter } from "./WalWriter.js"
import { type RetryOptions, defaultRetry } from "./WalRetry.js"
import { mib } from "./sizes.js"

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
  /** How often a failing log is retried (`persistence.retry_min_ms` / `retry_max_ms`). */
  readonly retry?: RetryOptions
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
  /** While the log cannot be written: since when (Clock millis) and why; undefined while it can. */
  readonly failing: { readonly sinceMillis: number; readonly reason: string } | undefined
  /** Times the log entered the failing state since startup. */
  readonly failures: number
  /** Retries of a failing log since startup (successful or not). */
  readonly retries: number
  /** When the last compaction completed (epoch nanoseconds), if one did since startup. */
  readonly lastRewriteAt: bigint | undefined
  /** How long the last compaction took, in seconds (0 if none). */
  readonly lastRewriteSeconds: number
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

/** Opens the log at `options.path` for appending and runs its writer until the scope closes (then flushes). */
export const makeWal = (
  fs: FileSystem.FileSystem,
  options: WalOptions
): Effect.Effect<WalShape, PersistenceError, Scope.Scope> =>
  Effect.gen(function* () {
    const { path, fsync: policy } = options
    // Background fibers run with the layer's context (its logger), whoever starts them.
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())

    const current = yield* openFile(fs, path, "a")
    const bytes = Number((yield* current.file.stat.pipe(Effect.mapError(ioError(`cannot stat ${path}`)))).size)
    const s = new WalState(path, runFork, current, bytes)
    const syncs = makeFsyncScheduler(s, options)
    const compaction = makeCompaction(fs, s, syncs, options)

    // Called synchronously by the keyspace after each change.
    const appended = (start: number): void => {
      if (s.capture !== undefined) s.capture.append(s.pending.from(start))
      s.records += 1
      s.openBatch ??= new Batch(++s.seq)
      s.wake()
    }

    // Changes made while the log is failing (expiries, writes that ran before the failure was seen) are kept:
    // the retry writes them, so the log and memory agree again once it succeeds.
    const observer: KeyspaceObserver = {
      set: (key, value, expiresAt) => {
        const start = s.pending.length
        s.pending.set(key, value, expiresAt)
        appended(start)
      },
      delete: (key) => {
        const start = s.pending.length
        s.pending.delete(key)
        appended(start)
      },
      expire: (key, expiresAt) => {
        const start = s.pending.length
        s.pending.expire(key, expiresAt)
        appended(start)
      },
      mutate: (key, change, expiresAt) => {
        if (s.failure !== undefined) return
        const start = s.pending.length
        s.pending.mutate(key, change, expiresAt)
        appended(start)
      }
    }

    // The batch that covers everything appended so far, if any is still on its way.
    const last = (): Batch | undefined => s.openBatch ?? s.unsettled[s.unsettled.length - 1]

    // While failing, nothing waits: write commands are refused up front, and what a read answers needs no log.
    const durability: DurabilityShape = {
      barrier: () => (s.failure !== undefined ? undefined : last()?.await()),
      afterDurable: (done) => {
        if (s.failure !== undefined) return false
        const b = last()
        if (b === undefined) return false
        b.onSettled(done)
        return true
      },
      failure: () => s.failure
    }

    // However the writer ends (closed, or a bug), nothing may wait on it afterwards: the log is failing for
    // good (waiting batches fail, later writes are refused).
    const writerFiber = yield* Effect.forkDaemon(
      makeWriter(fs, s, syncs, compaction, policy, options.retry ?? defaultRetry).pipe(
        Effect.onExit((exit) =>
          Effect.gen(function* () {
            if (Exit.isFailure(exit) && !Exit.isInterrupted(exit))
              yield* Effect.logError("write-ahead log writer failed", exit.cause)
            const now = yield* Clock.currentTimeMillis
            s.close(`${path} is closed`, Exit.isFailure(exit) ? exit.cause : "the log was closed", now)
          })
        )
      )
    )
    const ticker = policy === "everysec" ? yield* Effect.forkDaemon(syncs.ticker) : undefined

    yield* Effect.addFinalizer(() =>
      Effect.gen(function* () {
        s.closing = true
        Deferred.unsafeDone(s.closingSignal, Exit.void)
        s.wake()
        yield* Fiber.await(writerFiber)
        if (ticker !== undefined) yield* Fiber.interrupt(ticker)
        const rewriteFiber = compaction.rewriteFiber
        if (rewriteFiber !== undefined) yield* Fiber.interrupt(rewriteFiber)
        yield* Scope.close(s.current.scope, Exit.void)
        // Exit non-zero: what was acknowledged is safe, but the log's end is not as it should be.
        if (s.ioFailed) return yield* Effect.dieMessage(`${path} could not be written completely; see the errors above`)
        yield* Effect.logInfo(
          `closed ${path} (${mib(s.bytes)} MiB; since startup ${s.records} records, ${s.fsyncs} fsyncs, ${s.rewrites} compactions)`
        )
      })
    )

    return {
      path,
      observer,
      durability,
      rewrite: Effect.flatMap(compaction.startRewrite, (f) => (f === undefined ? Effect.void : Fiber.join(f))),
      stats: () => ({
        bytes: s.bytes,
        baseBytes: s.baseBytes,
        records: s.records,
        writes: s.writes,
        fsyncs: s.fsyncs,
        rewrites: s.rewrites,
        failing: s.failure === undefined ? undefined : { sinceMillis: s.failure.sinceMillis, reason: s.failure.reason },
        failures: s.failures,
        retries: s.retries,
        lastRewriteAt: s.lastRewriteAt,
        lastRewriteSeconds: s.lastRewriteSeconds
      })
    }
  })

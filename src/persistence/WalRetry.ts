/**
 * The failing state of the write-ahead log and its way out. A failed write or fsync (a full disk, an I/O error)
 * makes the log *failing*: everything waiting to be durable fails, write commands are refused up front, and the
 * writer retries with exponential backoff (on the Effect `Clock`) until a retry succeeds:
 *
 *   1. truncate the file to `syncedBytes`, the last offset known durable, which removes a torn record a partial
 *      write left and anything written after it whose fsync did not succeed;
 *   2. write again, in order, what was written after that offset and what was never written (the failed batch,
 *      records appended since: expiries, writes that ran before the failure was seen);
 *   3. fsync (and the directory, if a compaction's rename could not be synced).
 *
 * Then the log is whole, durable and the same as memory, and writes are accepted again. The transitions are
 * logged once each way; single retries at Debug. On shutdown a failing log gets one last retry.
 *
 * Why the failed fsync's bytes are written again rather than fsynced again: after a failed fsync Linux may
 * drop the dirty pages and report success to the next fsync (PostgreSQL's "fsyncgate"), so only bytes written
 * again after the failure can be trusted.
 */
import type { PlatformError } from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import { DurabilityError, failureReason } from "./Durability.js"
import { ioError, type PersistenceError } from "./errors.js"
import type { FsyncScheduler } from "./Fsync.js"
import type { WalState } from "./WalState.js"

/** How often a failing log is retried (`persistence.retry_min_ms`, `persistence.retry_max_ms`). */
export interface RetryOptions {
  /** The first retry's delay; each later one doubles it... */
  readonly minMillis: number
  /** ...up to this. */
  readonly maxMillis: number
}

/** 100 ms, then 200 ms, 400 ms, ... up to 5 s between retries. */
export const defaultRetry: RetryOptions = { minMillis: 100, maxMillis: 5000 }

/** The delays between retries: exponential from `minMillis`, doubling, never more than `maxMillis`. */
export const retrySchedule = (o: RetryOptions): Schedule.Schedule<unknown> =>
  Schedule.union(
    Schedule.exponential(Duration.millis(Math.max(1, o.minMillis)), 2),
    Schedule.spaced(Duration.millis(Math.max(1, o.maxMillis, o.minMillis)))
  )

/**
 * `what` failed with `cause`: the log is failing (see `WalState.fail`). Logs the transition once, not per
 * failed write.
 */
export const failLog = (s: WalState, what: string, cause: unknown): Effect.Effect<void> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    s.fail(what, cause, now)
      ? Effect.logError(
          `write-ahead log cannot be written (${s.failure!.reason}): writes are refused and the log is retried ` +
            "until it can be written; reads go on",
          cause
        )
      : Effect.void
  )

/** One retry: truncate to the durable offset, write everything after it again, fsync. Fails as the file does. */
const attempt = (
  s: WalState,
  sync: (file: FileSystem.File) => Effect.Effect<void, PlatformError>,
  syncDir: Effect.Effect<void, PersistenceError>
): Effect.Effect<void, PlatformError | PersistenceError> =>
  Effect.suspend(() => {
    // Whatever was appended while failing joins the retry, after what failed before it.
    const batch = s.openBatch
    s.openBatch = undefined
    if (s.pending.length > 0) s.unwritten.push(s.pending.take())
    const file = s.current.file
    const data = Buffer.concat([...s.unsynced.map((u) => u.data), ...s.unwritten])
    return Effect.gen(function* () {
      yield* file.truncate(s.syncedBytes)
      if (data.length > 0) yield* file.writeAll(data)
      yield* sync(file)
      if (s.dirUnsynced) yield* syncDir
    }).pipe(
      Effect.onExit((exit) =>
        Effect.sync(() => {
          s.retries += 1
          if (Exit.isFailure(exit)) return s.settle(batch, s.failure)
          s.writes += 1
          s.dirUnsynced = false
          s.resetDurable(s.syncedBytes + data.length)
          s.recovered()
          s.settle(batch)
        })
      )
    )
  })

/**
 * Retries the failing log described by `s` until a retry succeeds (then writes are accepted again), or, once
 * the log is closing, a last retry has failed. Runs in the writer, with no fsync of its own running.
 */
export const recoverLog = (
  s: WalState,
  syncs: FsyncScheduler,
  options: RetryOptions,
  syncDir: Effect.Effect<void, PersistenceError>
): Effect.Effect<void> =>
  Effect.gen(function* () {
    yield* syncs.whenSyncsIdle
    yield* syncs.waitEverysecSync
    const failure = s.failure!
    const driver = yield* Schedule.driver(retrySchedule(options))
    let retries = 0
    while (true) {
      retries += 1
      const exit = yield* Effect.exit(attempt(s, syncs.sync, syncDir))
      if (Exit.isSuccess(exit)) {
        const seconds = ((yield* Clock.currentTimeMillis) - failure.sinceMillis) / 1000
        return yield* Effect.logInfo(
          `write-ahead log can be written again after ${seconds.toFixed(1)} s and ${retries} ` +
            `${retries === 1 ? "retry" : "retries"}: writes are accepted again`
        )
      }
      if (s.closing)
        return yield* Effect.logError(
          `write-ahead log still cannot be written at shutdown: the records not yet logged are lost ` +
            "(none of them was acknowledged)",
          exit.cause
        )
      // The state names the latest error (a full disk may turn into an I/O error): logged when it changes.
      const reason = failureReason(exit.cause)
      if (s.failure !== undefined && reason !== s.failure.reason) {
        const cause = ioError(`cannot write ${s.path}`)(Cause.squash(exit.cause))
        s.failure = new DurabilityError({ cause, reason, sinceMillis: s.failure.sinceMillis })
        yield* Effect.logError(`write-ahead log still cannot be written, now: ${reason}`, exit.cause)
      } else yield* Effect.logDebug(`write-ahead log retry ${retries} failed`, exit.cause)
      // The next retry when the backoff is up, or at once when the server shuts down.
      yield* Effect.raceFirst(Effect.ignore(driver.next(undefined)), Deferred.await(s.closingSignal))
    }
  })

/**
 * When the write-ahead log's writes become durable. With `always`, the writer starts an fsync after each batch
 * and goes on writing while it runs; the batches it covers settle when it ends. With `everysec`, a ticker asks
 * the writer once a second for an fsync, which runs in a fiber of its own. Every fsync of the log or of a
 * compaction's file goes through `sync`, which counts it.
 */
import type { PlatformError } from "@effect/platform/Error"
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Metric from "effect/Metric"
import * as Schedule from "effect/Schedule"
import { fsyncDuration } from "../ops/Histograms.js"
import { syncFile } from "./OpenFile.js"
import { failLog } from "./WalRetry.js"
import type { WalState } from "./WalState.js"

/** When a write counts as durable (`persistence.fsync`). */
export type FsyncPolicy = "always" | "everysec" | "no"

/** The fsyncs of a running log (see the module comment). */
export interface FsyncScheduler {
  /** Makes the bytes written to `file` durable, counting the fsync. */
  readonly sync: (file: FileSystem.File) => Effect.Effect<void, PlatformError>
  /** Completes once no fsync started by `startSync` is running. */
  readonly whenSyncsIdle: Effect.Effect<void>
  /** Starts an fsync covering every write so far; when it ends, the batches up to `upTo` are durable. */
  readonly startSync: (file: FileSystem.File, upTo: number) => void
  /** How many fsyncs started by `startSync` are running. */
  readonly syncsRunning: number
  /** everysec: a second has passed. */
  readonly syncDue: boolean
  /** everysec: an fsync in its own fiber, so the writer goes on writing meanwhile. */
  readonly backgroundSync: Effect.Effect<void>
  /** Completes once the background fsync, if one runs, has ended. */
  readonly waitEverysecSync: Effect.Effect<void>
  /** everysec: sets `syncDue` and wakes the writer every second. */
  readonly ticker: Effect.Effect<number>
}

/** The fsyncs of the log described by `s`; `options.syncMethod` is how (see `WalOptions`). */
export const makeFsyncScheduler = (
  s: WalState,
  options: { readonly syncMethod?: "fdatasync" | "fsync" }
): FsyncScheduler => {
  const path = s.path
  let syncsRunning = 0
  let syncsIdle: Array<() => void> = [] // waiting for syncsRunning to reach 0
  let syncDue = false // everysec: a second has passed
  let syncing: Fiber.RuntimeFiber<void> | undefined // everysec's background fsync

  const sync = (file: FileSystem.File) =>
    Effect.flatMap(Effect.timed(syncFile(file, options.syncMethod)), ([took]) => {
      s.fsyncs += 1
      return Metric.update(fsyncDuration, Duration.toSeconds(took))
    })

  const whenSyncsIdle = Effect.async<void>((resume) => {
    if (syncsRunning === 0) return resume(Effect.void)
    syncsIdle.push(() => resume(Effect.void))
  })

  // Starts an fsync covering every write so far; when it ends, the batches up to `upTo` are durable.
  const startSync = (file: FileSystem.File, upTo: number): void => {
    syncsRunning += 1
    const at = s.bytes
    s.runFork(
      Effect.exit(sync(file)).pipe(
        Effect.flatMap((exit) =>
          Effect.gen(function* () {
            syncsRunning -= 1
            if (Exit.isSuccess(exit)) {
              s.markSynced(at)
              s.settleUpTo(upTo)
            } else yield* failLog(s, `cannot sync ${path}`, exit.cause)
            if (syncsRunning === 0) {
              const idle = syncsIdle
              syncsIdle = []
              for (const f of idle) f()
            }
            s.wake()
          })
        )
      )
    )
  }

  const waitEverysecSync = Effect.suspend(() => (syncing === undefined ? Effect.void : Fiber.await(syncing)))

  // everysec: an fsync in its own fiber, so the writer goes on writing meanwhile.
  const backgroundSync = Effect.sync(() => {
    syncDue = false
    if (!s.dirty || syncing !== undefined || s.failure !== undefined) return
    s.dirty = false
    const at = s.bytes
    syncing = s.runFork(
      sync(s.current.file).pipe(
        Effect.matchEffect({
          onSuccess: () => Effect.sync(() => s.markSynced(at)),
          onFailure: (e) => failLog(s, `cannot sync ${path}`, e)
        }),
        Effect.ensuring(
          Effect.sync(() => {
            syncing = undefined
          })
        )
      )
    )
  })

  const ticker = Effect.repeat(
    Effect.sync(() => {
      syncDue = true
      s.wake()
    }),
    Schedule.spaced("1 second")
  )

  return {
    sync,
    whenSyncsIdle,
    startSync,
    get syncsRunning() {
      return syncsRunning
    },
    get syncDue() {
      return syncDue
    },
    backgroundSync,
    waitEverysecSync,
    ticker
  }
}

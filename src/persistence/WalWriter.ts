/**
 * The write-ahead log's writer: the one fiber that writes to the log. Each time it wakes it takes everything
 * appended since its last write as one batch (group commit) and writes it; between batches it puts a finished
 * compaction in place and starts everysec's fsync. While the log is failing it retries it (`WalRetry.ts`)
 * instead. Once the log is closing it writes what is left and ends with the file synced.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as nodePath from "node:path"
import type { Compaction } from "./Compaction.js"
import { ioError } from "./errors.js"
import { syncDirectory } from "./files.js"
import type { FsyncPolicy, FsyncScheduler } from "./Fsync.js"
import { failLog, recoverLog, type RetryOptions } from "./WalRetry.js"
import type { WalState } from "./WalState.js"

// With `always`, how many fsyncs may run at once. An fsync covers every write made before it started, so the
// next batch is written and its fsync started while the previous one is still running: connections that
// arrive during an fsync need not wait for it to end first (disks complete overlapping flushes together).
const MAX_SYNCS = 2

/** The writer of the log described by `s`: runs until the log is closing and everything appended is written. */
export const makeWriter = (
  fs: FileSystem.FileSystem,
  s: WalState,
  syncs: FsyncScheduler,
  compaction: Compaction,
  policy: FsyncPolicy,
  retry: RetryOptions
): Effect.Effect<void> => {
  const path = s.path
  const { sync, startSync, whenSyncsIdle, waitEverysecSync, backgroundSync } = syncs
  const { doSwitch, maybeRewrite } = compaction
  const recover = recoverLog(s, syncs, retry, syncDirectory(fs, nodePath.dirname(path)))

  // Writes everything appended so far as one batch, then (with `always`, or when closing) starts its fsync.
  const writeBatch = Effect.gen(function* () {
    const data = s.pending.take()
    const batch = s.openBatch
    s.openBatch = undefined
    if (batch !== undefined) s.unsettled.push(batch)
    const exit = yield* Effect.exit(s.current.file.writeAll(data))
    s.writes += 1
    if (Exit.isFailure(exit)) {
      // Kept for the retry, which first truncates away whatever part of it reached the file.
      s.unwritten.push(data)
      return yield* failLog(s, `cannot write ${path}`, exit.cause)
    }
    s.bytes += data.length
    s.written(data, policy !== "no")
    if (policy === "always" || s.closing) startSync(s.current.file, batch?.seq ?? s.seq)
    else {
      s.dirty = true
      if (batch !== undefined) s.settleUpTo(batch.seq)
    }
  })

  const retrying = () => s.failure !== undefined && !s.closed
  const canWrite = () => s.pending.length > 0 && syncs.syncsRunning < MAX_SYNCS
  const waitForWork = Effect.async<void>((resume) => {
    if (
      retrying() ||
      canWrite() ||
      s.switchRequest !== undefined ||
      syncs.syncDue ||
      (s.closing && s.pending.length === 0)
    )
      return resume(Effect.void)
    s.wakeWriter = () => resume(Effect.void)
    return Effect.sync(() => {
      s.wakeWriter = undefined
    })
  })

  return Effect.gen(function* () {
    while (true) {
      yield* waitForWork
      if (s.callbackDefects.length > 0)
        yield* Effect.logError("a durability callback threw", s.callbackDefects.splice(0))
      if (retrying()) {
        yield* recover
        // Still failing: the log is closing and its last retry failed.
        if (s.failure !== undefined) break
        continue
      }
      if (s.switchRequest !== undefined) {
        if (s.closing) {
          const req = s.switchRequest
          s.switchRequest = undefined
          s.capture = undefined
          Deferred.unsafeDone(req.done, Exit.fail(ioError("compaction abandoned")("the server is shutting down")))
        } else yield* doSwitch(s.switchRequest)
        continue
      }
      if (canWrite()) {
        yield* writeBatch
        if (s.failure === undefined) yield* maybeRewrite
        continue
      }
      if (s.closing && s.pending.length === 0) break
      if (syncs.syncDue) yield* backgroundSync
    }
    // Shutting down: whatever the policy, the log ends synced.
    yield* whenSyncsIdle
    yield* waitEverysecSync
    if (s.dirty && s.failure === undefined) {
      const at = s.bytes
      const exit = yield* Effect.exit(sync(s.current.file))
      if (Exit.isSuccess(exit)) s.markSynced(at)
      else yield* failLog(s, `cannot sync ${path} at shutdown`, exit.cause)
    }
  })
}

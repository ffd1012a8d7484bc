/**
 * What the parts of a running write-ahead log share (see `Wal.ts`): the file and its counters, the records
 * appended but not yet written, the batches on their way to disk, what is written but not yet known durable
 * (kept to be written again after a failure), and the failing state. Settling batches and entering or leaving
 * the failing state live here, so that they happen the same way whichever part triggers them.
 */
import * as Deferred from "effect/Deferred"
import type * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberId from "effect/FiberId"
import type { Batch } from "./Batch.js"
import { DurabilityError, failureReason } from "./Durability.js"
import { ioError, type PersistenceError } from "./errors.js"
import type { OpenFile } from "./OpenFile.js"
import { RecordWriter } from "./Record.js"

/** Starts a background fiber with the log's runtime. */
export type RunFork = <A, E>(effect: Effect.Effect<A, E>) => Fiber.RuntimeFiber<A, E>

/** A compaction's request to the writer to put its file in place of the log. */
export interface SwitchRequest {
  readonly tmp: OpenFile
  /** Bytes already in the temporary file. */
  tmpBytes: number
  readonly done: Deferred.Deferred<void, PersistenceError>
  /** Set once the temporary file has become the log (its handle then belongs to the writer). */
  adopted: boolean
}

/** See the module comment. */
export class WalState {
  /** The log file being appended to. */
  current: OpenFile
  bytes: number
  baseBytes: number
  records = 0
  writes = 0
  fsyncs = 0
  rewrites = 0
  failures = 0 // times the log entered the failing state
  retries = 0 // retries of a failing log
  /** When the last compaction completed (epoch nanoseconds, Effect Clock), and how long it took. */
  lastRewriteAt: bigint | undefined = undefined
  lastRewriteSeconds = 0

  readonly pending = new RecordWriter()
  seq = 0
  openBatch: Batch | undefined // settles once the records in `pending` are durable
  readonly unsettled: Array<Batch> = [] // taken by the writer, in log order, not yet durable

  /**
   * Where the file is known to be as durable as the policy promises (fsynced with `always`/`everysec`, written
   * with `no`): a retry after a failure truncates the file here, so no torn or doubled record can remain.
   */
  syncedBytes: number
  /** Written after `syncedBytes`, in order, each with the file offset it ends at: written again by a retry. */
  readonly unsynced: Array<{ readonly end: number; readonly data: Uint8Array }> = []
  /** Taken from `pending` but not written (a failed write, or appended while failing): written by a retry. */
  unwritten: Array<Uint8Array> = []
  /**
   * Set while the log cannot be written (until a retry succeeds), or for good once it is closed: every
   * waiting batch has failed with it, and writes are refused up front (see `Durability.failure`).
   */
  failure: DurabilityError | undefined
  /** The log is closed (the writer ended): the failure is final, no retry. */
  closed = false
  /** The directory entry of a compacted log could not be synced: a retry syncs it. */
  dirUnsynced = false
  capture: RecordWriter | undefined // during a compaction: every record since its snapshot
  switchRequest: SwitchRequest | undefined
  closing = false
  /** Completed when the log starts closing (cuts a retry's backoff short). */
  readonly closingSignal: Deferred.Deferred<void> = Deferred.unsafeMake(FiberId.none)
  dirty = false // written since the last fsync
  wakeWriter: (() => void) | undefined
  readonly callbackDefects: Array<unknown> = []

  // True while a write or fsync failed and no retry has succeeded: then the shutdown cannot report success.
  ioFailed = false

  /**
   * @param path the log file
   * @param runFork background fibers run with the layer's context (its logger), whoever starts them
   * @param current the log, open for appending
   * @param bytes its size
   */
  constructor(
    readonly path: string,
    readonly runFork: RunFork,
    current: OpenFile,
    bytes: number
  ) {
    this.current = current
    this.bytes = bytes
    this.baseBytes = bytes
    this.syncedBytes = bytes
  }

  /** Wakes the writer if it waits for work. */
  wake(): void {
    const w = this.wakeWriter
    if (w === undefined) return
    this.wakeWriter = undefined
    w()
  }

  settle(batch: Batch | undefined, error?: DurabilityError): void {
    if (batch !== undefined) this.callbackDefects.push(...batch.settle(error))
  }

  /** Settles, in order, every unsettled batch up to `upTo` (all of them when undefined). */
  settleUpTo(upTo: number | undefined, error?: DurabilityError): void {
    const unsettled = this.unsettled
    while (unsettled.length > 0 && (upTo === undefined || unsettled[0]!.seq <= upTo))
      this.settle(unsettled.shift(), error)
  }

  /** A successful write of `data`, ending at `this.bytes`: kept until an fsync covers it (not with `no`). */
  written(data: Uint8Array, keep: boolean): void {
    if (keep) this.unsynced.push({ end: this.bytes, data })
    else this.markSynced(this.bytes)
  }

  /** An fsync that started when the file was `upTo` bytes long has succeeded: those bytes are durable. */
  markSynced(upTo: number): void {
    if (upTo <= this.syncedBytes) return
    this.syncedBytes = upTo
    const unsynced = this.unsynced
    let n = 0
    while (n < unsynced.length && unsynced[n]!.end <= upTo) n++
    if (n > 0) unsynced.splice(0, n)
  }

  /** The file is now whole and durable up to `bytes` (a retry or a compaction put it so). */
  resetDurable(bytes: number): void {
    this.bytes = bytes
    this.syncedBytes = bytes
    this.unsynced.length = 0
    this.unwritten = []
    this.dirty = false
  }

  /**
   * The log cannot be written (`what` failed with `cause`, at `nowMillis`): unless already failing, enters the
   * failing state and wakes the writer to retry; fails everything that waits either way (nothing that is not in
   * the file is acknowledged). True when this call started the failing state (the caller logs it, once).
   */
  fail(what: string, cause: unknown, nowMillis: number): boolean {
    this.ioFailed = true
    const entered = this.failure === undefined
    if (entered) {
      this.failures += 1
      const error = ioError(what)(cause)
      this.failure = new DurabilityError({ cause: error, reason: failureReason(cause), sinceMillis: nowMillis })
    }
    this.failWaiters(this.failure!)
    this.wake()
    return entered
  }

  /** The writer has ended: nothing can be written any more, and that is final. */
  close(what: string, cause: unknown, nowMillis: number): void {
    this.closed = true
    this.failure ??= new DurabilityError({
      cause: ioError(what)(cause),
      reason: "the log is closed",
      sinceMillis: nowMillis
    })
    this.failWaiters(this.failure)
  }

  /** A retry has written everything: writes are accepted again. */
  recovered(): void {
    this.failure = undefined
    this.ioFailed = false
  }

  private failWaiters(error: DurabilityError): void {
    this.settleUpTo(undefined, error)
    const open = this.openBatch
    this.openBatch = undefined
    this.settle(open, error)
  }
}

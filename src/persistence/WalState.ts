/**
 * What the parts of a running write-ahead log share (see `Wal.ts`): the file and its counters, the records
 * appended but not yet written, the batches on their way to disk, and the sticky failure. Settling batches and
 * failing live here, so that they happen the same way whichever part triggers them.
 */
import type * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import type { Batch } from "./Batch.js"
import { DurabilityError } from "./Durability.js"
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
  /** When the last compaction completed (epoch nanoseconds, Effect Clock), and how long it took. */
  lastRewriteAt: bigint | undefined = undefined
  lastRewriteSeconds = 0

  readonly pending = new RecordWriter()
  seq = 0
  openBatch: Batch | undefined // settles once the records in `pending` are durable
  readonly unsettled: Array<Batch> = [] // taken by the writer, in log order, not yet durable
  failure: DurabilityError | undefined
  failed: Effect.Effect<never, DurabilityError> | undefined
  capture: RecordWriter | undefined // during a compaction: every record since its snapshot
  switchRequest: SwitchRequest | undefined
  closing = false
  dirty = false // written since the last fsync
  wakeWriter: (() => void) | undefined
  readonly callbackDefects: Array<unknown> = []

  // True once a write or fsync failed: then the shutdown cannot report success.
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

  /** Makes the failure sticky and fails everything that waits: nothing after a failed write is acknowledged. */
  fail(what: string, cause: unknown, io = true): DurabilityError {
    this.ioFailed ||= io
    if (this.failure === undefined) {
      this.failure = new DurabilityError({ cause: ioError(what)(cause) })
      this.failed = Effect.fail(this.failure)
    }
    this.settleUpTo(undefined, this.failure)
    const open = this.openBatch
    this.openBatch = undefined
    this.settle(open, this.failure)
    return this.failure
  }
}

/**
 * Reading a log file from start to end, record by record, in chunks (a log may be far larger than memory would
 * like). How the reading stops decides what a restart does:
 *
 * - the end of the file after a whole record: all good;
 * - a record cut short by the end of the file, a damaged header followed only by zero bytes, or a last record
 *   whose checksum fails and which ends exactly at the end of the file: a *torn tail*, what a crash in the
 *   middle of a write leaves behind. It was never acknowledged (an acknowledged record is whole and synced), so
 *   it is dropped with a warning;
 * - any other bad record: *corruption*, which stops startup with `WalCorrupt` naming the file and offset.
 *
 * Progress (records/s) is reported about once a second for logs that take longer than that.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { ioError, type PersistenceError, WalCorrupt } from "./errors.js"
import { decodeRecord, HEADER_BYTES, MAGIC, type WalRecord } from "./Record.js"

const CHUNK_BYTES = 1024 * 1024

/** How a scan went. */
export interface ScanResult {
  /** Whole records read. */
  readonly records: number
  /** The size of the file. */
  readonly fileBytes: number
  /** Where the sound part of the file ends (the file's size unless a tail was torn): appending continues here. */
  readonly goodBytes: number
  /** The dropped torn tail, if any: where it starts and why it counts as torn. */
  readonly torn: { readonly offset: number; readonly reason: string } | undefined
  /** False when the file is empty or holds only part of the magic (a crash right after creating it). */
  readonly hasMagic: boolean
}

/** Progress while scanning a large file. */
export interface ScanProgress {
  readonly records: number
  readonly bytes: number
  readonly fileBytes: number
  readonly recordsPerSecond: number
}

/** What to do along the way. */
export interface ScanOptions {
  /** Called with every whole record, in file order. */
  readonly onRecord: (record: WalRecord) => void
  /** Called about once a second while the scan runs. */
  readonly onProgress?: (progress: ScanProgress) => Effect.Effect<void>
}

/** Reads `path` (which must exist) record by record. Fails with `WalCorrupt` at the first corrupt record. */
export const scanLog = (
  fs: FileSystem.FileSystem,
  path: string,
  options: ScanOptions
): Effect.Effect<ScanResult, WalCorrupt | PersistenceError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const file = yield* fs.open(path, { flag: "r" }).pipe(Effect.mapError(ioError(`cannot open ${path}`)))
      const fileBytes = Number((yield* file.stat.pipe(Effect.mapError(ioError(`cannot stat ${path}`)))).size)
      const readError = ioError(`cannot read ${path}`)

      // Reads `want` bytes at `position` (fewer at the end of the file).
      const readAt = (position: number, want: number) =>
        Effect.gen(function* () {
          yield* file.seek(position, "start")
          const buf = Buffer.allocUnsafe(Math.max(0, Math.min(want, fileBytes - position)))
          let got = 0
          while (got < buf.length) {
            const n = Number(yield* file.read(buf.subarray(got)).pipe(Effect.mapError(readError)))
            if (n === 0) break
            got += n
          }
          return buf.subarray(0, got)
        })

      const corrupt = (offset: number, detail: string) => new WalCorrupt({ path, offset, detail })

      const head = yield* readAt(0, MAGIC.length)
      if (head.length < MAGIC.length) {
        if (MAGIC.subarray(0, head.length).equals(head))
          return { records: 0, fileBytes, goodBytes: 0, torn: undefined, hasMagic: false }
        return yield* corrupt(0, "not a fleare-ts log: bad magic")
      }
      if (!head.equals(MAGIC)) return yield* corrupt(0, "not a fleare-ts log: bad magic")

      // True when every byte from `offset` to the end of the file is zero (a file extended but never written).
      const zeroFrom = (offset: number) =>
        Effect.gen(function* () {
          for (let p = offset; p < fileBytes; p += CHUNK_BYTES) {
            const chunk = yield* readAt(p, CHUNK_BYTES)
            for (let i = 0; i < chunk.length; i++) if (chunk[i] !== 0) return false
          }
          return true
        })

      let records = 0
      let offset = MAGIC.length // file offset of the next record
      let window: Buffer = Buffer.alloc(0) // file bytes from `windowStart`
      let windowStart = offset
      const started = yield* Clock.currentTimeMillis
      let lastReport = started

      const done = (torn: ScanResult["torn"]): ScanResult => ({
        records,
        fileBytes,
        goodBytes: torn === undefined ? fileBytes : torn.offset,
        torn,
        hasMagic: true
      })

      while (true) {
        const at = offset - windowStart
        const d = decodeRecord(window, at, window.length)
        switch (d._tag) {
          case "Record":
            options.onRecord(d.record)
            records += 1
            offset += d.size
            continue
          case "Incomplete": {
            if (offset === fileBytes) return done(undefined)
            if (offset + d.needed > fileBytes) {
              const reason =
                d.needed === HEADER_BYTES
                  ? `${fileBytes - offset} bytes of a record header at the end of the file`
                  : `a record of ${d.needed} bytes cut short by the end of the file`
              return done({ offset, reason })
            }
            // Keep the unread bytes and read on; a record larger than a chunk gets a window of its size.
            const next = yield* readAt(
              windowStart + window.length,
              Math.max(CHUNK_BYTES, d.needed - (window.length - at))
            )
            if (next.length === 0) return done({ offset, reason: "the file ended while it was read" })
            window = Buffer.concat([window.subarray(at), next])
            windowStart = offset
            if (options.onProgress !== undefined) {
              const now = yield* Clock.currentTimeMillis
              if (now - lastReport >= 1000) {
                lastReport = now
                yield* options.onProgress({
                  records,
                  bytes: offset,
                  fileBytes,
                  recordsPerSecond: Math.round((records * 1000) / Math.max(1, now - started))
                })
              }
            }
            continue
          }
          case "BadHeader":
            if (yield* zeroFrom(offset)) return done({ offset, reason: "zero bytes where a record should start" })
            return yield* corrupt(offset, "damaged record header")
          case "BadChecksum":
            if (offset + d.size === fileBytes)
              return done({ offset, reason: "the last record's checksum fails (a partial write)" })
            return yield* corrupt(offset, "checksum mismatch")
          case "BadPayload":
            return yield* corrupt(offset, d.detail)
        }
      }
    })
  )

/**
 * File steps shared by the log, snapshots and backups: syncing a directory (so a rename survives a crash),
 * replacing a file atomically, and time stamps for file names that sort in time order.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import * as nodePath from "node:path"
import { ioError, type PersistenceError } from "./errors.js"
import { MAGIC, RecordWriter } from "./Record.js"
import type { Entry } from "../store/Keyspace.js"

/** Fsyncs a directory, which makes the creation, rename or removal of its entries durable. */
export const syncDirectory = (fs: FileSystem.FileSystem, dir: string): Effect.Effect<void, PersistenceError> =>
  Effect.scoped(Effect.flatMap(fs.open(dir, { flag: "r" }), (d) => d.sync)).pipe(
    Effect.mapError(ioError(`cannot sync directory ${dir}`))
  )

/** Renames `from` over `to` and syncs the directory: afterwards `to` is the new file, even across a crash. */
export const renameDurably = (
  fs: FileSystem.FileSystem,
  from: string,
  to: string
): Effect.Effect<void, PersistenceError> =>
  fs
    .rename(from, to)
    .pipe(
      Effect.mapError(ioError(`cannot rename ${from} to ${to}`)),
      Effect.zipRight(syncDirectory(fs, nodePath.dirname(to)))
    )

const pad = (n: number, width: number): string => String(n).padStart(width, "0")

/**
 * Epoch nanoseconds as `20260127T112638.578218309Z` (UTC, fixed width, so names sort in time order). Takes the
 * time from the caller (the Effect Clock).
 */
export const fileStamp = (epochNanos: bigint): string => {
  const millis = Number(epochNanos / 1_000_000n)
  const d = new Date(millis) // formatting a Clock time, not reading the system time
  const date = `${pad(d.getUTCFullYear(), 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}`
  const time = `${pad(d.getUTCHours(), 2)}${pad(d.getUTCMinutes(), 2)}${pad(d.getUTCSeconds(), 2)}`
  return `${date}T${time}.${pad(Number(epochNanos % 1_000_000_000n), 9)}Z`
}

const SNAPSHOT_CHUNK_BYTES = 1024 * 1024

/**
 * Writes a snapshot (the magic, then a SET record per entry) to an open file, a chunk at a time so clients run
 * between chunks. Entries already expired at `now` are left out. Returns the bytes written.
 */
export const writeSnapshot = (
  file: FileSystem.File,
  entries: ReadonlyArray<readonly [string, Entry]>,
  now: bigint,
  what: string
): Effect.Effect<number, PersistenceError> =>
  Effect.gen(function* () {
    const writeError = ioError(`cannot write ${what}`)
    const w = new RecordWriter(SNAPSHOT_CHUNK_BYTES + 64 * 1024)
    w.append(MAGIC)
    let written = 0
    for (const [key, entry] of entries) {
      if (entry.expiresAt !== 0n && entry.expiresAt <= now) continue
      w.set(key, entry.value, entry.expiresAt)
      if (w.length >= SNAPSHOT_CHUNK_BYTES) {
        const chunk = w.take()
        yield* file.writeAll(chunk).pipe(Effect.mapError(writeError))
        written += chunk.length
      }
    }
    const rest = w.take()
    // writeAll fails on an empty buffer (it reports a zero-byte write).
    if (rest.length > 0) yield* file.writeAll(rest).pipe(Effect.mapError(writeError))
    return written + rest.length
  })

/**
 * Writes `entries` as a snapshot file at `path`, crash-safely: to `path.tmp`, fsync, rename, fsync the
 * directory. A crash leaves either no file or the whole one (and maybe a stale `.tmp`).
 */
export const writeSnapshotFile = (
  fs: FileSystem.FileSystem,
  path: string,
  entries: ReadonlyArray<readonly [string, Entry]>,
  now: bigint
): Effect.Effect<number, PersistenceError> =>
  Effect.gen(function* () {
    const tmp = `${path}.tmp`
    const bytes = yield* Effect.scoped(
      Effect.gen(function* () {
        const file = yield* fs.open(tmp, { flag: "w" }).pipe(Effect.mapError(ioError(`cannot create ${tmp}`)))
        const n = yield* writeSnapshot(file, entries, now, tmp)
        yield* file.sync.pipe(Effect.mapError(ioError(`cannot sync ${tmp}`)))
        return n
      })
    ).pipe(Effect.tapError(() => Effect.ignore(fs.remove(tmp))))
    yield* renameDurably(fs, tmp, path)
    return bytes
  })

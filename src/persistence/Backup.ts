/**
 * Periodic backups (`backup.enable`, `backup.interval_minutes`, `backup.backup_dir`, `backup.keep`): every
 * interval, a consistent point-in-time snapshot of the keyspace (a frozen list of entries, whose values the
 * keyspace copies before changing them in place) is written crash-safely to `<backup_dir>/fleare-<UTC
 * time>.backup`, and only the newest `keep` backups are kept. A backup is a log holding only SET records, so
 * `--restore <file>` loads it like any log.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as nodePath from "node:path"
import type { KeyspaceShape } from "../store/Keyspace.js"
import { ioError, type PersistenceError } from "./errors.js"
import { fileStamp, writeSnapshotFile } from "./files.js"

const BACKUP_NAME = /^fleare-\d{8}T\d{6}\.\d{9}Z\.backup$/

/** How backups are made. */
export interface BackupOptions {
  readonly dir: string
  /** Backups to keep (the oldest go first). */
  readonly keep: number
}

/** A backup that was written. */
export interface BackupResult {
  readonly path: string
  readonly keys: number
  readonly bytes: number
  /** Backups removed to keep only `keep`. */
  readonly removed: ReadonlyArray<string>
}

/** Writes one backup of `keyspace` now and removes the oldest beyond `keep`. */
export const backupOnce = (
  fs: FileSystem.FileSystem,
  keyspace: KeyspaceShape,
  options: BackupOptions
): Effect.Effect<BackupResult, PersistenceError> =>
  Effect.gen(function* () {
    const dir = nodePath.resolve(options.dir)
    yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(ioError(`cannot create ${dir}`)))
    const now = yield* Clock.currentTimeNanos
    const image = Array.from(keyspace.entries(now))
    const path = nodePath.join(dir, `fleare-${fileStamp(now)}.backup`)
    const bytes = yield* writeSnapshotFile(fs, path, image, now)
    const names = (yield* fs.readDirectory(dir).pipe(Effect.mapError(ioError(`cannot list ${dir}`))))
      .filter((n) => BACKUP_NAME.test(n))
      .sort()
    const removed: Array<string> = []
    for (const name of names.slice(0, Math.max(0, names.length - options.keep))) {
      const old = nodePath.join(dir, name)
      yield* fs.remove(old).pipe(Effect.mapError(ioError(`cannot remove ${old}`)))
      removed.push(old)
    }
    return { path, keys: image.length, bytes, removed }
  })

/** Makes a backup every `interval`, the first one an interval after the start, until interrupted. */
export const runBackups = (
  fs: FileSystem.FileSystem,
  keyspace: KeyspaceShape,
  options: BackupOptions & { readonly interval: Duration.DurationInput }
): Effect.Effect<never> =>
  Effect.forever(
    Effect.sleep(options.interval).pipe(
      Effect.zipRight(backupOnce(fs, keyspace, options)),
      Effect.tap((r) =>
        Effect.logInfo(`backup written: ${r.path} (${r.keys} keys, ${(r.bytes / (1024 * 1024)).toFixed(1)} MiB)`)
      ),
      Effect.catchAll((e) => Effect.logError(`backup failed: ${e.message}`)),
      Effect.catchAllDefect((d) => Effect.logError("backup failed", d))
    )
  )

/**
 * Persistence from the configuration, as one layer: with `persistence.enable`, recover the keyspace from
 * `<persistence.path>/fleare.wal` (before the server listens), then log every change to it and provide the
 * `Durability` barrier that connections wait on; without it, `Durability.none`. `backup.enable` adds the
 * periodic backups. The command line's `--repair` and `--restore <file>` arrive as `PersistenceOptions`
 * (optional: embedders and tests need not provide it).
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as nodePath from "node:path"
import { ServerConfig } from "../config/ServerConfig.js"
import { Keyspace, type KeyspaceShape } from "../store/Keyspace.js"
import { runBackups } from "./Backup.js"
import { lockDirectory } from "./DirLock.js"
import { Durability } from "./Durability.js"
import { ioError, type PersistenceError, type WalCorrupt } from "./errors.js"
import { fileStamp, renameDurably, syncDirectory } from "./files.js"
import { MAGIC } from "./Record.js"
import { readLog, recover, ReplayState } from "./Replay.js"
import { makeWal, type WalShape } from "./Wal.js"

/** The log's file name inside `persistence.path`. */
export const LOG_FILE = "fleare.wal"

/** Startup choices from the command line. */
export interface PersistenceOptionsShape {
  /** Truncate a corrupt log at its first bad record (keeping a copy) instead of refusing to start. */
  readonly repair: boolean
  /** Start from this log, snapshot or backup file: it replaces the log (kept as a copy), or with persistence off
   * is loaded into memory. */
  readonly restore: string | undefined
}

export class PersistenceOptions extends Context.Tag("fleare/PersistenceOptions")<
  PersistenceOptions,
  PersistenceOptionsShape
>() {
  static layer = (options: PersistenceOptionsShape): Layer.Layer<PersistenceOptions> =>
    Layer.succeed(PersistenceOptions, options)
}

/** The running persistence: the log when `persistence.enable` is on. */
export interface PersistenceShape {
  readonly wal: WalShape | undefined
}

export class Persistence extends Context.Tag("fleare/Persistence")<Persistence, PersistenceShape>() {
  /** Recovery, the log, `Durability` and backups, all from the configuration. */
  static layerConfig: Layer.Layer<
    Persistence | Durability,
    WalCorrupt | PersistenceError,
    ServerConfig | Keyspace | FileSystem.FileSystem
  > = Layer.scopedContext(
    Effect.gen(function* () {
      const p = yield* make
      return Context.make(Persistence, p).pipe(
        Context.add(Durability, p.wal === undefined ? Durability.none : p.wal.durability)
      )
    })
  )
}

const make = Effect.gen(function* () {
  const config = yield* ServerConfig
  const keyspace = yield* Keyspace
  const fs = yield* FileSystem.FileSystem
  const options = Option.getOrElse(yield* Effect.serviceOption(PersistenceOptions), () => ({
    repair: false,
    restore: undefined
  }))
  const { persistence, backup } = config
  let wal: WalShape | undefined
  if (persistence.enable) {
    const dir = nodePath.resolve(persistence.path)
    const path = nodePath.join(dir, LOG_FILE)
    yield* fs.makeDirectory(dir, { recursive: true }).pipe(Effect.mapError(ioError(`cannot create ${dir}`)))
    // Before anything in the directory is touched; released after the log is closed (finalizers run in reverse).
    yield* lockDirectory(fs, dir)
    // A compaction the last run did not finish: the log itself is complete.
    const stale = `${path}.rewrite`
    if (yield* exists(fs, stale)) {
      yield* fs.remove(stale).pipe(Effect.mapError(ioError(`cannot remove ${stale}`)))
      yield* Effect.logInfo(`removed ${stale}, left by a compaction that did not finish`)
    }
    const restore = options.restore === undefined ? undefined : nodePath.resolve(options.restore)
    if (restore !== undefined && restore !== path) yield* installRestore(fs, restore, path)
    if (!(yield* exists(fs, path))) {
      yield* fs.writeFile(path, MAGIC).pipe(Effect.mapError(ioError(`cannot create ${path}`)))
      yield* syncDirectory(fs, dir)
    }
    yield* recover(fs, path, keyspace, { repair: options.repair })
    wal = yield* makeWal(fs, {
      path,
      fsync: persistence.fsync,
      rewriteMinBytes: persistence.rewrite_min_bytes,
      rewritePercentage: persistence.rewrite_percentage,
      keyspace,
      retry: { minMillis: persistence.retry_min_ms, maxMillis: persistence.retry_max_ms }
    })
    keyspace.observe(wal.observer)
    // Runs before the log's own close: changes after this are not logged (none come: connections are done).
    yield* Effect.addFinalizer(() => Effect.sync(() => keyspace.observe(undefined)))
    yield* Effect.logInfo(`persistence on: ${path}, fsync ${persistence.fsync}`)
  } else if (options.restore !== undefined) {
    yield* loadRestore(fs, nodePath.resolve(options.restore), keyspace)
  }
  if (backup.enable)
    yield* Effect.forkScoped(
      runBackups(fs, keyspace, {
        dir: backup.backup_dir,
        keep: backup.keep,
        interval: Duration.minutes(backup.interval_minutes)
      })
    )
  return { wal }
})

const exists = (fs: FileSystem.FileSystem, path: string) =>
  fs.exists(path).pipe(Effect.mapError(ioError(`cannot access ${path}`)))

// Checks that `file` reads to its end without corruption; returns the state it describes.
const readWhole = (fs: FileSystem.FileSystem, file: string) =>
  Effect.gen(function* () {
    const state = new ReplayState()
    const scan = yield* readLog(fs, file, state)
    if (scan.torn !== undefined)
      yield* Effect.logWarning(`${file} ends with a torn record at byte offset ${scan.torn.offset}; it is ignored`)
    return state
  })

// Makes the restore file the log: the current log (if any) is kept as `<log>.before-restore-<time>`.
const installRestore = (fs: FileSystem.FileSystem, file: string, path: string) =>
  Effect.gen(function* () {
    const state = yield* readWhole(fs, file)
    const stamp = fileStamp(yield* Clock.currentTimeNanos)
    if (yield* exists(fs, path)) {
      const kept = `${path}.before-restore-${stamp}`
      yield* renameDurably(fs, path, kept)
      yield* Effect.logInfo(`restore: kept the previous log as ${kept}`)
    }
    const tmp = `${path}.restore`
    yield* fs.copyFile(file, tmp).pipe(Effect.mapError(ioError(`cannot copy ${file}`)))
    yield* Effect.scoped(Effect.flatMap(fs.open(tmp, { flag: "r+" }), (f) => f.sync)).pipe(
      Effect.mapError(ioError(`cannot sync ${tmp}`))
    )
    yield* renameDurably(fs, tmp, path)
    yield* Effect.logInfo(`restore: ${file} (${state.size} keys) is now the log`)
  })

// With persistence off: the restore file goes straight into memory.
const loadRestore = (fs: FileSystem.FileSystem, file: string, keyspace: KeyspaceShape) =>
  Effect.gen(function* () {
    const state = yield* readWhole(fs, file)
    const keys = state.loadInto(keyspace, yield* Clock.currentTimeNanos)
    yield* Effect.logInfo(`restore: loaded ${keys} keys from ${file} (persistence is off: changes are not saved)`)
  })

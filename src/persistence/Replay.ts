/**
 * Recovery: rebuilding the keyspace from a log before the server accepts connections.
 *
 * The rules: records apply in file order to a staging map in which nothing expires (a key whose TTL passed
 * mid-log may still be given a new expiry, or none, by a later record); then every entry still live at the
 * current time goes into the keyspace with its absolute expiry, so a key whose TTL elapsed while the server was
 * down stays gone and a live one keeps exactly the time it had left. A torn tail is cut off the file with a
 * warning; corruption stops startup unless `repair` is set, which keeps a copy of the file, truncates it at the
 * first bad record and goes on with the records before it.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { Entry, KeyspaceShape } from "../store/Keyspace.js"
import { applyMutation, appliesTo } from "../store/Mutation.js"
import type { Value } from "../store/Value.js"
import { ioError, type PersistenceError, type WalCorrupt } from "./errors.js"
import { fileStamp, syncDirectory } from "./files.js"
import { type ScanResult, scanLog } from "./LogFile.js"
import { MAGIC, type WalRecord } from "./Record.js"
import * as nodePath from "node:path"
import { mib } from "./sizes.js"

/** The state a log describes: every key's last value and absolute expiry, as the records left them. */
export class ReplayState {
  private readonly map = new Map<string, { readonly value: Value; readonly expiresAt: bigint }>()
  /** Records applied. */
  records = 0

  /** Applies one record (nothing expires while replaying). */
  readonly apply = (r: WalRecord): void => {
    this.records += 1
    switch (r.op) {
      case "set":
        this.map.set(r.key, { value: r.value, expiresAt: r.expiresAt })
        return
      case "delete":
        this.map.delete(r.key)
        return
      case "expire": {
        const e = this.map.get(r.key)
        if (e !== undefined) this.map.set(r.key, { value: e.value, expiresAt: r.expiresAt })
        return
      }
      case "mutate": {
        // The values here were decoded for this replay alone: they are changed in place, as the keyspace did.
        const e = this.map.get(r.key)
        if (e !== undefined && appliesTo(e.value, r.change))
          this.map.set(r.key, { value: applyMutation(e.value, r.change), expiresAt: r.expiresAt })
        return
      }
    }
  }

  /** Keys held, expired ones included. */
  get size(): number {
    return this.map.size
  }

  /** The entries, expired ones included. */
  entries(): IterableIterator<readonly [string, Entry]> {
    return this.map.entries()
  }

  /** Stores every entry live at `now` into `keyspace`; returns how many. */
  loadInto(keyspace: KeyspaceShape, now: bigint): number {
    let loaded = 0
    for (const [key, e] of this.map) {
      if (e.expiresAt !== 0n && e.expiresAt <= now) continue
      keyspace.restore(key, e.value, e.expiresAt, now)
      loaded += 1
    }
    return loaded
  }
}

/** What a recovery found. */
export interface RecoverResult {
  readonly scan: ScanResult
  /** Keys loaded into the keyspace. */
  readonly keys: number
  /** Where the damaged file was copied when `repair` truncated it. */
  readonly repairedCopy: string | undefined
}

/**
 * Reads the log at `path` into a `ReplayState`, with a progress line about once a second. Fails with `WalCorrupt`
 * at the first corrupt record.
 */
export const readLog = (
  fs: FileSystem.FileSystem,
  path: string,
  state: ReplayState
): Effect.Effect<ScanResult, WalCorrupt | PersistenceError> =>
  scanLog(fs, path, {
    onRecord: state.apply,
    onProgress: (p) =>
      Effect.logInfo(
        `replaying ${path}: ${p.records} records, ${mib(p.bytes)} of ${mib(p.fileBytes)} MiB ` +
          `(${p.recordsPerSecond} records/s)`
      )
  })

/**
 * Recovers the keyspace from the log at `path` (which must exist) and leaves the file ready for appending: a torn
 * tail is cut off, a file without its magic gets one, and with `repair` a corrupt file is truncated at its
 * first bad record (after copying it to `<path>.corrupt-<time>`).
 */
export const recover = (
  fs: FileSystem.FileSystem,
  path: string,
  keyspace: KeyspaceShape,
  options: { readonly repair: boolean }
): Effect.Effect<RecoverResult, WalCorrupt | PersistenceError> =>
  Effect.gen(function* () {
    const started = yield* Clock.currentTimeMillis
    const state = new ReplayState()
    let repairedCopy: string | undefined
    const scan = yield* readLog(fs, path, state).pipe(
      Effect.catchTag(
        "WalCorrupt",
        (e): Effect.Effect<ScanResult, WalCorrupt | PersistenceError> =>
          options.repair
            ? Effect.gen(function* () {
                repairedCopy = `${path}.corrupt-${fileStamp(yield* Clock.currentTimeNanos)}`
                yield* fs.copyFile(path, repairedCopy).pipe(Effect.mapError(ioError(`cannot copy ${path}`)))
                yield* Effect.logWarning(
                  `repair: ${e.message}; copied the file to ${repairedCopy} and truncated it at byte ${e.offset}`
                )
                const fileBytes = Number(
                  (yield* fs.stat(path).pipe(Effect.mapError(ioError(`cannot stat ${path}`)))).size
                )
                const result: ScanResult = {
                  records: state.records,
                  fileBytes,
                  goodBytes: e.offset,
                  torn: { offset: e.offset, reason: `repair: ${e.detail}` },
                  hasMagic: e.offset >= MAGIC.length
                }
                return result
              })
            : Effect.fail(e)
      )
    )
    if (scan.torn !== undefined && repairedCopy === undefined)
      yield* Effect.logWarning(
        `dropped a torn record at the end of ${path} (byte offset ${scan.torn.offset}, ` +
          `${scan.fileBytes - scan.torn.offset} bytes: ${scan.torn.reason}); it was never acknowledged`
      )
    if (scan.goodBytes < scan.fileBytes) yield* truncate(fs, path, scan.hasMagic ? scan.goodBytes : 0)
    if (!scan.hasMagic) yield* writeMagic(fs, path)
    const now = yield* Clock.currentTimeNanos
    const keys = state.loadInto(keyspace, now)
    const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
    yield* Effect.logInfo(
      `loaded ${keys} keys from ${path} (${state.records} records, ${mib(scan.goodBytes)} MiB) in ` +
        `${seconds.toFixed(2)} s`
    )
    return { scan, keys, repairedCopy }
  })

const truncate = (fs: FileSystem.FileSystem, path: string, length: number) =>
  Effect.scoped(
    Effect.gen(function* () {
      const file = yield* fs.open(path, { flag: "r+" })
      yield* file.truncate(length)
      yield* file.sync
    })
  ).pipe(Effect.mapError(ioError(`cannot truncate ${path}`)))

const writeMagic = (fs: FileSystem.FileSystem, path: string) =>
  Effect.scoped(
    Effect.gen(function* () {
      const file = yield* fs.open(path, { flag: "w" })
      yield* file.writeAll(MAGIC)
      yield* file.sync
    })
  ).pipe(
    Effect.zipRight(syncDirectory(fs, nodePath.dirname(path))),
    Effect.mapError(ioError(`cannot initialise ${path}`))
  )

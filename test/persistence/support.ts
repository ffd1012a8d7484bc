/**
 * Helpers for the persistence tests: temp directories (removed with the scope), a logger that collects messages,
 * and reading log files back.
 */
import { FileSystem } from "@effect/platform"
import { NodeFileSystem } from "@effect/platform-node"
import { Effect, Layer, Logger } from "effect"
import { readFileSync } from "node:fs"
import { decodeRecord, MAGIC, type WalRecord } from "../../src/persistence/Record.js"

/** The real file system. */
export const FsLive = NodeFileSystem.layer

/** A fresh temporary directory, removed when the scope closes. */
export const tempDir = Effect.flatMap(FileSystem.FileSystem, (fs) =>
  fs.makeTempDirectoryScoped({ prefix: "fleare-persistence-" })
)

/** The operations of an open file a test may replace, to inject failures. */
export type FileFaults = Partial<Pick<FileSystem.File, "truncate" | "writeAll" | "sync">>

/**
 * The real file system, except that the files it opens (only those opened with `flag`, when given) have the
 * operations `faults(file)` returns in place of their own.
 */
export const withFileFaults = (
  real: FileSystem.FileSystem,
  faults: (file: FileSystem.File) => FileFaults,
  flag?: FileSystem.OpenFlag
): FileSystem.FileSystem => ({
  ...real,
  open: (p, o) =>
    Effect.map(
      real.open(p, o),
      (f): FileSystem.File =>
        flag !== undefined && o?.flag !== flag
          ? f
          : {
              [FileSystem.FileTypeId]: FileSystem.FileTypeId,
              fd: f.fd,
              stat: f.stat,
              seek: (a, b) => f.seek(a, b),
              read: (b) => f.read(b),
              readAlloc: (n) => f.readAlloc(n),
              truncate: (n) => f.truncate(n),
              write: (b) => f.write(b),
              writeAll: (b) => f.writeAll(b),
              sync: f.sync,
              ...faults(f)
            }
    )
})

/** A logger layer that appends every message (and its level) to `into`. */
export const collectLogs = (into: Array<string>): Layer.Layer<never> =>
  Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      into.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
    })
  )

/** Every record of a log file, read synchronously (for assertions). */
export const readRecords = (path: string): Array<WalRecord> => {
  const bytes = readFileSync(path)
  if (!bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error(`${path} has no magic`)
  const out: Array<WalRecord> = []
  let at = MAGIC.length
  while (at < bytes.length) {
    const d = decodeRecord(bytes, at, bytes.length)
    if (d._tag !== "Record") throw new Error(`${path}: ${d._tag} at ${at}`)
    out.push(d.record)
    at += d.size
  }
  return out
}

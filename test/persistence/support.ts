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

/**
 * The ways persistence fails at startup or while running. `WalCorrupt` is the one a user acts on (`--repair`),
 * so its message names the file and the byte offset; `PersistenceError` wraps file-system failures.
 */
import * as Data from "effect/Data"

/** A log, snapshot or backup file holds a damaged record (or is not such a file) before its end. */
export class WalCorrupt extends Data.TaggedError("WalCorrupt")<{
  readonly path: string
  /** Byte offset of the first bad record: everything before it is sound. */
  readonly offset: number
  readonly detail: string
}> {
  override get message(): string {
    return `corrupt record in ${this.path} at byte offset ${this.offset} (${this.detail})`
  }
}

/** A file operation of the persistence layer failed (open, read, write, fsync, rename). */
export class PersistenceError extends Data.TaggedError("PersistenceError")<{
  readonly message: string
  readonly cause: unknown
}> {}

/** Wraps a platform error with what was being done. */
export const ioError =
  (what: string) =>
  (cause: unknown): PersistenceError =>
    new PersistenceError({
      message: `${what}: ${cause instanceof Error ? cause.message : String(cause)}`,
      cause
    })

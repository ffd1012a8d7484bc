/**
 * The files the write-ahead log writes through. Each is opened in a scope of its own, because the log closes
 * them at times of its choosing rather than with the layer: a compaction's temporary file becomes the log and
 * the old log is closed. Their written bytes are made durable with fdatasync (or fsync).
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import { type PlatformError, SystemError } from "@effect/platform/Error"
import * as nodeFs from "node:fs"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { ioError, type PersistenceError } from "./errors.js"

/** An open file and the scope whose close closes it. */
export interface OpenFile {
  readonly file: FileSystem.File
  readonly scope: Scope.CloseableScope
}

/** Opens `p` (`a`: to append, `w`: truncated) in a scope of its own. */
export const openFile = (
  fs: FileSystem.FileSystem,
  p: string,
  flag: "a" | "w"
): Effect.Effect<OpenFile, PersistenceError> =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const file = yield* fs.open(p, { flag }).pipe(
      Scope.extend(scope),
      Effect.tapError(() => Scope.close(scope, Exit.void)),
      Effect.mapError(ioError(`cannot open ${p}`))
    )
    return { file, scope } satisfies OpenFile
  })

/** Makes the bytes written to `file` durable: with fdatasync, or with the FileSystem's fsync when asked. */
export const syncFile = (
  file: FileSystem.File,
  syncMethod: "fdatasync" | "fsync" | undefined
): Effect.Effect<void, PlatformError> => (syncMethod === "fsync" ? file.sync : fdatasync(file))

/**
 * fdatasync(2) of an open file. `FileSystem.File` offers only `sync` (fsync); this is the one file operation the
 * log performs on the descriptor directly. For an append-only file it is as safe as fsync: the new size is
 * flushed with the data.
 */
const fdatasync = (file: FileSystem.File): Effect.Effect<void, PlatformError> =>
  Effect.async<void, PlatformError>((resume) => {
    nodeFs.fdatasync(file.fd, (err) =>
      resume(
        err === null
          ? Effect.void
          : Effect.fail(
              new SystemError({
                module: "FileSystem",
                method: "fdatasync",
                reason: "Unknown",
                pathOrDescriptor: file.fd,
                description: err.message
              })
            )
      )
    )
  })

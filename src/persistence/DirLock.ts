/**
 * One server per data directory. Two servers appending to one log would interleave their records and each
 * would replay a log the other rewrote under it, so `<persistence.path>/fleare.lock` names the process whose
 * directory it is (its pid), and a second server refuses to start there. A lock whose process is gone (a crash,
 * SIGKILL) is stale: the next server takes it over and says so.
 */
import type * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as nodePath from "node:path"
import { ioError, PersistenceError } from "./errors.js"

/** The lock's file name inside `persistence.path`. */
export const LOCK_FILE = "fleare.lock"

/** Whether a process with this pid exists (EPERM: it does, under another user). */
const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** Creates the lock file holding our pid; false if it already exists. */
const create = (fs: FileSystem.FileSystem, path: string): Effect.Effect<boolean, PersistenceError> =>
  fs.writeFileString(path, `${process.pid}\n`, { flag: "wx" }).pipe(
    Effect.as(true),
    Effect.catchIf(
      (e) => e._tag === "SystemError" && e.reason === "AlreadyExists",
      () => Effect.succeed(false)
    ),
    Effect.mapError(ioError(`cannot create ${path}`))
  )

/** The pid a lock file names, or undefined when it names none (empty, or not a pid). */
const holderOf = (fs: FileSystem.FileSystem, path: string): Effect.Effect<number | undefined, PersistenceError> =>
  fs.readFileString(path).pipe(
    Effect.map((text) => (/^\d+\s*$/.test(text) ? Number(text.trim()) : undefined)),
    Effect.mapError(ioError(`cannot read ${path}`))
  )

const inUse = (dir: string, pid: number | undefined): PersistenceError =>
  new PersistenceError({
    message:
      pid === process.pid
        ? `${dir} is in use by another server in this process`
        : `${dir} is in use by another fleare-ts${pid === undefined ? "" : ` (pid ${pid})`}; stop it, or set persistence.path to another directory`,
    cause: undefined
  })

/** Takes the lock of `dir` for the life of the scope (the lock file is removed when it closes). */
export const lockDirectory = (
  fs: FileSystem.FileSystem,
  dir: string
): Effect.Effect<void, PersistenceError, Scope.Scope> => {
  const path = nodePath.join(dir, LOCK_FILE)
  const acquire = Effect.gen(function* () {
    if (yield* create(fs, path)) return
    const holder = yield* holderOf(fs, path)
    if (holder !== undefined && (holder === process.pid || isAlive(holder)))
      return yield* Effect.fail(inUse(dir, holder))
    yield* Effect.logWarning(
      `${path} was left by ${holder === undefined ? "an unknown process" : `pid ${holder}, which is gone`}; taking it over`
    )
    yield* fs.remove(path).pipe(Effect.mapError(ioError(`cannot remove ${path}`)))
    // Another server may have taken it meanwhile: then it is in use.
    if (!(yield* create(fs, path))) return yield* Effect.fail(inUse(dir, yield* holderOf(fs, path)))
  })
  // Remove the lock only while it is still ours.
  const release = holderOf(fs, path).pipe(
    Effect.flatMap((holder) =>
      holder === process.pid ? fs.remove(path).pipe(Effect.mapError(ioError(`cannot remove ${path}`))) : Effect.void
    ),
    Effect.catchAll((e) => Effect.logWarning(`could not release the lock: ${e.message}`))
  )
  return Effect.acquireRelease(acquire, () => release)
}

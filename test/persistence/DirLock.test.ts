/**
 * One server per data directory: the lock file, against real files and real processes.
 */
import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { afterEach } from "vitest"
import { LOCK_FILE, lockDirectory } from "../../src/persistence/DirLock.js"
import { runServerToExit, spawnServer } from "../support/process.js"
import { collectLogs, FsLive, tempDir } from "./support.js"

/** A process that lives until killed. */
const sleeper = (): ChildProcess => spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { stdio: "ignore" })
const exited = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) =>
    child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())
  )

const lockOf = (dir: string) => nodePath.join(dir, LOCK_FILE)

describe("the data directory lock", () => {
  it.scoped("is taken with this process's pid and removed when its scope closes", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const scope = yield* Scope.make()
      yield* lockDirectory(fs, dir).pipe(Scope.extend(scope))
      expect(readFileSync(lockOf(dir), "utf8").trim()).toBe(String(process.pid))
      // A second server in this process is refused while the first holds it.
      const second = yield* Effect.exit(Effect.scoped(lockDirectory(fs, dir)))
      expect(second).toEqual(
        Exit.fail(expect.objectContaining({ message: `${dir} is in use by another server in this process` }))
      )
      yield* Scope.close(scope, Exit.void)
      expect(existsSync(lockOf(dir))).toBe(false)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("refuses a directory whose lock names a live process, and leaves that lock alone", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const other = sleeper()
      yield* Effect.addFinalizer(() => Effect.sync(() => other.kill("SIGKILL")))
      writeFileSync(lockOf(dir), `${other.pid}\n`)
      const refused = yield* Effect.exit(Effect.scoped(lockDirectory(fs, dir)))
      expect(refused).toEqual(
        Exit.fail(
          expect.objectContaining({
            message: `${dir} is in use by another fleare-ts (pid ${other.pid}); stop it, or set persistence.path to another directory`
          })
        )
      )
      expect(readFileSync(lockOf(dir), "utf8")).toBe(`${other.pid}\n`)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("takes over a lock left by a process that is gone (or an unreadable one), and says so", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const gone = sleeper()
      gone.kill("SIGKILL")
      yield* Effect.promise(() => exited(gone))
      const logs: Array<string> = []
      for (const content of [`${gone.pid}\n`, "not a pid"]) {
        writeFileSync(lockOf(dir), content)
        yield* Effect.scoped(
          Effect.gen(function* () {
            yield* lockDirectory(fs, dir)
            expect(readFileSync(lockOf(dir), "utf8").trim()).toBe(String(process.pid))
          })
        ).pipe(Effect.provide(collectLogs(logs)))
      }
      expect(logs).toEqual([
        `WARN ${lockOf(dir)} was left by pid ${gone.pid}, which is gone; taking it over`,
        `WARN ${lockOf(dir)} was left by an unknown process; taking it over`
      ])
    }).pipe(Effect.provide(FsLive))
  )
})

describe("two servers on one data directory", () => {
  const dirs: Array<string> = []
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
  })

  it("the second refuses to start and names the first; after the first stops, it starts", async () => {
    const dir = mkdtempSync(nodePath.join(tmpdir(), "fleare-lock-"))
    dirs.push(dir)
    const config = ["--config", `{persistence: {enable: true, path: "${dir}"}}`]
    const first = await spawnServer(config)
    const refused = await runServerToExit([...config, "--port", "0"])
    expect(refused.code).toBe(1)
    expect(refused.output).toContain(`persistence: ${dir} is in use by another fleare-ts (pid ${first.child.pid})`)
    expect(refused.output).not.toContain("listening on")
    expect(await first.stop()).toBe(0)
    expect(existsSync(lockOf(dir))).toBe(false)
    const second = await spawnServer(config)
    expect(await second.stop()).toBe(0)
  }, 60_000)
})

/**
 * Runs the real server program (`src/main.ts`) as a child process, as `npm start` does, on a free port, and
 * finds the port in its "listening on" log line. Every child is killed when the test file ends.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const children = new Set<ChildProcess>()

export interface ServerProcess {
  readonly port: number
  readonly child: ChildProcess
  /** Everything the process printed so far (stdout and stderr). */
  readonly output: () => string
  readonly stop: () => Promise<number | null>
}

/** The source entry point under tsx (the default program the helpers run). */
const fromSource: ReadonlyArray<string> = ["--import", "tsx", "src/main.ts"]

/**
 * Spawns the server with `args` (plus `--port 0` unless a port is given); resolves once it listens. `program` is
 * node's arguments before the server's own: the source under tsx unless given (e.g. the bundle `npm start` runs).
 */
export const spawnServer = (
  args: ReadonlyArray<string> = [],
  env: NodeJS.ProcessEnv = {},
  program: ReadonlyArray<string> = fromSource
): Promise<ServerProcess> =>
  new Promise((resolve, reject) => {
    const full = args.includes("--port") ? [...args] : [...args, "--port", "0"]
    const child = spawn(process.execPath, [...program, ...full], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.add(child)
    let out = ""
    // A server that never says it listens is killed, so a failed start leaves no process behind.
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`server did not start:\n${out}`))
    }, 60_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = /listening on (\S+):(\d+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({
          port: Number(m[2]),
          child,
          output: () => out,
          stop: () => stopProcess(child)
        })
      }
    }
    child.stdout!.on("data", onData)
    child.stderr!.on("data", onData)
    child.once("exit", (code) => {
      clearTimeout(timer)
      children.delete(child)
      reject(new Error(`server exited with ${code} before listening:\n${out}`))
    })
  })

/** Runs the server program to completion (for startup errors); resolves with its exit code and output. */
export const runServerToExit = (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv = {}
): Promise<{ code: number | null; output: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [...fromSource, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.add(child)
    let out = ""
    child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
    child.stderr!.on("data", (d: Buffer) => (out += d.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
    child.once("exit", (code) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({ code, output: out })
    })
  })

const stopProcess = (child: ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve(child.exitCode)
    child.once("exit", (code) => {
      children.delete(child)
      resolve(code)
    })
    child.kill("SIGTERM")
    setTimeout(() => child.kill("SIGKILL"), 5000).unref()
  })

/** Resident set size of a process in bytes, from /proc. */
export const rssOf = (pid: number): number => {
  const status = readFileSync(`/proc/${pid}/status`, "utf8")
  const m = /VmRSS:\s+(\d+) kB/.exec(status)
  return m ? Number(m[1]) * 1024 : 0
}

process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL")
})

/**
 * The servers the harness measures, as child processes: fleare-ts (`node --import tsx src/main.ts`, persistence
 * off) and the bare-Node baseline (`fleare-mock-server.mjs`). Both listen on port 0 and print the port they got
 * ("... listening on HOST:PORT"), so no free port has to be guessed. Their CPU time and RSS are read from /proc;
 * both run with `--expose-gc` and collect garbage on SIGUSR2 (the mock by itself, fleare-ts through the
 * `gcOnSignal.mjs` preload, which changes nothing else), so memory is compared after a full GC on both sides.
 *
 * Every child is killed when the harness exits, however it exits.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { SERVER_BUNDLE, startNodeOptions } from "./startScript.js"

/** The package root (two levels above this file). */
export const packageRoot = fileURLToPath(new URL("../..", import.meta.url))

const children = new Set<ChildProcess>()
process.on("exit", () => {
  for (const c of children) c.kill("SIGKILL")
})
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => {
    console.error(`fleare bench: ${signal}, stopping`)
    process.exit(130)
  })

/** Clock ticks per second of /proc/<pid>/stat times (almost always 100). */
const clockTicks = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100
  } catch {
    return 100
  }
})()

/** A server under test. */
export interface Target {
  readonly name: string
  readonly pid: number
  readonly port: number
  /** User + system CPU seconds the process has used so far. */
  readonly cpuSeconds: () => number
  /** Resident set size now (VmRSS), bytes. */
  readonly rss: () => number
  /** Peak resident set size (VmHWM), bytes. */
  readonly peakRss: () => number
  /** Asks for a full GC (SIGUSR2) and waits until the process says it ran. */
  readonly gc: () => Promise<void>
  readonly stop: () => Promise<void>
}

/** How to start one kind of server. */
export interface TargetSpec {
  readonly name: string
  /** The program; node (this process's executable) when absent. */
  readonly command?: string
  readonly args: ReadonlyArray<string>
  /** A line the process writes to stderr after a GC requested by SIGUSR2. */
  readonly gcDone: RegExp
  /**
   * For a server told its port (Redis cannot be given port 0): the port, and the line it prints once it
   * accepts connections. Without them the server prints "listening on HOST:PORT".
   */
  readonly fixedPort?: { readonly port: number; readonly ready: RegExp }
}

/**
 * fleare-ts as `npm start` runs it, with `compiled`: the bundle, with npm start's node options; or the source
 * under tsx, as one node process (not through the tsx CLI) so that /proc sees the server itself.
 */
export const oursSpec = (
  compiled: boolean,
  config = "{persistence: {enable: false}}",
  name = "fleare-ts",
  bundle = SERVER_BUNDLE,
  /** Node options after the start script's (e.g. a flag under test). */
  extraNodeOptions: ReadonlyArray<string> = []
): TargetSpec => ({
  name,
  args: [
    "--expose-gc",
    ...(compiled ? startNodeOptions() : ["--import", "tsx"]),
    ...extraNodeOptions,
    "--import",
    "./src/bench/gcOnSignal.mjs",
    compiled ? bundle : "src/main.ts",
    "--port",
    "0",
    "--config",
    config
  ],
  gcDone: /fleare-bench: gc done/
})

/** The bare-Node baseline server. */
export const mockSpec = (path: string): TargetSpec => ({
  name: "baseline",
  args: ["--expose-gc", path, "--port", "0", "--quiet", "--max-seconds", "3600"],
  gcDone: /fleare-mock mem/
})

const statusField = (pid: number, field: string): number => {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return m ? Number(m[1]) * 1024 : 0
}

const cpuOf = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  // Fields after the command name (which may contain spaces) start at field 3; utime and stime are fields 14, 15.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return (Number(fields[11]) + Number(fields[12])) / clockTicks
}

/** Starts a server and resolves once it listens (at most `timeoutMs`). */
export const startTarget = (spec: TargetSpec, timeoutMs = 60_000): Promise<Target> =>
  new Promise((resolve, reject) => {
    const child = spawn(spec.command ?? process.execPath, [...spec.args], {
      cwd: packageRoot,
      stdio: ["ignore", "pipe", "pipe"]
    })
    children.add(child)
    // The output is read for as long as the process lives (a full pipe would block the server); only a tail
    // is kept, for error messages, plus the listeners waiting for a line.
    let tail = ""
    let port = 0
    /** Callbacks waiting for a line, each with the output seen since it started waiting. */
    const waiters = new Set<{ readonly re: RegExp; text: string; readonly done: () => void }>()
    const onOutput = (d: Buffer) => {
      const text = d.toString()
      tail = (tail + text).slice(-8192)
      for (const w of waiters) {
        w.text = (w.text + text).slice(-8192)
        if (w.re.test(w.text)) {
          waiters.delete(w)
          w.done()
        }
      }
      if (port === 0) {
        const fixed = spec.fixedPort
        const m = fixed === undefined ? /listening on (\S+):(\d+)/.exec(tail) : fixed.ready.exec(tail)
        if (m) {
          port = fixed === undefined ? Number(m[2]) : fixed.port
          clearTimeout(timer)
          resolve(target)
        }
      }
    }
    child.stdout!.on("data", onOutput)
    child.stderr!.on("data", onOutput)
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`${spec.name} did not start within ${timeoutMs} ms:\n${tail}`))
    }, timeoutMs)
    child.once("error", (e) => {
      children.delete(child)
      clearTimeout(timer)
      reject(new Error(`${spec.name} could not start: ${e.message}`))
    })
    child.once("exit", (code, signal) => {
      children.delete(child)
      clearTimeout(timer)
      if (port === 0) reject(new Error(`${spec.name} exited (${code ?? signal}) before listening:\n${tail}`))
    })
    const pid = child.pid!
    const target: Target = {
      name: spec.name,
      pid,
      get port() {
        return port
      },
      cpuSeconds: () => cpuOf(pid),
      rss: () => statusField(pid, "VmRSS"),
      peakRss: () => statusField(pid, "VmHWM"),
      gc: () =>
        new Promise<void>((done, fail) => {
          const t = setTimeout(() => fail(new Error(`${spec.name} did not report a GC after SIGUSR2`)), 10_000)
          waiters.add({
            re: spec.gcDone,
            text: "",
            done: () => {
              clearTimeout(t)
              done()
            }
          })
          child.kill("SIGUSR2")
        }),
      stop: () =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done()
          const kill = setTimeout(() => child.kill("SIGKILL"), 5000)
          child.once("exit", () => {
            clearTimeout(kill)
            done()
          })
          child.kill("SIGTERM")
        })
    }
  })

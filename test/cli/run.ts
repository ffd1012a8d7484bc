/**
 * Runs fleare-cli as a child process (`node --import tsx src/cli/main.ts`), with piped stdio or inside a
 * pseudo-terminal (util-linux `script`), with HOME in a temporary directory so history goes there. Every child
 * is killed when the test file ends, and every temporary directory removed.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll } from "@effect/vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const children = new Set<ChildProcess>()
const homes: Array<string> = []

afterAll(() => {
  for (const c of children) c.kill("SIGKILL")
  for (const h of homes) fs.rmSync(h, { recursive: true, force: true })
})

/** A fresh HOME for one run. */
export const tempHome = (): string => {
  const h = fs.mkdtempSync(path.join(os.tmpdir(), "fleare-cli-test-"))
  homes.push(h)
  return h
}

/** The environment of a child: ours minus anything that would change the CLI's behaviour. */
const childEnv = (env: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  const base: NodeJS.ProcessEnv = { ...process.env }
  delete base["FLEARE_PASSWORD"]
  delete base["NO_COLOR"]
  return { ...base, HOME: tempHome(), ...env }
}

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI with `args`, writes `stdin` (then closes it), waits for it to exit (100 s at most). */
export const runCli = (
  args: ReadonlyArray<string>,
  options: { readonly stdin?: string; readonly env?: NodeJS.ProcessEnv; readonly viaBin?: boolean } = {}
): Promise<CliResult> =>
  new Promise((resolve, reject) => {
    // `viaBin`: through the package's bin launcher, as `npx fleare-cli` runs it.
    const entry = options.viaBin ? ["bin/fleare-cli"] : ["--import", "tsx", "src/cli/main.ts"]
    const child = spawn(process.execPath, [...entry, ...args], {
      cwd: root,
      env: childEnv(options.env ?? {}),
      stdio: ["pipe", "pipe", "pipe"]
    })
    children.add(child)
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      reject(new Error(`fleare-cli did not exit:\n${stdout}\n${stderr}`))
    }, 100_000)
    // "close", not "exit": it comes once the pipes have delivered everything the child wrote (on a loaded
    // machine "exit" can come first, and the last output after it).
    child.once("close", (code) => {
      clearTimeout(timer)
      children.delete(child)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(options.stdin ?? "")
  })

/** True when util-linux `script` (a pseudo-terminal runner) is installed. */
export const hasScript = (() => {
  try {
    return execFileSync("script", ["--version"], { encoding: "utf8" }).includes("util-linux")
  } catch {
    return false
  }
})()

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

/** Terminal control sequences (colours, cursor moves) and carriage returns, removed for assertions. */
export const stripTerminal = (s: string): string => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "")

/** A CLI running in a pseudo-terminal: type into it and wait for what it prints. */
export interface Terminal {
  /** Everything printed so far, raw (with colours and cursor moves). */
  readonly raw: () => string
  /** Types `text` (use `\r` for Enter, `\t` for Tab, `\x03` for Ctrl-C, `\x04` for Ctrl-D). */
  readonly type: (text: string) => void
  /** Waits until the printed text (terminal sequences removed) after `from` contains `text`; returns its index. */
  readonly waitFor: (text: string, from?: number) => Promise<number>
  readonly exited: Promise<number | null>
}

/** Starts the CLI with `args` inside a pseudo-terminal. */
export const runInTerminal = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv = {}): Terminal => {
  const command = [process.execPath, "--import", "tsx", "src/cli/main.ts", ...args].map(shellQuote).join(" ")
  const child = spawn("script", ["-qfec", command, "/dev/null"], {
    cwd: root,
    env: { ...childEnv(env), TERM: "xterm" },
    stdio: ["pipe", "pipe", "pipe"]
  })
  children.add(child)
  let out = ""
  const listeners = new Set<() => void>()
  const onData = (d: Buffer) => {
    out += d.toString()
    for (const l of listeners) l()
  }
  child.stdout.on("data", onData)
  child.stderr.on("data", onData)
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      children.delete(child)
      resolve(code)
    })
  )
  return {
    raw: () => out,
    type: (text) => child.stdin.write(text),
    exited,
    waitFor: (text, from = 0) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const i = stripTerminal(out).indexOf(text, from)
          if (i < 0) return
          listeners.delete(check)
          clearTimeout(timer)
          resolve(i)
        }
        const timer = setTimeout(() => {
          listeners.delete(check)
          reject(new Error(`timed out waiting for ${JSON.stringify(text)}; got:\n${stripTerminal(out)}`))
        }, 90_000)
        listeners.add(check)
        check()
      })
  }
}

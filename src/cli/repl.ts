/**
 * The line loop, for both the interactive prompt and scripts fed on stdin (`fleare-cli < script.txt`).
 *
 * Interactive: a `<host>:<port>> ` prompt, line editing, tab completion and history in `~/.fleare_history`
 * (on a terminal), Ctrl-C clears the line or cancels a command in flight, `exit` or Ctrl-D leaves. Script: no
 * prompt, one command per line, and the exit status says whether any command failed.
 *
 * The readline interface is plain Node; its events feed a Mailbox that one Effect loop drains, so commands
 * run one at a time, in order, however fast lines arrive.
 */
import * as fs from "node:fs"
import * as readline from "node:readline"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Mailbox from "effect/Mailbox"
import { execute, type Outcome, type Printer, type Send, stepOfLine } from "./execute.js"
import { complete } from "./help.js"

/** How the loop reads and writes. */
export interface LoopOptions {
  readonly input: NodeJS.ReadableStream
  readonly output: NodeJS.WritableStream
  /** Prompt, echo and Ctrl-C handling; the exit status is always 0. Otherwise a script. */
  readonly interactive: boolean
  /** The input is a terminal: line editing, completion and history. */
  readonly terminal: boolean
  readonly prompt: string
  /** Where history is kept (terminal only); `undefined` keeps none. */
  readonly historyFile: string | undefined
  readonly printer: Printer
}

const HISTORY_SIZE = 1000

/** The saved history, newest first (as readline wants it). A missing or unreadable file is no history. */
const loadHistory = (file: string): Array<string> => {
  try {
    const lines = fs
      .readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
    // Keep the file from growing without bound: rewrite it with the newest entries now and then.
    if (lines.length > 2 * HISTORY_SIZE) fs.writeFileSync(file, lines.slice(-HISTORY_SIZE).join("\n") + "\n")
    return lines.slice(-HISTORY_SIZE).reverse()
  } catch {
    return []
  }
}

/** Appends a line to the history file; `auth` lines (they hold a password) are never written. */
const saveHistory = (file: string, line: string): void => {
  if (line.trim() === "" || /^\s*auth(\s|$)/i.test(line)) return
  try {
    fs.appendFileSync(file, line + "\n", { mode: 0o600 })
  } catch {
    // History is a convenience: a read-only home must not break the client.
  }
}

/** Runs lines until `exit` or the end of input; returns the exit status. */
export const runLines = (send: Send, options: LoopOptions): Effect.Effect<number> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { input, output, interactive, terminal, printer } = options
      const historyFile = terminal && interactive ? options.historyFile : undefined
      const lines = yield* Mailbox.make<string>()
      const rl = yield* Effect.acquireRelease(
        Effect.sync(() =>
          readline.createInterface({
            input,
            output: interactive ? output : undefined,
            prompt: options.prompt,
            terminal,
            history: historyFile ? loadHistory(historyFile) : [],
            historySize: HISTORY_SIZE,
            removeHistoryDuplicates: true,
            ...(terminal ? { completer: complete } : {})
          })
        ),
        (rl) => Effect.sync(() => rl.close())
      )
      let cancel: (() => void) | undefined
      let ended = false
      rl.on("line", (line) => lines.unsafeOffer(line))
      rl.on("close", () => {
        ended = true
        lines.unsafeDone(Exit.void)
      })
      rl.on("SIGINT", () => {
        if (cancel) return cancel()
        if (rl.line.length > 0) {
          // Like a shell: show where the line was abandoned, clear it, start a fresh prompt.
          output.write("^C\n")
          rl.write(null, { ctrl: true, name: "e" })
          rl.write(null, { ctrl: true, name: "u" })
        } else output.write("\n(To leave, type 'exit' or press Ctrl-D)\n")
        rl.prompt()
      })

      // A command in flight can be cancelled with Ctrl-C; its reply is then read and dropped.
      const cancellable = (run: Effect.Effect<Outcome>): Effect.Effect<Outcome> =>
        Effect.race(
          run,
          Effect.async<Outcome>((resume) => {
            cancel = () => {
              output.write("\n")
              printer.error("cancelled")
              resume(Effect.succeed("error"))
            }
            return Effect.sync(() => {
              cancel = undefined
            })
          })
        )

      let failed = false
      if (interactive) rl.prompt()
      for (;;) {
        const next = yield* Effect.option(lines.take)
        if (next._tag === "None") {
          // Ctrl-D (or the end of the input) leaves the cursor after the prompt: end the line for the shell.
          if (interactive) output.write("\n")
          break
        }
        const line = next.value
        // Without a terminal nothing echoes what was read: show it after the prompt so the transcript reads.
        if (interactive && !terminal) output.write(line + "\n")
        if (historyFile) saveHistory(historyFile, line)
        const run = execute(send, stepOfLine(line), printer)
        const outcome = yield* interactive ? cancellable(run) : run
        if (outcome === "exit") break
        if (outcome === "error") failed = true
        // Once the input has ended readline refuses to prompt, but lines read before the end still get one.
        if (interactive) {
          if (ended) output.write(options.prompt)
          else rl.prompt()
        }
      }
      return interactive || !failed ? 0 : 1
    })
  )

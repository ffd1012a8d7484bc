/**
 * What the CLI does with one command, in every mode: `help` and `exit` are answered locally, anything else is
 * sent to the server as typed (the server's command table decides what exists) and its reply printed.
 */
import * as Effect from "effect/Effect"
import { type ConnectionError, errorMessage, type Unauthorized } from "../client/errors.js"
import type { Reply } from "../client/Connection.js"
import { formatError, formatOk, type Palette } from "./format.js"
import { helpText } from "./help.js"
import { splitWords } from "./words.js"

/** One parsed line. */
export type Step =
  | { readonly _tag: "Nothing" }
  | { readonly _tag: "Exit" }
  | { readonly _tag: "Help"; readonly topic: string | undefined }
  | { readonly _tag: "Invalid"; readonly message: string }
  | {
      readonly _tag: "Send"
      readonly command: string
      readonly args: ReadonlyArray<string>
      /** Printed after an `Error` reply: a likely cause on the client's side (e.g. quoting). */
      readonly hint?: string
    }
  /** `subscribe <topic>`: only as the one command of `fleare-cli subscribe <topic>` (it streams until Ctrl-C). */
  | { readonly _tag: "Subscribe"; readonly topic: string }

/** The step for a command given as words (from the shell's argv, or a split line). */
export const stepOfWords = (words: ReadonlyArray<string>): Step => {
  if (words.length === 0) return { _tag: "Nothing" }
  const [first, ...rest] = words as [string, ...Array<string>]
  const name = first.toLowerCase()
  if (name === "exit") return { _tag: "Exit" }
  if (name === "help") return { _tag: "Help", topic: rest[0] }
  // A subscription gets no reply, so it cannot share the prompt's connection: it is a mode of its own.
  if (name === "subscribe") return { _tag: "Subscribe", topic: rest[0] ?? "" }
  if (name === "unsubscribe") return { _tag: "Invalid", message: SUBSCRIBE_HINT }
  return { _tag: "Send", command: first, args: rest }
}

/** The step for a typed line: blank lines and `#` comments do nothing; the rest is split shell-style. */
export const stepOfLine = (line: string): Step => {
  const trimmed = line.trim()
  if (trimmed === "" || trimmed.startsWith("#")) return { _tag: "Nothing" }
  const split = splitWords(trimmed)
  if (split._tag === "Invalid") return { _tag: "Invalid", message: split.message }
  const step = stepOfWords(split.words)
  const hint = step._tag === "Send" ? quotingHint(trimmed, split.words) : undefined
  return hint === undefined || step._tag !== "Send" ? step : { ...step, hint }
}

const SUBSCRIBE_HINT = "subscribe runs on its own: `fleare-cli subscribe <topic>` prints its messages until Ctrl-C"

const parsesAsJson = (text: string): boolean => {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

/**
 * A hint for JSON typed without quotes around it: the line is split like a shell's, so the double quotes of
 * `{"x":[1,2]}` are removed and the server gets `{x:[1,2]}`. Given when an argument looks like a JSON object or
 * array but does not parse, while the line as typed has double quotes.
 */
export const quotingHint = (line: string, words: ReadonlyArray<string>): string | undefined =>
  line.includes('"') && words.slice(1).some((w) => /^\s*[[{]/.test(w) && !parsesAsJson(w))
    ? "hint: the line is split like a shell's, which removed the double quotes from the JSON; " +
      `wrap JSON in single quotes: json.set doc '{"x":[1,2]}'`
    : undefined

/** Where a mode's output goes. */
export interface Printer {
  /** A server reply: `Ok ...` or `Error ...` (raw with `--json`). */
  readonly reply: (reply: Reply) => void
  /** A failure on the client's side (a lost connection, bad quoting, an unknown help topic). */
  readonly error: (message: string) => void
  /** Help text. */
  readonly info: (text: string) => void
  /** A hint about a failure just printed (where failures go, with no `Error` prefix). */
  readonly hint: (text: string) => void
}

/** A printer: `out` for results, `err` for failures; `json` prints results raw, with no `Ok`/`Error`. */
export const makePrinter = (options: {
  readonly json: boolean
  readonly out: (line: string) => void
  readonly err: (line: string) => void
  readonly outPalette: Palette
  readonly errPalette: Palette
}): Printer => {
  const { json, out, err, outPalette, errPalette } = options
  return {
    reply: (r) =>
      r.status === "Ok"
        ? out(json ? r.result : formatOk(r.result, outPalette))
        : err(json ? r.result.replace(/\n$/, "") : formatError(r.result, errPalette)),
    error: (message) => err(json ? message : formatError(message, errPalette)),
    info: out,
    hint: err
  }
}

/** What a step came to: success, a failure (exit status 1), or the end of the session. */
export type Outcome = "ok" | "error" | "exit"

/** Sends a command and returns the server's reply, whatever its status (the client's `call`). */
export type Send = (
  command: string,
  ...args: ReadonlyArray<string>
) => Effect.Effect<Reply, ConnectionError | Unauthorized>

/** Runs one step and prints what it gives. Never fails: every failure is printed and reported as `"error"`. */
export const execute = (send: Send, step: Step, printer: Printer): Effect.Effect<Outcome> => {
  switch (step._tag) {
    case "Nothing":
      return Effect.succeed("ok")
    case "Exit":
      return Effect.succeed("exit")
    case "Invalid":
      return Effect.sync(() => {
        printer.error(step.message)
        return "error"
      })
    case "Help":
      return Effect.sync(() => {
        const text = helpText(step.topic)
        if (text === undefined) {
          printer.error(`unknown command "${step.topic}" (\`help\` lists them)`)
          return "error"
        }
        printer.info(text)
        return "ok"
      })
    case "Subscribe":
      // Reached from the prompt or stdin lines; the one-shot `fleare-cli subscribe <topic>` is run by main.
      return Effect.sync(() => {
        printer.error(SUBSCRIBE_HINT)
        return "error"
      })
    case "Send":
      return send(step.command, ...step.args).pipe(
        Effect.map((reply): Outcome => {
          printer.reply(reply)
          if (reply.status === "Ok") return "ok"
          if (step.hint !== undefined) printer.hint(step.hint)
          return "error"
        }),
        Effect.catchAll((e) =>
          Effect.sync((): Outcome => {
            printer.error(errorMessage(e))
            return "error"
          })
        )
      )
  }
}

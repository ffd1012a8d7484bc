/**
 * fleare-cli: the command-line client.
 *
 *   fleare-cli [--host 127.0.0.1] [--port 9219] [-u USER] [-p PASSWORD] [--json] [-i]    a prompt (or stdin lines)
 *   fleare-cli [flags] COMMAND [ARG ...]                                                   one command
 *   fleare-cli [flags] subscribe TOPIC                                      print the topic's messages until Ctrl-C
 *   fleare-cli version
 *
 * The password may come from `FLEARE_PASSWORD` instead of `-p`, or be typed at a hidden prompt when only `-u`
 * is given on a terminal, so it stays out of shell history. Flags and `--help` are in `flags.ts` (parsed by
 * hand: no CLI framework to load at start). Exit status: 0 when every command answered `Ok`, 1 when one
 * answered `Error` (or the credentials were refused), 2 when the server could not be reached or the flags are
 * wrong, 130 when the password prompt was cancelled.
 */
import * as os from "node:os"
import * as path from "node:path"
// Subpath imports: the package index would also load the HTTP client and server (undici), slowing every start.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { addressLabel } from "../client/Connection.js"
import { errorMessage, type ClientError } from "../client/errors.js"
import { make as makeClient } from "../client/FleareClient.js"
import { VERSION } from "../version.js"
import { askPassword } from "./askPassword.js"
import { execute, makePrinter, type Send, stepOfWords } from "./execute.js"
import { type CliFlags, parseCliArgs, USAGE } from "./flags.js"
import { colors, formatError, formatOk, noColors, type Palette } from "./format.js"
import { runLines } from "./repl.js"
import { printSubscription } from "./subscribe.js"

const paletteFor = (stream: NodeJS.WriteStream, raw: boolean): Palette =>
  !raw && stream.isTTY === true && process.env["NO_COLOR"] === undefined ? colors : noColors

const writeLine =
  (stream: NodeJS.WriteStream) =>
  (line: string): void => {
    stream.write(line + "\n")
  }

/** For steps that never reach the server (`help`, `exit`) run before connecting. */
const offline: Send = () => Effect.die("not connected")

/**
 * A hint after refused credentials that were incomplete: no user (`-u`) or no password (`-p`, FLEARE_PASSWORD,
 * or the prompt, which only a terminal gets). Undefined when both were given (then they were just wrong).
 */
const credentialsHint = (user: string, password: string): string | undefined =>
  user === ""
    ? "hint: no user was given: pass -u USER (the password with -p PASSWORD, FLEARE_PASSWORD, or at the prompt)"
    : password === ""
      ? "hint: no password was given: pass -p PASSWORD or set FLEARE_PASSWORD (on a terminal, -u alone asks for it)"
      : undefined

/** Runs the client with `flags`; the exit status. */
const run = (flags: CliFlags): Effect.Effect<number> =>
  Effect.gen(function* () {
    const outPalette = paletteFor(process.stdout, flags.json)
    const errPalette = paletteFor(process.stderr, flags.json)
    const printer = makePrinter({
      json: flags.json,
      out: writeLine(process.stdout),
      err: writeLine(process.stderr),
      outPalette,
      errPalette
    })
    const oneShot = flags.words.length > 0 ? stepOfWords(flags.words) : undefined
    // `help` and `exit` need no server (`subscribe` does, on a connection of its own).
    if (oneShot !== undefined && oneShot._tag !== "Send" && oneShot._tag !== "Subscribe") {
      const outcome = yield* execute(offline, oneShot, printer)
      return outcome === "error" ? 1 : 0
    }
    const prompting = flags.interactive || (oneShot === undefined && process.stdin.isTTY === true)
    // A user with no password given: ask for it on the terminal (never echoed, never in shell history).
    const given = flags.password ?? process.env["FLEARE_PASSWORD"]
    const secret: Option.Option<string> =
      given !== undefined
        ? Option.some(given)
        : flags.user !== "" && process.stdin.isTTY === true
          ? yield* Effect.option(askPassword("Password: ", process.stdin, process.stderr))
          : Option.some("")
    if (Option.isNone(secret)) return 130

    return yield* Effect.scoped(
      Effect.gen(function* () {
        const client = yield* makeClient({
          host: flags.host,
          port: flags.port,
          user: flags.user,
          password: Redacted.make(secret.value),
          poolSize: 1
        })
        if (oneShot?._tag === "Subscribe") {
          // Prints until Ctrl-C, which interrupts this fiber and exits 0.
          yield* printSubscription(client, oneShot.topic, {
            message: writeLine(process.stdout),
            info: writeLine(process.stderr),
            json: flags.json,
            palette: outPalette
          })
          return 0
        }
        if (oneShot !== undefined) return (yield* execute(client.call, oneShot, printer)) === "error" ? 1 : 0
        if (!prompting) {
          return yield* runLines(client.call, {
            input: process.stdin,
            output: process.stdout,
            interactive: false,
            terminal: false,
            prompt: "",
            historyFile: undefined,
            printer
          })
        }
        // Interactive: everything goes to stdout, in order, as a transcript.
        const screen = makePrinter({
          json: flags.json,
          out: writeLine(process.stdout),
          err: writeLine(process.stdout),
          outPalette,
          errPalette: outPalette
        })
        process.stdout.write(formatOk("Connected", outPalette) + "\n")
        return yield* runLines(client.call, {
          input: process.stdin,
          output: process.stdout,
          interactive: true,
          terminal: process.stdin.isTTY === true && process.stdout.isTTY === true,
          prompt: outPalette.prompt(`${addressLabel(flags.host, flags.port)}>`) + " ",
          historyFile: path.join(os.homedir(), ".fleare_history"),
          printer: screen
        })
      })
    ).pipe(
      Effect.catchAll((e: ClientError) =>
        Effect.sync(() => {
          process.stderr.write(formatError(errorMessage(e), errPalette) + "\n")
          const hint =
            e._tag === "Unauthorized" && e.reason === "AuthFailed"
              ? credentialsHint(flags.user, secret.value)
              : undefined
          if (hint !== undefined) process.stderr.write(hint + "\n")
          // Refused credentials are a command error (Fleare's CLI exits 1 too); an unreachable server is 2.
          return e._tag === "ConnectionError" ? 2 : 1
        })
      )
    )
  })

const main = (argv: ReadonlyArray<string>): Effect.Effect<void> => {
  const request = parseCliArgs(argv)
  switch (request._tag) {
    case "Help":
      return Effect.sync(() => void process.stdout.write(USAGE + "\n"))
    case "Version":
      return Effect.sync(() => void process.stdout.write(`fleare-cli\nVersion: v${VERSION}\n`))
    case "Invalid":
      return Effect.sync(() => {
        process.stderr.write(`fleare-cli: ${request.message} (fleare-cli --help for the options)\n`)
        process.exitCode = 2
      })
    case "Run":
      return Effect.map(run(request.flags), (code) => {
        process.exitCode = code
      })
  }
}

NodeRuntime.runMain(main(process.argv.slice(2)), { disableErrorReporting: true })

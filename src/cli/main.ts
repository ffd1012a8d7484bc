/**
 * fleare-cli: the command-line client.
 *
 *   fleare-cli [--host 127.0.0.1] [--port 9219] [-u USER] [-p PASSWORD] [--json] [-i]    a prompt (or stdin lines)
 *   fleare-cli [flags] COMMAND [ARG ...]                                                   one command
 *   fleare-cli [flags] subscribe TOPIC                                      print the topic's messages until Ctrl-C
 *   fleare-cli version
 *
 * The password may come from `FLEARE_PASSWORD` instead of `-p`, or be typed at a hidden prompt when only `-u`
 * is given on a terminal, so it stays out of shell history. Exit status: 0 when every command answered `Ok`,
 * 1 when one answered `Error` (or the credentials were refused), 2 when the server could not be reached, 130
 * when the password prompt was cancelled.
 */
import * as os from "node:os"
import * as path from "node:path"
import { Args, Command, Options } from "@effect/cli"
// Subpath imports: the package index would also load the HTTP client and server (undici), slowing every start.
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { addressLabel } from "../client/Connection.js"
import { errorMessage } from "../client/errors.js"
import { make as makeClient } from "../client/FleareClient.js"
import { VERSION } from "../version.js"
import { askPassword } from "./askPassword.js"
import { execute, makePrinter, type Send, stepOfWords } from "./execute.js"
import { colors, formatError, formatOk, noColors, type Palette } from "./format.js"
import { runLines } from "./repl.js"
import { printSubscription } from "./subscribe.js"

const host = Options.text("host").pipe(
  Options.withDescription("server address (default 127.0.0.1)"),
  Options.withDefault("127.0.0.1")
)
const port = Options.integer("port").pipe(
  Options.withDescription("server port (default 9219)"),
  Options.withDefault(9219)
)
const user = Options.text("user").pipe(
  Options.withAlias("u"),
  Options.withDescription("user name for AUTH (with no password given, it is asked for on a terminal)"),
  Options.withDefault("")
)
const password = Options.redacted("password").pipe(
  Options.withAlias("p"),
  Options.withDescription("password for AUTH (default: the FLEARE_PASSWORD environment variable)"),
  Options.withFallbackConfig(Config.redacted("FLEARE_PASSWORD")),
  Options.optional
)
const json = Options.boolean("json").pipe(
  Options.withDescription("print results as the server sent them: no Ok/Error, no pretty-printing, no colour")
)
const interactive = Options.boolean("interactive").pipe(
  Options.withAlias("i"),
  Options.withDescription("show the prompt even when stdin is not a terminal")
)
const words = Args.text({ name: "command" }).pipe(
  Args.repeated,
  Args.withDescription(
    "a command and its arguments to run once (`help` lists them); without one: a prompt, or one command per stdin line"
  )
)

const paletteFor = (stream: NodeJS.WriteStream, raw: boolean): Palette =>
  !raw && stream.isTTY === true && process.env["NO_COLOR"] === undefined ? colors : noColors

const writeLine =
  (stream: NodeJS.WriteStream) =>
  (line: string): void => {
    stream.write(line + "\n")
  }

/** For steps that never reach the server (`help`, `exit`) run before connecting. */
const offline: Send = () => Effect.die("not connected")

const main = Command.make("fleare-cli", { host, port, user, password, json, interactive, words }, (flags) =>
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
    const secret = Option.isSome(flags.password)
      ? Option.some(Redacted.value(flags.password.value))
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
      Effect.catchAll((e) =>
        Effect.sync(() => {
          process.stderr.write(formatError(errorMessage(e), errPalette) + "\n")
          // Refused credentials are a command error (Fleare's CLI exits 1 too); an unreachable server is 2.
          return e._tag === "ConnectionError" ? 2 : 1
        })
      )
    )
  }).pipe(
    Effect.map((code) => {
      process.exitCode = code
    })
  )
)

const version = Command.make("version", {}, () => Console.log(`fleare-cli\nVersion: v${VERSION}`))

const cli = Command.run(main.pipe(Command.withSubcommands([version])), { name: "fleare-cli", version: `v${VERSION}` })

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain({ disableErrorReporting: true }))

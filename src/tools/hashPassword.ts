/**
 * `npm run hash-password [password]`: prints the scrypt hash of a password for `security.users[].password`.
 * Without an argument the password is the first line of stdin, so it need not sit in the shell history:
 *
 *   npm run -s hash-password < password.txt
 *
 * The hash alone goes to stdout (pipe-friendly); the hint about where to put it goes to stderr.
 */
import { createInterface } from "node:readline"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { hashPassword } from "../session/Password.js"

/** The tool cannot produce a hash; `message` says why. */
class HashPasswordError extends Data.TaggedError("HashPasswordError")<{ readonly message: string }> {}

/** The first line of stdin without its line ending ("" when stdin is empty). */
const readFirstLine: Effect.Effect<string> = Effect.async<string>((resume) => {
  const rl = createInterface({ input: process.stdin, terminal: false })
  let done = false
  const finish = (line: string) => {
    if (done) return
    done = true
    rl.close()
    resume(Effect.succeed(line))
  }
  rl.once("line", finish)
  rl.once("close", () => finish(""))
  // Interrupted (e.g. Ctrl-C): stop reading so the process can exit.
  return Effect.sync(() => rl.close())
})

/** Hashes the password given as `arg`, or read from stdin when `arg` is undefined. */
const program = (arg: string | undefined): Effect.Effect<void, HashPasswordError> =>
  Effect.gen(function* () {
    if (arg === undefined && process.stdin.isTTY) yield* Effect.sync(() => process.stderr.write("password: "))
    const password = arg ?? (yield* readFirstLine)
    if (password === "")
      return yield* new HashPasswordError({
        message: "empty password: pass it as the first argument or as one line on stdin"
      })
    const hash = yield* hashPassword(password).pipe(
      Effect.mapError((e) => new HashPasswordError({ message: `cannot hash: ${e.message}` }))
    )
    yield* Console.log(hash)
    yield* Console.error(
      `hint: put this hash in the YAML config as security.users[].password (quoted: password: "${hash}")`
    )
  })

program(process.argv[2]).pipe(
  Effect.tapError((e) => Console.error(`hash-password: ${e.message}`)),
  NodeRuntime.runMain({ disableErrorReporting: true })
)

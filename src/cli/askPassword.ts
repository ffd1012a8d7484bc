/**
 * Reads a password from the terminal without echoing it, for `fleare-cli -u USER` given neither `-p` nor
 * `FLEARE_PASSWORD`: the password then appears in neither the shell history nor the process list.
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"

/** The user pressed Ctrl-C or Ctrl-D at the password prompt. */
export class PasswordCancelled extends Data.TaggedError("PasswordCancelled")<{}> {}

const ENTER = new Set(["\r", "\n"])
const CTRL_C = "\u0003"
const CTRL_D = "\u0004"
const BACKSPACE = new Set(["\u007f", "\b"])

/** Prompts on `output` and reads one line from the terminal `input` in raw mode, echoing nothing. */
export const askPassword = (
  prompt: string,
  input: NodeJS.ReadStream,
  output: NodeJS.WriteStream
): Effect.Effect<string, PasswordCancelled> =>
  Effect.async<string, PasswordCancelled>((resume) => {
    let chars: Array<string> = []
    const cleanup = () => {
      input.off("data", onData)
      input.setRawMode(false)
      input.pause()
    }
    const finish = (value: string | undefined) => {
      cleanup()
      output.write("\n")
      resume(value === undefined ? Effect.fail(new PasswordCancelled()) : Effect.succeed(value))
    }
    function onData(chunk: Buffer): void {
      for (const ch of chunk.toString("utf8")) {
        if (ENTER.has(ch)) return finish(chars.join(""))
        if (ch === CTRL_C || (ch === CTRL_D && chars.length === 0)) return finish(undefined)
        if (BACKSPACE.has(ch)) chars = chars.slice(0, -1)
        else if (ch >= " ") chars.push(ch)
      }
    }
    // Raw mode first: a password typed the moment the prompt shows must not be echoed by the terminal.
    input.setRawMode(true)
    input.on("data", onData)
    input.resume()
    output.write(prompt)
    return Effect.sync(cleanup)
  })

/**
 * fleare-cli's command line: its flags, parsed by hand (a few lines, with errors worded for this program, and no
 * framework loaded at start), and its `--help` text. Flags come first; the first word that is not a flag starts
 * the command, and everything after it is the command's arguments as typed (`num.incr k -5` passes `-5`).
 */

/** The parsed flags. `password` is undefined when not given (then `FLEARE_PASSWORD`, then a prompt). */
export interface CliFlags {
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string | undefined
  readonly json: boolean
  readonly interactive: boolean
  /** The command and its arguments; empty for the prompt (or stdin lines). */
  readonly words: ReadonlyArray<string>
}

/** What the command line asks for. */
export type CliRequest =
  | { readonly _tag: "Run"; readonly flags: CliFlags }
  | { readonly _tag: "Help" }
  | { readonly _tag: "Version" }
  | { readonly _tag: "Invalid"; readonly message: string }

/** The `--help` text. */
export const USAGE = `fleare-cli: the command-line client of fleare-ts (and of any Fleare server)

Usage:
  fleare-cli [options]                      a prompt; with stdin not a terminal, one command per line
  fleare-cli [options] COMMAND [ARG ...]    run one command and exit
  fleare-cli version                        print the version

Options:
  --host HOST           server address (default 127.0.0.1)
  --port PORT           server port (default 9219)
  -u, --user USER       user for AUTH; with no password given and a terminal, the password is asked for
  -p, --password PASS   password for AUTH. -p is the password, as in Fleare's own CLI (in fleare-benchmark,
                        as in redis-benchmark, -p is the port). A password on the command line shows in the
                        process list and the shell history: prefer the prompt or FLEARE_PASSWORD
  --json                print results exactly as the server sent them: no Ok/Error, no pretty-printing
  -i, --interactive     show the prompt even when stdin is not a terminal
  -h, --help            print this help
  -v, --version         print the version
A flag given twice takes its last value. Flags go before the command: words after it are its arguments.

Environment:
  FLEARE_PASSWORD       the password when -p is not given
  NO_COLOR              when set, no colour (there is none either when the output is not a terminal)

Examples:
  fleare-cli -u root                                   connect as root (the password is asked for)
  FLEARE_PASSWORD=root fleare-cli -u root get greeting run one command
  fleare-cli -u root -p root json.set doc '{"tags":["a","b"]}'
                                                       quote JSON for the shell (at the prompt too)
  printf 'set k v\\nget k\\n' | fleare-cli -u root -p root
                                                       commands from stdin, one per line

At the prompt, \`help\` lists the server's commands and \`help COMMAND\` shows one; \`exit\` or Ctrl-D leaves.

Exit status:
  0     every command answered Ok
  1     a command answered Error, or the server refused the credentials
  2     the server could not be reached, or the command line is wrong
  130   the password prompt was cancelled`

/** The options that take a value, by every name they answer to. */
const valued: Record<string, "host" | "port" | "user" | "password"> = {
  "--host": "host",
  "--port": "port",
  "-u": "user",
  "--user": "user",
  "-p": "password",
  "--password": "password"
}

/** The options that are switches, by every name they answer to. */
const switches: Record<string, "json" | "interactive" | "help" | "version"> = {
  "--json": "json",
  "-i": "interactive",
  "--interactive": "interactive",
  "-h": "help",
  "--help": "help",
  "-v": "version",
  "--version": "version"
}

/** A port number, or the error naming the flag and the value. */
const parsePort = (text: string): number | string => {
  if (!/^[0-9]+$/.test(text.trim())) return `--port: '${text}' is not an integer`
  const n = Number(text)
  return n >= 1 && n <= 65535 ? n : `--port: ${n} is not a port number (1 to 65535)`
}

/** Parses the arguments after the program name. */
export const parseCliArgs = (argv: ReadonlyArray<string>): CliRequest => {
  let host = "127.0.0.1"
  let port = 9219
  let user = ""
  let password: string | undefined
  let json = false
  let interactive = false
  let help = false
  let version = false
  let i = 0
  for (; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") {
      i++
      break
    }
    if (!arg.startsWith("-") || arg === "-") break
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1
    const name = eq > 0 ? arg.slice(0, eq) : arg
    const target = valued[name]
    if (target !== undefined) {
      let value: string
      if (eq > 0) value = arg.slice(eq + 1)
      else if (i + 1 < argv.length) value = argv[++i]!
      else return { _tag: "Invalid", message: `${name} needs a value` }
      switch (target) {
        case "host":
          host = value
          break
        case "port": {
          const p = parsePort(value)
          if (typeof p === "string") return { _tag: "Invalid", message: p }
          port = p
          break
        }
        case "user":
          user = value
          break
        case "password":
          password = value
      }
      continue
    }
    const flag = switches[name]
    if (flag === undefined || eq > 0)
      return {
        _tag: "Invalid",
        message: flag === undefined ? `unknown option '${name}'` : `${name} takes no value (got '${arg.slice(eq + 1)}')`
      }
    if (flag === "json") json = true
    else if (flag === "interactive") interactive = true
    else if (flag === "help") help = true
    else version = true
  }
  const words = argv.slice(i)
  if (help) return { _tag: "Help" }
  if (version || (words.length === 1 && words[0] === "version")) return { _tag: "Version" }
  return { _tag: "Run", flags: { host, port, user, password, json, interactive, words } }
}

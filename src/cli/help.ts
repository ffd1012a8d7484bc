/**
 * `help [COMMAND]` and tab completion, both built from the server's command table (`allCommands`), the one
 * place a command's name, syntax and summary are declared; plus the CLI's own words `help` and `exit`.
 */
import { allCommands } from "../commands/registry.js"

/** What the help knows about a command. */
export interface HelpEntry {
  readonly name: string
  readonly syntax: string
  readonly summary: string
}

/** The commands the CLI handles itself, without the server. */
export const localCommands: ReadonlyArray<HelpEntry> = [
  { name: "HELP", syntax: "HELP [command]", summary: "Lists the commands, or shows one command's syntax." },
  { name: "EXIT", syntax: "EXIT", summary: "Closes the connection and leaves the client (also Ctrl-D)." }
]

/** AUTH is answered by the connection, not the command table; fleare-cli sends it when it connects (-u, -p). */
const auth: HelpEntry = {
  name: "AUTH",
  syntax: "AUTH <username> <password>",
  summary: "Authenticates the connection (fleare-cli does it on connecting, from -u and -p); again: as another user."
}

const serverCommands: ReadonlyArray<HelpEntry> = [
  auth,
  ...allCommands.map(({ name, syntax, summary }) => ({ name, syntax, summary }))
]

const everything: ReadonlyArray<HelpEntry> = [...serverCommands, ...localCommands]

/** Finds a command (server or local) by name, any case. */
export const findHelp = (name: string): HelpEntry | undefined => {
  const upper = name.toUpperCase()
  return everything.find((e) => e.name === upper)
}

const SYNTAX_COLUMN = 36

/** The text of `help` (every command: syntax and summary) or `help NAME`; `undefined` for an unknown name. */
export const helpText = (name?: string): string | undefined => {
  if (name !== undefined) {
    const e = findHelp(name)
    return e && `${e.syntax}\n  ${e.summary}`
  }
  // A long syntax gets its own line rather than widening the column for every command.
  const width = Math.min(SYNTAX_COLUMN, Math.max(...everything.map((e) => e.syntax.length)))
  const rows = (es: ReadonlyArray<HelpEntry>) =>
    es.map((e) =>
      e.syntax.length > width
        ? `  ${e.syntax}\n  ${" ".repeat(width)}  ${e.summary}`
        : `  ${e.syntax.padEnd(width)}  ${e.summary}`
    )
  return [
    "Server commands (names in any case; `help <command>` for one):",
    ...rows(serverCommands),
    "Client commands:",
    ...rows(localCommands)
  ].join("\n")
}

/** Names offered for completion, in the case the user is typing (lower unless the prefix has capitals). */
const candidates = (prefix: string): Array<string> => {
  const upper = prefix.toUpperCase()
  const typingLower = prefix === prefix.toLowerCase()
  return everything
    .map((e) => e.name)
    .filter((n) => n.startsWith(upper))
    .map((n) => (typingLower ? n.toLowerCase() : n))
    .sort()
}

/**
 * A node:readline completer: completes the command name (the first word), and the name after `help`.
 * Returns the candidates and the text they replace.
 */
export const complete = (line: string): [Array<string>, string] => {
  const m = /^(\s*)(\S*)$/.exec(line)
  if (m) return [candidates(m[2]!), m[2]!]
  const h = /^\s*help\s+(\S*)$/i.exec(line)
  if (h) return [candidates(h[1]!), h[1]!]
  return [[], ""]
}

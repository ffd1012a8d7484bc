/**
 * `npm run docs`: renders the command reference from the command table (`allCommands`), so the docs have one
 * source of truth. It writes docs/COMMANDS.md and the part of README.md between the `commands:begin` and
 * `commands:end` markers. Each command's example lives in `examples` below; test/docs/commands.test.ts runs
 * every example, in table order, against a real server and checks the replies, so the docs cannot drift.
 */
import { realpathSync } from "node:fs"
import { fileURLToPath, pathToFileURL } from "node:url"
import * as FileSystem from "@effect/platform/FileSystem"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type { CommandSpec } from "../commands/Command.js"
import { allCommands } from "../commands/registry.js"
import { type CommandClass, mayRun, roles } from "../session/Role.js"

/** One request and the reply it gets (`Ok` status), e.g. `{ args: ["greeting"], reply: "Hello" }`. */
export interface CommandExample {
  /** The arguments after the command name. */
  readonly args: ReadonlyArray<string>
  /**
   * The exact result text. Client ids, timestamps, the listen port and the uptime differ from run to run; the
   * test compares them through `normalizeVolatile`.
   */
  readonly reply: string
  /** The command sends no reply frame (SUBSCRIBE, UNSUBSCRIBE); `reply` is then "". */
  readonly noReply?: true
}

/**
 * One example per command, run in table order on one connection of a fresh server authenticated as `root`, so
 * an example may use the keys earlier ones stored. Taken from SPEC §4 and checked against the server.
 */
export const examples: Readonly<Record<string, CommandExample>> = {
  PING: { args: ["hello", "world"], reply: "PONG hello world" },
  SESSION: {
    args: [],
    reply:
      '{"session_id":"1-127.0.0.1:53242","user":{"Username":"root","Password":"*******","Role":"root"},"status":1,' +
      '"created_at":"2026-11-27T11:26:38.578218309Z","last_accessed_at":"2026-11-27T11:26:38.578218309Z"}'
  },
  "SESSION.LIST": {
    args: [],
    reply:
      '[{"session_id":"1-127.0.0.1:53242","user":{"Username":"root","Password":"*******","Role":"root"},"status":1,' +
      '"created_at":"2026-11-27T11:26:38.578218309Z","last_accessed_at":"2026-11-27T11:26:38.578218309Z"}]'
  },
  "SESSION.KILL": { args: ["7-127.0.0.1:40001"], reply: "0" },
  SET: { args: ["user:1:name", "Alice"], reply: "" },
  GET: { args: ["user:1:name"], reply: "Alice" },
  EXISTS: { args: ["user:1:name", "nosuchkey"], reply: "1" },
  DELETE: { args: ["user:1:name"], reply: "" },
  "STR.SET": { args: ["greeting", "Hello"], reply: "" },
  "STR.GET": { args: ["greeting"], reply: "Hello" },
  "STR.APPEND": { args: ["greeting", ", ", "world"], reply: "" },
  "STR.LENGTH": { args: ["greeting"], reply: "12" },
  "STR.RANGE": { args: ["greeting", "7", "5"], reply: "world" },
  "NUM.SET": { args: ["visits", "42"], reply: "" },
  "NUM.GET": { args: ["visits"], reply: "42" },
  "NUM.INCR": { args: ["visits"], reply: "43" },
  "NUM.DECR": { args: ["visits", "0.5"], reply: "42.5" },
  "LIST.SET": { args: ["scores", "10", "20", "30"], reply: "3" },
  "LIST.PUSH": { args: ["scores", "20", "40"], reply: "5" },
  "LIST.ISET": { args: ["scores", "0", "15"], reply: "" },
  "LIST.GET": { args: ["scores"], reply: "[15,20,30,20,40]" },
  "LIST.LEN": { args: ["scores"], reply: "5" },
  "LIST.POP": { args: ["scores"], reply: "40" },
  "LIST.GPOP": { args: ["scores"], reply: "20" },
  "LIST.FIND": { args: ["scores", ">15"], reply: "[20,30]" },
  "LIST.UPDATE": { args: ["scores", ":20", "25"], reply: "1" },
  "MAP.SET": { args: ["user:1", "name", "Alice"], reply: "" },
  "MAP.CSET": { args: ["user:2", "name", "Bob"], reply: "" },
  "MAP.GET": { args: ["user:1", "name"], reply: '"Alice"' },
  "MAP.DEL": { args: ["user:1", "name"], reply: "" },
  "JSON.SET": { args: ["user:3", '{"name":"John","address":{"city":"NY"}}'], reply: "" },
  "JSON.GET": { args: ["user:3", ""], reply: '{"address":{"city":"NY"},"name":"John"}' },
  "JSON.PGET": { args: ["user:3", "address.city"], reply: '"NY"' },
  "JSON.ADD": {
    args: ["user:3", "office.members", "134"],
    reply: '{"address":{"city":"NY"},"name":"John","office":{"members":134}}'
  },
  "JSON.MERGE": {
    args: ["user:3", '{"address":{"zip":"10001"}}'],
    reply: '{"address":{"city":"NY","zip":"10001"},"name":"John","office":{"members":134}}'
  },
  "JSON.REMOVE": { args: ["user:3", "office"], reply: '{"address":{"city":"NY","zip":"10001"},"name":"John"}' },
  "JSON.SETREF": { args: ["order:1", '{"item":"book"}', '{"userId":"user:3"}'], reply: "" },
  TTL: { args: ["greeting"], reply: "-1" },
  "TTL.EXPIRE": { args: ["greeting", "10m"], reply: "1" },
  STATUS: {
    args: [],
    reply:
      '{"connections":1,"pubsub":{"messages_delivered":0,"messages_published":0,"slow_subscribers_disconnected":0,' +
      '"subscribers":0,"topics":0},"server_status":"running","sessions":1,"shard_info":{"0":{"ID":"0",' +
      '"host_address":"127.0.0.1:9219","key_length":3,"name":"Shard 0","total_size":"581 bytes"},' +
      '"1":{"ID":"1","host_address":"127.0.0.1:9219","key_length":3,"name":"Shard 1","total_size":"472 bytes"},' +
      '"shard_count":2},"up_time":"2026-11-27T11:26:24.585305411Z","uptime_seconds":0,"version":"0.1.0"}'
  },
  SUBSCRIBE: { args: ["news"], reply: "", noReply: true },
  UNSUBSCRIBE: { args: ["news"], reply: "", noReply: true },
  PUBLISH: { args: ["news", '{"title":"hello"}'], reply: "" }
}

/**
 * Replaces what differs between runs (client ids, RFC 3339 timestamps, the listen address's port, the uptime
 * and the version) with fixed placeholders, so a documented reply and a live one can be compared exactly.
 */
export const normalizeVolatile = (text: string): string =>
  text
    .replace(/\d+-127\.0\.0\.1:\d+/g, "<client-id>")
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, "<time>")
    .replace(/"127\.0\.0\.1:\d+"/g, '"127.0.0.1:<port>"')
    .replace(/"uptime_seconds":\d+/g, '"uptime_seconds":<n>')
    .replace(/"version":"[^"]*"/g, '"version":"<version>"')

/** What is wrong with the examples: commands without one, and examples naming no command. Empty when all is well. */
export const exampleProblems = (
  commands: ReadonlyArray<CommandSpec> = allCommands,
  byName: Readonly<Record<string, CommandExample>> = examples
): ReadonlyArray<string> => {
  const names = new Set(commands.map((c) => c.name))
  return [
    ...commands.filter((c) => !Object.hasOwn(byName, c.name)).map((c) => `${c.name} has no example`),
    ...Object.keys(byName)
      .filter((n) => !names.has(n))
      .map((n) => `the example for ${n} names no command in the table`)
  ]
}

/** One argument as it would be typed: bare when it can be, else quoted. */
const showArg = (arg: string): string => {
  if (/^[^\s"'`\\]+$/.test(arg)) return arg
  if (!/['`\\]/.test(arg)) return `'${arg}'`
  return JSON.stringify(arg)
}

// A table cell: pipes escaped (GFM splits cells on them even inside code spans).
const cell = (text: string): string => text.replace(/\|/g, "\\|")

// Prose with `<` and `>` escaped outside code spans, so `<length>` is not taken for an HTML tag.
const prose = (text: string): string =>
  text
    .split("`")
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;").replace(/>/g, "&gt;")))
    .join("`")

/** The request and its reply, as one table cell. */
const showExample = (name: string, e: CommandExample | undefined): string => {
  if (e === undefined) return "(no example)"
  const request = "`" + [name, ...e.args.map(showArg)].join(" ") + "`"
  const reply = e.noReply ? "_(no reply)_" : e.reply === "" ? "_(empty)_" : "`" + e.reply + "`"
  return `${request} → ${reply}`
}

/** The roles that may run a command of this class, e.g. `write (root, Admin, User)`. */
const showClass = (spec: CommandSpec): string => {
  const who = roles.filter((r) => mayRun(r, spec.class))
  return `${spec.class} (${who.length === roles.length ? "all roles" : who.join(", ")})`
}

/** The syntax without the command's own name: `<key> <value>` for `SET <key> <value>`. */
const showArgs = (spec: CommandSpec): string => {
  const rest = spec.syntax.startsWith(spec.name) ? spec.syntax.slice(spec.name.length).trim() : spec.syntax
  return rest === "" ? "" : "`" + rest + "`"
}

/** The command table as a markdown table, one line per row. */
export const renderTable = (
  commands: ReadonlyArray<CommandSpec> = allCommands,
  byName: Readonly<Record<string, CommandExample>> = examples
): string => {
  const rows = commands.map((c) =>
    [
      "`" + c.name + "`",
      showArgs(c),
      prose(c.summary),
      showClass(c),
      showExample(c.name, Object.hasOwn(byName, c.name) ? byName[c.name] : undefined)
    ].map(cell)
  )
  const header = ["Command", "Arguments", "What it does", "Class (roles)", "Example"]
  return [header, header.map(() => "---"), ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n") + "\n"
}

/** The README markers; the generated section goes between them. */
export const README_BEGIN = "<!-- commands:begin -->"
export const README_END = "<!-- commands:end -->"

// Markdown prose lines, wrapped at 120 columns like the rest of the README.
const intro = [
  "Every command, generated from the command table by `npm run docs` (do not edit the table by hand). Names match",
  "in any case; keys, fields and values are case-sensitive. The examples run in this order on one connection of a",
  "fresh server as `root` (a test replays them and checks every reply), so later ones use keys stored by earlier",
  "ones; _(empty)_ is an empty result. A command the caller's role may not run answers",
  "`PermissionDeniedError: role <Role> may not run <COMMAND>`."
].join("\n")

// Prettier would pad every row to the widest cell (the STATUS reply); the table is kept compact instead.
const unformatted = (markdown: string): string =>
  `<!-- prettier-ignore-start -->\n\n${markdown}\n<!-- prettier-ignore-end -->\n`

/** What goes between the README markers: the intro and the table. */
export const renderReadmeSection = (): string => `\n${intro}\n\n${unformatted(renderTable())}\n`

const classes: ReadonlyArray<CommandClass> = ["read", "write", "admin", "connection", "subscribe", "publish"]

/** The whole of docs/COMMANDS.md. */
export const renderCommandsDoc = (): string =>
  [
    "# Commands",
    "",
    intro,
    "",
    "The classes each role may run:",
    "",
    ...roles.map((r) => `- \`${r}\`: ${classes.filter((c) => mayRun(r, c)).join(", ")}`),
    "",
    unformatted(renderTable())
  ].join("\n")

/** The README's generated section, or undefined when the markers are missing or out of order. */
export const readmeSection = (readme: string): string | undefined => {
  const begin = readme.indexOf(README_BEGIN + "\n")
  const end = readme.indexOf(README_END)
  if (begin < 0 || end < begin) return undefined
  return readme.slice(begin + README_BEGIN.length + 1, end)
}

/** The README with `section` between the markers, or undefined when the markers are missing. */
export const spliceReadme = (readme: string, section: string): string | undefined => {
  const current = readmeSection(readme)
  if (current === undefined) return undefined
  const begin = readme.indexOf(README_BEGIN + "\n") + README_BEGIN.length + 1
  return readme.slice(0, begin) + section + readme.slice(begin + current.length)
}

/** Why the tool could not write the docs. */
class CommandsDocError extends Data.TaggedError("CommandsDocError")<{ readonly message: string }> {}

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Regenerates README.md's section and docs/COMMANDS.md. */
const program = Effect.gen(function* () {
  const problems = exampleProblems()
  if (problems.length > 0) return yield* new CommandsDocError({ message: problems.join("; ") })
  const fs = yield* FileSystem.FileSystem
  const readmePath = root + "README.md"
  const readme = yield* fs.readFileString(readmePath)
  const next = spliceReadme(readme, renderReadmeSection())
  if (next === undefined)
    return yield* new CommandsDocError({ message: `README.md lacks the lines ${README_BEGIN} and ${README_END}` })
  yield* fs.writeFileString(readmePath, next)
  yield* fs.makeDirectory(root + "docs", { recursive: true })
  yield* fs.writeFileString(root + "docs/COMMANDS.md", renderCommandsDoc())
  yield* Console.log(`wrote README.md (commands section) and docs/COMMANDS.md: ${allCommands.length} commands`)
})

// Run only as a program (`tsx src/tools/commandsDoc.ts`), not when a test imports the module.
const isMain = process.argv[1] !== undefined && pathToFileURL(realpathSync(process.argv[1])).href === import.meta.url

if (isMain)
  program.pipe(
    Effect.tapError((e) => Console.error(`docs: ${e.message}`)),
    Effect.provide(NodeContext.layer),
    NodeRuntime.runMain({ disableErrorReporting: true })
  )

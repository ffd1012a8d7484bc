/**
 * fleare-cli as a user runs it, against the real server: one command from the arguments, commands from a
 * piped stdin, and the interactive prompt (through a pseudo-terminal, and forced with `-i` over a pipe).
 */
import * as fs from "node:fs"
import * as net from "node:net"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { allCommands } from "../../src/commands/registry.js"
import { VERSION } from "../../src/version.js"
import { startServer, type TestServer } from "../support/server.js"
import { hasScript, runCli, runInTerminal, stripTerminal, tempHome } from "./run.js"

// Each test starts Node processes (about 2 s of CPU each); a loaded machine can make that much slower.
const PROCESS_TIMEOUT = 120_000

let server: TestServer
let auth: Array<string>

beforeAll(async () => {
  server = await startServer()
  auth = ["--port", String(server.port), "-u", "root", "-p", "root"]
})

afterAll(async () => {
  await server.close()
})

const SESSION_LINES = [
  /^Ok \{$/,
  /^ {2}"created_at": "\d{4}-\d\d-\d\dT[\d:.]+Z",$/,
  /^ {2}"last_accessed_at": "\d{4}-\d\d-\d\dT[\d:.]+Z",$/,
  /^ {2}"session_id": "\d+-127\.0\.0\.1:\d+",$/,
  /^ {2}"status": 1,$/,
  /^ {2}"user": \{$/,
  /^ {4}"Password": "\*{7}",$/,
  /^ {4}"Role": "root",$/,
  /^ {4}"Username": "root"$/,
  /^ {2}\}$/,
  /^\}$/
]

/** Asserts that `lines` are exactly the pretty-printed SESSION reply. */
const expectSession = (lines: ReadonlyArray<string>) => {
  expect(lines.length).toBe(SESSION_LINES.length)
  lines.forEach((l, i) => expect(l).toMatch(SESSION_LINES[i]!))
}

const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

describe.concurrent("one command from the arguments", { timeout: PROCESS_TIMEOUT }, () => {
  it("prints Ok and the reply, JSON objects pretty-printed with sorted keys; exit 0 (-p wins over FLEARE_PASSWORD)", async () => {
    const r = await runCli([...auth, "session"], { env: { FLEARE_PASSWORD: "wrong" } })
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" })
    expectSession(r.stdout.trimEnd().split("\n"))
  })

  it("--json prints the reply raw", async () => {
    const r = await runCli(["--json", ...auth, "session"])
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" })
    expect(r.stdout).toMatch(
      /^\{"session_id":"\d+-127\.0\.0\.1:\d+","user":\{"Username":"root","Password":"\*{7}","Role":"root"\},"status":1,"created_at":"[^"]+","last_accessed_at":"[^"]+"\}\n$/
    )
  })

  it("prints Error and the server's message on stderr; exit 1", async () => {
    const r = await runCli([...auth, "num.incr", "cli:n", "x"])
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr: "Error InvalidValueError: provided value is not a valid number\n"
    })
  })

  it("reads the password from FLEARE_PASSWORD, and passes arguments that look like options through", async () => {
    const r = await runCli(["--port", String(server.port), "-u", "root", "num.incr", "cli:neg", "-5"], {
      env: { FLEARE_PASSWORD: "root" }
    })
    expect(r).toEqual({ code: 0, stdout: "Ok -5\n", stderr: "" })
  })

  it("exits 2 when the server cannot be reached", async () => {
    const port = await freePort()
    const r = await runCli(["--port", String(port), "-u", "root", "-p", "root", "ping"])
    expect(r).toEqual({
      code: 2,
      stdout: "",
      stderr: `Error could not connect to 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`
    })
  })

  it("exits 1 with the server's text when the credentials are refused", async () => {
    const r = await runCli(["--port", String(server.port), "-u", "root", "-p", "wrong", "ping"])
    expect(r).toEqual({
      code: 1,
      stdout: "",
      stderr:
        "Error ConnectionFailed: The username or password you entered is incorrect. Please try again with valid credentials.\n"
    })
  })

  it("help and version need no server", async () => {
    const get = allCommands.find((c) => c.name === "GET")!
    expect(await runCli(["--port", "1", "help", "GET"])).toEqual({
      code: 0,
      stdout: `${get.syntax}\n  ${get.summary}\n`,
      stderr: ""
    })
    // Through the bin launcher, as `npx fleare-cli version` runs it.
    expect(await runCli(["version"], { viaBin: true })).toEqual({
      code: 0,
      stdout: `fleare-cli\nVersion: v${VERSION}\n`,
      stderr: ""
    })
  })
})

describe.concurrent("commands from a piped stdin", { timeout: PROCESS_TIMEOUT }, () => {
  const script = [
    "# set up",
    "set cli:greeting 'hello world'",
    "get cli:greeting",
    `json.set cli:u '{"b": 1, "a": [1, "x"]}'`,
    `json.get cli:u ""`,
    "",
    "num.incr cli:greeting",
    "help nope",
    `ping "quoted arg"`,
    "exit",
    "ping never"
  ].join("\n")

  it("runs one command per line, in order, until exit; exit 1 as one failed", async () => {
    const r = await runCli(auth, { stdin: script })
    expect(r.stdout).toBe(
      [
        "Ok",
        "Ok hello world",
        "Ok",
        'Ok {\n  "a": [\n    1,\n    "x"\n  ],\n  "b": 1\n}',
        "Ok PONG quoted arg",
        ""
      ].join("\n")
    )
    expect(r.stderr).toBe(
      "Error InvalidValueError: the existing value for the provided key must be a number\n" +
        'Error unknown command "nope" (`help` lists them)\n'
    )
    expect(r.code).toBe(1)
  })

  it("--json prints results and errors raw; exit 0 only when every line answered Ok", async () => {
    const ok = await runCli(["--json", ...auth], { stdin: "set cli:j '[1, 2]'\nget cli:j\nget cli:missing\nping\n" })
    expect(ok).toEqual({ code: 0, stdout: "\n[1, 2]\n\nPONG \n", stderr: "" })
    const failed = await runCli(["--json", ...auth], { stdin: "num.incr cli:jn x\nping\n" })
    expect(failed).toEqual({
      code: 1,
      stdout: "PONG \n",
      stderr: "InvalidValueError: provided value is not a valid number\n"
    })
  })
})

describe("the interactive prompt", { timeout: PROCESS_TIMEOUT }, () => {
  it("forced with -i over pipes: connects, prompts, pretty-prints, reports errors, leaves on exit", async () => {
    const r = await runCli(["-i", ...auth], {
      stdin: "session\nget cli:none\nnum.incr cli:i x\nset 'cli:k' \"a b\"\nget cli:k\nexit\nping never\n"
    })
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" })
    const prompt = `127.0.0.1:${server.port}> `
    const lines = r.stdout.split("\n")
    expect(lines.slice(0, 2)).toEqual(["Ok Connected", `${prompt}session`])
    expectSession(lines.slice(2, 13))
    expect(lines.slice(13)).toEqual([
      `${prompt}get cli:none`,
      "Ok",
      `${prompt}num.incr cli:i x`,
      "Error InvalidValueError: provided value is not a valid number",
      `${prompt}set 'cli:k' "a b"`,
      "Ok",
      `${prompt}get cli:k`,
      "Ok a b",
      `${prompt}exit`,
      ""
    ])
  })

  it.skipIf(!hasScript)(
    "in a terminal: hidden password prompt, colours, completion, Ctrl-C, history, exit",
    async () => {
      const home = tempHome()
      const term = runInTerminal(["--port", String(server.port), "-u", "root"], { HOME: home })
      const prompt = `127.0.0.1:${server.port}> `
      let at = await term.waitFor("Password: ")
      term.type("root\r")
      at = await term.waitFor(prompt, at)
      const afterPassword = stripTerminal(term.raw()).slice(0, at)
      expect(afterPassword).toContain("Ok Connected")
      expect(afterPassword).not.toContain("root") // the password was not echoed
      expect(term.raw()).toContain("\x1b[32mOk\x1b[0m Connected")

      /** Types a line and returns what it printed: the text between its echo and the next prompt. */
      const line = async (text: string): Promise<string> => {
        term.type(text + "\r")
        const start = await term.waitFor(text, at)
        at = await term.waitFor(prompt, start)
        return stripTerminal(term.raw()).slice(start + text.length, at)
      }

      const session = await line("session")
      expectSession(session.trim().split("\n"))
      expect(term.raw()).toContain('\x1b[34;1m"Username"\x1b[0m: \x1b[32m"root"\x1b[0m')

      expect(await line("num.incr cli:t x")).toBe("\nError InvalidValueError: provided value is not a valid number\n")
      expect(term.raw()).toContain("\x1b[31mError\x1b[0m InvalidValueError")

      // Tab completes `he` to `help` (readline completes asynchronously: wait for it before typing on).
      term.type("he\t")
      at = await term.waitFor(`${prompt}help`, at)
      const get = allCommands.find((c) => c.name === "GET")!
      expect(await line(" get")).toBe(`\n${get.syntax}\n  ${get.summary}\n`)

      // Ctrl-C drops the half-typed line: it is never sent, and the next line runs alone.
      term.type("set cli:t abandoned\x03")
      at = await term.waitFor("^C", at)
      at = await term.waitFor(prompt, at)
      expect(await line("get cli:t")).toBe("\nOk\n")

      term.type("exit\r")
      expect(await term.exited).toBe(0)
      const history = fs.readFileSync(path.join(home, ".fleare_history"), "utf8")
      expect(history).toBe("session\nnum.incr cli:t x\nhelp get\nget cli:t\nexit\n")
    }
  )
})

/**
 * fleare-cli's own command line, through a real process: `--help` (each flag, the environment, examples, exit
 * codes; no colour, no framework text), worded flag errors, repeated flags, the hint after refused credentials
 * that were incomplete, `help auth`, and the quoting hint at the prompt. The parser is also checked directly.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { parseCliArgs, USAGE } from "../../src/cli/flags.js"
import { startServer, type TestServer } from "../support/server.js"
import { runCli } from "./run.js"

// Each test starts Node processes (about 2 s of CPU each); a loaded machine can make that much slower.
const PROCESS_TIMEOUT = 120_000

let server: TestServer

beforeAll(async () => {
  server = await startServer()
})

afterAll(async () => {
  await server.close()
})

describe("parseCliArgs", () => {
  it("defaults, and the first word that is not a flag starts the command", () => {
    expect(parseCliArgs(["-u", "root", "num.incr", "k", "-5", "--port", "1"])).toEqual({
      _tag: "Run",
      flags: {
        host: "127.0.0.1",
        port: 9219,
        user: "root",
        password: undefined,
        json: false,
        interactive: false,
        words: ["num.incr", "k", "-5", "--port", "1"]
      }
    })
  })

  it("a flag given twice takes its last value and keeps every other flag", () => {
    const r = parseCliArgs(["--port", "1", "-u", "ann", "-p", "pw", "--port=2", "--host", "h", "ping"])
    expect(r).toMatchObject({ _tag: "Run", flags: { port: 2, user: "ann", password: "pw", host: "h" } })
  })

  it("words its errors", () => {
    expect(parseCliArgs(["--port", "abc"])).toEqual({ _tag: "Invalid", message: "--port: 'abc' is not an integer" })
    expect(parseCliArgs(["--port", "70000"])).toEqual({
      _tag: "Invalid",
      message: "--port: 70000 is not a port number (1 to 65535)"
    })
    expect(parseCliArgs(["-u"])).toEqual({ _tag: "Invalid", message: "-u needs a value" })
    expect(parseCliArgs(["--wizard"])).toEqual({ _tag: "Invalid", message: "unknown option '--wizard'" })
    expect(parseCliArgs(["--json=yes"])).toEqual({ _tag: "Invalid", message: "--json takes no value (got 'yes')" })
  })

  it("--help wins; version as a flag or a word", () => {
    expect(parseCliArgs(["--port", "1", "-h"])).toEqual({ _tag: "Help" })
    expect(parseCliArgs(["-v"])).toEqual({ _tag: "Version" })
    expect(parseCliArgs(["version"])).toEqual({ _tag: "Version" })
  })
})

describe.concurrent("fleare-cli's command line, as a process", { timeout: PROCESS_TIMEOUT }, () => {
  it("--help prints its own text: every flag, the environment, examples, exit codes; no colour when piped", async () => {
    const r = await runCli(["--help"])
    expect(r).toEqual({ code: 0, stdout: USAGE + "\n", stderr: "" })
    for (const text of ["--host", "--port", "-u, --user", "-p, --password", "--json", "-i, --interactive"])
      expect(r.stdout).toContain(text)
    expect(r.stdout).toContain("FLEARE_PASSWORD")
    expect(r.stdout).toContain("NO_COLOR")
    expect(r.stdout).toContain("Examples:")
    expect(r.stdout).toContain("Exit status:")
    expect(r.stdout).toContain("in fleare-benchmark,\n                        as in redis-benchmark, -p is the port")
    expect(r.stdout).not.toMatch(/\x1b\[/)
    expect(r.stdout).not.toMatch(/user-defined|--wizard|--completions/)
  })

  it("a wrong flag exits 2 with one grammatical line", async () => {
    expect(await runCli(["--port", "abc", "ping"])).toEqual({
      code: 2,
      stdout: "",
      stderr: "fleare-cli: --port: 'abc' is not an integer (fleare-cli --help for the options)\n"
    })
  })

  it("a repeated --port takes the last value and keeps -u and -p", async () => {
    const r = await runCli(["--port", "1", "-u", "root", "-p", "root", "--port", String(server.port), "ping", "x"])
    expect(r).toEqual({ code: 0, stdout: "Ok PONG x\n", stderr: "" })
  })

  it("refused credentials with no -u: the server's text, then a hint to pass -u / FLEARE_PASSWORD", async () => {
    const r = await runCli(["--port", String(server.port), "ping"])
    expect(r.code).toBe(1)
    expect(r.stderr.split("\n")).toEqual([
      "Error ConnectionFailed: failed to authenticate, please ensure your username and password are provided",
      "hint: no user was given: pass -u USER (the password with -p PASSWORD, FLEARE_PASSWORD, or at the prompt)",
      ""
    ])
  })

  it("refused credentials with -u but no password (stdin not a terminal): a hint to pass -p or FLEARE_PASSWORD", async () => {
    const r = await runCli(["--port", String(server.port), "-u", "root", "ping"])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(
      "hint: no password was given: pass -p PASSWORD or set FLEARE_PASSWORD (on a terminal, -u alone asks for it)\n"
    )
  })

  it("wrong credentials that were complete get no hint", async () => {
    const r = await runCli(["--port", String(server.port), "-u", "root", "-p", "nope", "ping"])
    expect(r.code).toBe(1)
    expect(r.stderr).not.toContain("hint")
  })

  it("help lists auth, and help auth explains it", async () => {
    const all = await runCli(["--port", "1", "help"])
    expect(all.stdout).toMatch(/^ {2}AUTH <username> <password> /m)
    expect(await runCli(["--port", "1", "help", "auth"])).toEqual({
      code: 0,
      stdout:
        "AUTH <username> <password>\n  Authenticates the connection (fleare-cli does it on connecting, from -u and -p); again: as another user.\n",
      stderr: ""
    })
  })

  it("JSON whose double quotes the line splitting removed: the server's error, then a quoting hint", async () => {
    const r = await runCli(["--port", String(server.port), "-u", "root", "-p", "root"], {
      stdin: `json.set cli:q {"x":[1,2]}\njson.set cli:q '{"x":[1,2]}'\njson.get cli:q\n`
    })
    const lines = r.stderr.split("\n")
    expect(lines[0]).toMatch(/^Error /)
    expect(lines[1]).toBe(
      `hint: the line is split like a shell's, which removed the double quotes from the JSON; wrap JSON in single quotes: json.set doc '{"x":[1,2]}'`
    )
    expect(lines.length).toBe(3)
    expect(r.stdout).toContain('"x"')
    expect(r.code).toBe(1)
  })

  it("no colour on a pipe even for errors; NO_COLOR is honoured", async () => {
    const r = await runCli(["--port", String(server.port), "-u", "root", "-p", "root", "num.incr", "cli:c", "x"], {
      env: { NO_COLOR: "1" }
    })
    expect(r.stderr).toMatch(/^Error /)
    expect(r.stderr).not.toMatch(/\x1b\[/)
  })
})

/**
 * The real programs as separate processes: configuration errors at startup, the `config` environment variable,
 * and `npm run hash-password`. Each spawn costs a second or more, so the cases are few (sequential: concurrent
 * spawns on a busy machine hit the 20 s start timeout).
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { hashPassword, verifyPassword } from "../../src/session/Password.js"
import { runServerToExit, spawnServer } from "../support/process.js"
import { WireClient } from "../support/wire.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Runs `src/tools/hashPassword.ts` (what `npm run hash-password` runs) with `stdin` piped in. */
const runHashTool = (
  args: ReadonlyArray<string>,
  stdin: string
): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/tools/hashPassword.ts", ...args], {
      cwd: root,
      stdio: ["pipe", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => child.kill("SIGKILL"), 20_000)
    child.once("error", reject)
    child.once("exit", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
    child.stdin.end(stdin)
  })

describe("startup", () => {
  it("a wrong type exits 1 naming the key", async () => {
    const { code, output } = await runServerToExit(["--config", 'server: {port: "abc"}'])
    expect(code).toBe(1)
    expect(output).toContain("configuration error")
    expect(output).toContain("server.port")
    expect(output).not.toContain("listening on")
  })

  it("an unknown role exits 1 naming the role", async () => {
    const { code, output } = await runServerToExit([
      "--config",
      "security: {users: [{username: root, password: s3cret, role: wizard}]}"
    ])
    expect(code).toBe(1)
    expect(output).toContain('unknown role "wizard"')
    expect(output).not.toContain("s3cret")
  })

  it("--host 0.0.0.0 with the default password exits 1 saying how to set one", async () => {
    const { code, output } = await runServerToExit(["--host", "0.0.0.0", "--port", "0"])
    expect(code).toBe(1)
    expect(output).toContain("0.0.0.0")
    expect(output).toContain("security.users[].password")
    expect(output).toContain("npm run hash-password")
    expect(output).not.toContain("listening on")
  })

  it("the config environment variable is the override when --config is absent", async () => {
    const server = await spawnServer([], {
      config: "security: {users: [{username: alice, password: pw1, role: User}]}"
    })
    try {
      const c = await WireClient.connect(server.port)
      const r = await c.call("AUTH", "alice", "pw1")
      expect(r.status).toBe("Ok")
      expect(r.result).toBe("Connected")
      const session = JSON.parse((await c.call("SESSION")).result) as { user: { Role: string } }
      expect(session.user.Role).toBe("User")
      c.destroy()
      // The override's users replaced the default root/root.
      const root = await WireClient.connect(server.port)
      const denied = await root.call("AUTH", "root", "root")
      expect(denied.status).toBe("Error")
      expect(denied.result).toBe(
        "ConnectionFailed: The username or password you entered is incorrect. Please try again with valid credentials."
      )
      root.destroy()
    } finally {
      await server.stop()
    }
  })

  it("an scrypt hash works as a configured password end to end, and never shows", async () => {
    const hash = await Effect.runPromise(hashPassword("s3cret"))
    const server = await spawnServer([
      "--config",
      `security: {users: [{username: root, password: "${hash}", role: root}]}`
    ])
    try {
      const c = await WireClient.connect(server.port)
      const r = await c.call("AUTH", "root", "s3cret")
      expect(r.status).toBe("Ok")
      expect(r.result).toBe("Connected")
      const session = await c.call("SESSION")
      expect(session.status).toBe("Ok")
      expect(session.result).toContain('"user":{"Username":"root","Password":"*******","Role":"root"}')
      c.destroy()
      const wrong = await WireClient.connect(server.port)
      expect((await wrong.call("AUTH", "root", hash)).result).toBe(
        "ConnectionFailed: The username or password you entered is incorrect. Please try again with valid credentials."
      )
      wrong.destroy()
      expect(server.output()).not.toContain(hash)
      expect(server.output()).not.toContain("s3cret")
    } finally {
      await server.stop()
    }
  })

  it("hash-password reads one line of stdin and prints a working hash, with a hint on stderr", async () => {
    const { code, stdout, stderr } = await runHashTool([], "correct horse\nsecond line\n")
    expect(code).toBe(0)
    expect(stdout).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*\n$/)
    expect(stderr.trim().split("\n")).toHaveLength(1)
    expect(stderr).toContain("security.users[].password")
    const hash = stdout.trim()
    expect(await Effect.runPromise(verifyPassword(hash, "correct horse"))).toBe(true)
    expect(await Effect.runPromise(verifyPassword(hash, "correct horse\nsecond line"))).toBe(false)
  })

  it("hash-password takes the password as its argument; empty input exits 1", async () => {
    const arg = await runHashTool(["pw from arg"], "")
    const empty = await runHashTool([], "")
    expect(arg.code).toBe(0)
    expect(await Effect.runPromise(verifyPassword(arg.stdout.trim(), "pw from arg"))).toBe(true)
    expect(empty.code).toBe(1)
    expect(empty.stdout).toBe("")
    expect(empty.stderr).toContain("empty password")
  })
})

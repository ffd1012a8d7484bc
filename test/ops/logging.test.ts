/**
 * Structured logs of the real server program with `logging.format: json`: every line is one JSON object;
 * connection open and close and a failed AUTH each log a line carrying the peer's address and the client
 * (session) id; shutdown says what it does and when it is done; no line carries a password, whether it was
 * configured, sent in a failed AUTH, or sent in a successful one.
 */
import { describe, expect, it } from "vitest"
import { freePort } from "../support/ops.js"
import { spawnServer } from "../support/process.js"
import { WireClient } from "../support/wire.js"

interface LogLine {
  readonly message: unknown
  readonly logLevel: string
  readonly timestamp: string
  readonly annotations: Record<string, unknown>
}

const exitOf = (child: import("node:child_process").ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    child.once("exit", (code) => resolve(code))
  })

describe("logging.format: json", () => {
  it("one JSON object per line, connection and AUTH lines annotated, shutdown reported, no secrets", async () => {
    const port = await freePort()
    const server = await spawnServer([
      "--port",
      String(port),
      "--config",
      '{logging: {format: json}, security: {users: [{username: root, password: "Conf1gured-Secret", role: root}]}}'
    ])
    const bad = await WireClient.connect(port)
    expect((await bad.call("AUTH", "root", "Wr0ng-Guess")).status).toBe("Error")
    await bad.closed
    const good = await WireClient.connect(port)
    const auth = await good.call("AUTH", "root", "Conf1gured-Secret")
    expect(auth.result).toBe("Connected")
    await good.ok("SET", "k", "v")
    good.destroy()
    await good.closed
    server.child.kill("SIGTERM")
    expect(await exitOf(server.child)).toBe(0)

    const output = server.output()
    expect(output).not.toContain("Conf1gured-Secret")
    expect(output).not.toContain("Wr0ng-Guess")
    const lines = output.split("\n").filter((l) => l.trim() !== "")
    const logs = lines.map((l) => JSON.parse(l) as LogLine)
    for (const l of logs) {
      expect(typeof l.message === "string" || Array.isArray(l.message)).toBe(true)
      expect(l.logLevel).toMatch(/^(DEBUG|INFO|WARN|ERROR)$/)
      expect(Number.isNaN(Date.parse(l.timestamp))).toBe(false)
    }
    const withMessage = (m: string) => logs.filter((l) => l.message === m)
    const opened = withMessage("connection opened")
    const closed = withMessage("connection closed")
    expect(opened).toHaveLength(2)
    expect(closed).toHaveLength(2)
    for (const l of [...opened, ...closed]) {
      expect(l.annotations["remote"]).toMatch(/^127\.0\.0\.1:\d+$/)
      expect(l.annotations["clientId"]).toMatch(/^\d+-127\.0\.0\.1:\d+$/)
    }
    expect(opened.map((l) => l.annotations["clientId"])).toContain(auth.clientId)
    expect(closed.map((l) => l.annotations["clientId"])).toContain(auth.clientId)
    const failed = logs.filter((l) => typeof l.message === "string" && l.message.startsWith("AUTH failed"))
    expect(failed).toHaveLength(1)
    expect(failed[0]!.logLevel).toBe("WARN")
    expect(failed[0]!.annotations).toMatchObject({ user: "root", remote: expect.stringMatching(/^127\.0\.0\.1:\d+$/) })
    expect(failed[0]!.annotations["clientId"]).toBe(opened[0]!.annotations["clientId"])
    const messages = logs.map((l) => String(l.message))
    const stopping = messages.findIndex((m) => m.startsWith("shutting down"))
    const done = messages.indexOf("shutdown complete")
    expect(stopping).toBeGreaterThanOrEqual(0)
    expect(done).toBe(messages.length - 1)
  })
})

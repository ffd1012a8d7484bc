/**
 * `fleare-cli subscribe <topic>` against the real server: it prints each published message (objects and arrays
 * pretty-printed, other values as sent) until Ctrl-C (SIGINT), then exits 0 and the server drops the
 * subscription. At the prompt or from stdin lines, `subscribe` is refused with a hint instead of hanging.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { noColors } from "../../src/cli/format.js"
import { formatMessage } from "../../src/cli/subscribe.js"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"
import { runCli } from "./run.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
let server: TestServer

beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server.close()
})

const waitFor = async (read: () => string, text: string, ms = 90_000): Promise<void> => {
  const until = Date.now() + ms
  while (!read().includes(text)) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${JSON.stringify(text)}; got:\n${read()}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe("fleare-cli subscribe", { timeout: 120_000 }, () => {
  it("prints each message until Ctrl-C, JSON pretty-printed; exits 0 and the subscription ends", async () => {
    const child = spawn(
      process.execPath,
      [
        "--import",
        "tsx",
        "src/cli/main.ts",
        "--port",
        String(server.port),
        "-u",
        "root",
        "-p",
        "root",
        "subscribe",
        "news"
      ],
      { cwd: root, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } }
    )
    const pub = await WireClient.authed(server.port)
    try {
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()))
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()))
      const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
      await waitFor(() => stderr, 'Subscribed to "news"; Ctrl-C to stop.')
      await pub.ok("PUBLISH", "news", '{"b":1,"a":[1,2]}')
      await pub.ok("PUBLISH", "news", "hello world")
      await pub.ok("PUBLISH", "news", "42")
      await waitFor(() => stdout, "42\n")
      expect(stdout).toBe(['{\n  "a": [\n    1,\n    2\n  ],\n  "b": 1\n}', '"hello world"', "42", ""].join("\n"))
      child.kill("SIGINT")
      expect(await exited).toBe(0)
      // Its connections closed: the broker holds no subscriber.
      const until = Date.now() + 5000
      let subscribers = -1
      while (subscribers !== 0 && Date.now() < until) {
        subscribers = (JSON.parse(await pub.ok("STATUS")) as { pubsub: { subscribers: number } }).pubsub.subscribers
        if (subscribers !== 0) await new Promise((r) => setTimeout(r, 20))
      }
      expect(subscribers).toBe(0)
    } finally {
      child.kill("SIGKILL")
      pub.destroy()
    }
  })

  it("from stdin lines, subscribe and unsubscribe are refused with a hint (no reply would ever come)", async () => {
    const r = await runCli(["--port", String(server.port), "-u", "root", "-p", "root"], {
      stdin: "subscribe news\nunsubscribe news\nping still\n"
    })
    expect(r.code).toBe(1)
    expect(r.stdout).toBe("Ok PONG still\n")
    const hint = "Error subscribe runs on its own: `fleare-cli subscribe <topic>` prints its messages until Ctrl-C"
    expect(r.stderr).toBe(`${hint}\n${hint}\n`)
  })

  it("--json prints each message raw; otherwise objects and arrays are pretty", () => {
    expect(formatMessage('{"b":[1],"a":"x"}', true, noColors)).toBe('{"b":[1],"a":"x"}')
    expect(formatMessage('{"b":[1],"a":"x"}', false, noColors)).toBe('{\n  "a": "x",\n  "b": [\n    1\n  ]\n}')
    expect(formatMessage('"text"', false, noColors)).toBe('"text"')
  })
})

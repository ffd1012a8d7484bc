/**
 * Graceful shutdown of the real program: SIGTERM in the middle of a pipelined burst. Every request that got a
 * reply must be durable, the replies must be a prefix of the requests on each connection, and the process must
 * exit 0 after closing the log. Also the command-line side of recovery: a corrupt log stops startup with the
 * file and offset, `--repair` starts anyway, `--restore <file>` starts from a backup.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { encodeRecords, MAGIC } from "../../src/persistence/Record.js"
import { runServerToExit, spawnServer } from "../support/process.js"
import { WireClient } from "../support/wire.js"

const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const newDir = () => {
  const d = mkdtempSync(nodePath.join(tmpdir(), "fleare-shutdown-"))
  dirs.push(d)
  return d
}
const persistent = (dir: string) => ["--config", `{persistence: {enable: true, path: "${dir}", fsync: always}}`]

const exitOf = (child: import("node:child_process").ChildProcess): Promise<number | null> =>
  new Promise((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    child.once("exit", (code) => resolve(code))
  })

describe("graceful shutdown", () => {
  it("SIGTERM during a pipelined burst: every answered request is durable and the process exits 0", async () => {
    const dir = newDir()
    const server = await spawnServer(persistent(dir))
    const clients = await Promise.all([0, 1, 2].map(() => WireClient.authed(server.port)))
    // Each connection keeps WINDOW requests in flight (a new one per reply) until the server closes it.
    const WINDOW = 2000
    const MAX = 30_000
    const sent = clients.map(() => 0)
    const answered = clients.map(() => 0)
    const send = (id: number) => {
      const c = clients[id]!
      if (sent[id]! < MAX && !c.isClosed) c.send("SET", `c${id}:${sent[id]}`, `value ${id}/${sent[id]!++}`)
    }
    const reading = clients.map(async (c, id) => {
      for (;;) {
        let r
        try {
          r = await c.next(20_000)
        } catch {
          return
        }
        expect(r.status).toBe("Ok")
        answered[id]! += 1
        send(id)
      }
    })
    clients.forEach((_, id) => {
      for (let i = 0; i < WINDOW; i++) send(id)
    })
    // Signal once the burst is well under way.
    while (answered.reduce((a, b) => a + b, 0) < 300) await new Promise((r) => setTimeout(r, 2))
    server.child.kill("SIGTERM")
    const code = await exitOf(server.child)
    await Promise.all(reading)
    expect(code).toBe(0)
    const output = server.output()
    expect(output).toMatch(/shutting down: finishing the requests of 3 connections/)
    expect(output).toMatch(/closed .*fleare\.wal/)
    // Some requests were still unanswered when the server stopped reading (otherwise this tests nothing).
    expect(answered.some((n, id) => n < sent[id]!)).toBe(true)
    for (const c of clients) c.destroy()

    const again = await spawnServer(persistent(dir))
    try {
      const c = await WireClient.authed(again.port)
      for (let id = 0; id < 3; id++) {
        // Every answered SET is there; unanswered ones may be there too, but only as a prefix (no holes).
        const check = sent[id]!
        for (let i = 0; i < check; i++) c.send("GET", `c${id}:${i}`)
        let present = 0
        let holes = 0
        for (let i = 0; i < check; i++) {
          const r = await c.next()
          if (r.result === `value ${id}/${i}`) {
            present += 1
            if (present !== i + 1) holes += 1
          } else expect(r.result).toBe("")
        }
        expect(holes).toBe(0)
        expect(present).toBeGreaterThanOrEqual(answered[id]!)
      }
      c.destroy()
    } finally {
      expect(await again.stop()).toBe(0)
    }
  }, 120_000)
})

describe("recovery from the command line", () => {
  it("a corrupt log stops startup naming file and offset; --repair starts, keeping a copy", async () => {
    const dir = newDir()
    const path = nodePath.join(dir, "fleare.wal")
    const records = Array.from({ length: 6 }, (_, i) => ({
      op: "set" as const,
      key: `k${i}`,
      value: { kind: "Default" as const, value: `v${i}` },
      expiresAt: 0n
    }))
    const bytes = Buffer.concat([MAGIC, encodeRecords(records)])
    const offset = MAGIC.length + encodeRecords(records.slice(0, 3)).length
    bytes[offset + 14]! ^= 0x02
    writeFileSync(path, bytes)

    const refused = await runServerToExit([...persistent(dir), "--port", "0"])
    expect(refused.code).toBe(1)
    expect(refused.output).toContain(`corrupt record in ${path} at byte offset ${offset} (checksum mismatch)`)
    expect(refused.output).toContain("--repair")
    expect(refused.output).not.toContain("listening on")

    const repaired = await spawnServer([...persistent(dir), "--repair"])
    try {
      const c = await WireClient.authed(repaired.port)
      expect(await c.ok("GET", "k2")).toBe("v2")
      expect(await c.ok("EXISTS", "k3")).toBe("0")
      c.destroy()
    } finally {
      expect(await repaired.stop()).toBe(0)
    }
    const copy = readdirSync(dir).find((n) => n.startsWith("fleare.wal.corrupt-"))
    expect(copy).toBeDefined()
    expect(readFileSync(nodePath.join(dir, copy!)).equals(bytes)).toBe(true)
    expect(repaired.output()).toContain(`truncated it at byte ${offset}`)
  }, 120_000)

  it("--restore <file> starts from a backup and makes it the log", async () => {
    const dir = newDir()
    const backup = nodePath.join(newDir(), "fleare-20260101T000000.000000000Z.backup")
    writeFileSync(
      backup,
      Buffer.concat([
        MAGIC,
        encodeRecords([{ op: "set", key: "restored", value: { kind: "String", value: "yes" }, expiresAt: 0n }])
      ])
    )
    const server = await spawnServer([...persistent(dir), "--restore", backup])
    try {
      const c = await WireClient.authed(server.port)
      expect(await c.ok("GET", "restored")).toBe("yes")
      c.destroy()
    } finally {
      expect(await server.stop()).toBe(0)
    }
    expect(existsSync(nodePath.join(dir, "fleare.wal"))).toBe(true)
    expect(readFileSync(nodePath.join(dir, "fleare.wal")).subarray(8).equals(readFileSync(backup).subarray(8))).toBe(
      true
    )
  }, 120_000)
})

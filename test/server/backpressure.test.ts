/**
 * A client that writes requests as fast as it can and never reads its replies must not grow the server's
 * memory without bound: the server stops reading it once unsent replies pile up. Runs the real server program
 * as a child process, so its RSS is the server's alone.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as net from "node:net"
import { encodeCommand } from "../../src/protocol/Message.js"
import { rssOf, type ServerProcess, spawnServer } from "../support/process.js"
import { WireClient } from "../support/wire.js"

let server: ServerProcess
beforeAll(async () => {
  server = await spawnServer()
})
afterAll(() => server.stop())

describe("read backpressure", () => {
  it("a flooding client that never reads is paused; server RSS stays bounded; others are still served", async () => {
    const baseline = rssOf(server.child.pid!)
    const socket = net.connect({ port: server.port, host: "127.0.0.1" })
    await new Promise((r) => socket.once("connect", r))
    socket.pause() // never read a reply
    const batch = Buffer.concat([
      encodeCommand("AUTH", ["root", "root"]),
      ...Array.from({ length: 2000 }, () => encodeCommand("PING", ["x".repeat(200)]))
    ])
    let sent = 0
    let blocked = false
    const deadline = Date.now() + 4000
    let peak = baseline
    // Write until the kernel and the socket buffers are full and stay full: the server has stopped reading.
    while (Date.now() < deadline) {
      if (socket.write(batch)) {
        sent += batch.length
        if (sent % (batch.length * 50) === 0) await new Promise((r) => setImmediate(r))
        continue
      }
      sent += batch.length
      const drained = await Promise.race([
        new Promise<boolean>((r) => socket.once("drain", () => r(true))),
        new Promise<boolean>((r) => setTimeout(() => r(false), 1000))
      ])
      peak = Math.max(peak, rssOf(server.child.pid!))
      if (!drained) {
        blocked = true
        break
      }
    }
    peak = Math.max(peak, rssOf(server.child.pid!))
    expect(blocked).toBe(true)
    // The server held at most a few MiB for this client (1 MiB in, 1 MiB out, plus a batch being answered).
    expect(peak - baseline).toBeLessThan(64 * 1024 * 1024)
    const other = await WireClient.authed(server.port)
    expect(await other.ok("PING", "still", "serving")).toBe("PONG still serving")
    other.destroy()
    socket.destroy()
    // `sent` is how much the client pushed before being blocked: far more than the server kept.
    expect(sent).toBeGreaterThan(2 * 1024 * 1024)
  })
})

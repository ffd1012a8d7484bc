/** The wire over a real TCP socket: framing in any chunking, pipelining, half-close, bad frames (SPEC A.1). */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { encodeCommand } from "../../src/protocol/Message.js"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"

let s: TestServer
beforeAll(async () => {
  s = await startServer({ server: { max_frame_bytes: 1024 } })
})
afterAll(() => s.close())

const header = (n: number) => {
  const h = Buffer.alloc(4)
  h.writeUInt32BE(n)
  return h
}

describe("framing", () => {
  it("answers many frames sent in one TCP write, in order", async () => {
    const c = await WireClient.authed(s.port)
    const n = 100
    c.write(Buffer.concat(Array.from({ length: n }, (_, i) => encodeCommand("PING", [String(i)]))))
    for (let i = 0; i < n; i++) expect((await c.next()).result).toBe(`PONG ${i}`)
    c.destroy()
  })

  it("assembles frames written one byte at a time", async () => {
    const c = await WireClient.connect(s.port)
    const bytes = Buffer.concat([encodeCommand("auth", ["root", "root"]), encodeCommand("PING", ["split", "é"])])
    for (const b of bytes) {
      c.write(Buffer.from([b]))
      await new Promise((r) => setImmediate(r))
    }
    expect((await c.next()).result).toBe("Connected")
    expect((await c.next()).result).toBe("PONG split é")
    c.destroy()
  })

  it("a client that sends N requests then half-closes still receives all N replies", async () => {
    const c = await WireClient.authed(s.port)
    const n = 500
    c.write(Buffer.concat(Array.from({ length: n }, (_, i) => encodeCommand("PING", [String(i)]))))
    c.end()
    for (let i = 0; i < n; i++) expect((await c.next()).result).toBe(`PONG ${i}`)
    await c.closed
  })

  it("an oversized frame gets a ProtocolError naming size and limit, then the connection closes", async () => {
    const c = await WireClient.authed(s.port)
    c.write(Buffer.concat([encodeCommand("PING", ["before"]), header(1025), Buffer.alloc(100)]))
    expect((await c.next()).result).toBe("PONG before")
    const r = await c.next()
    expect([r.status, r.result]).toEqual([
      "Error",
      "ProtocolError: frame of 1025 bytes exceeds the limit of 1024 bytes"
    ])
    await c.closed
  })

  it("a frame exactly at the limit is accepted", async () => {
    const c = await WireClient.authed(s.port)
    const arg = "x".repeat(1024 - 6 - 3)
    const frame = encodeCommand("PING", [arg])
    expect(frame.length - 4).toBe(1024)
    c.write(frame)
    expect((await c.next()).result).toBe(`PONG ${arg}`)
    c.destroy()
  })

  it("a zero-length frame gets a ProtocolError, then the connection closes", async () => {
    const c = await WireClient.authed(s.port)
    c.write(header(0))
    const r = await c.next()
    expect([r.status, r.result]).toEqual(["Error", "ProtocolError: frame of length 0 is not allowed"])
    await c.closed
  })

  it("a body that is not a Command gets an error and the connection stays usable", async () => {
    const c = await WireClient.authed(s.port)
    const garbage = Buffer.from([0xff, 0xff, 0xff, 0x01, 0x02])
    c.write(Buffer.concat([header(garbage.length), garbage, encodeCommand("PING", ["after"])]))
    const r = await c.next()
    expect([r.status, r.result]).toEqual(["Error", "ProtocolError: invalid command format"])
    expect((await c.next()).result).toBe("PONG after")
    // Before AUTH too: garbage is a format error, not an AUTH attempt.
    const u = await WireClient.connect(s.port)
    u.write(Buffer.concat([header(garbage.length), garbage]))
    expect((await u.next()).result).toBe("ProtocolError: invalid command format")
    expect((await u.call("AUTH", "root", "root")).result).toBe("Connected")
    c.destroy()
    u.destroy()
  })
})

describe("many connections", () => {
  it("200 concurrent connections each get their own session", async () => {
    const clients = await Promise.all(Array.from({ length: 200 }, () => WireClient.authed(s.port)))
    const ids = await Promise.all(clients.map(async (c) => JSON.parse(await c.ok("SESSION")).session_id as string))
    expect(new Set(ids).size).toBe(200)
    for (const [i, c] of clients.entries())
      expect(ids[i]).toBe(`${ids[i]!.split("-")[0]}-127.0.0.1:${c.socket.localPort}`)
    for (const c of clients) c.destroy()
  })

  it("a connection that resets mid-frame does not disturb others", async () => {
    const bad = await WireClient.authed(s.port)
    bad.write(Buffer.concat([header(500), Buffer.alloc(10)]))
    bad.socket.resetAndDestroy()
    const good = await WireClient.authed(s.port)
    expect(await good.ok("PING", "ok")).toBe("PONG ok")
    good.destroy()
  })
})

/**
 * The load loop counts every reply and every error exactly: against the real server (in-process, port 0) and
 * against a fake server in this file that answers wrong statuses and values on purpose.
 */
import * as net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { LoadSetupError } from "../../src/bench/connect.js"
import { defaultLoadOptions, type LoadOptions } from "../../src/bench/load.js"
import { runLoad } from "../../src/bench/runLoad.js"
import { FrameDecoder } from "../../src/protocol/Frame.js"
import { decodeCommand, FrameWriter } from "../../src/protocol/Message.js"
import { startServer, type TestServer } from "../support/server.js"

/** What the fake server does with the n-th non-AUTH request (n counts from 1 over all connections). */
type Answer = { readonly status: string; readonly result: string } | "close" | "silence" | "garbage"

interface Fake {
  readonly port: number
  readonly close: () => Promise<void>
}

const startFake = (answer: (n: number, command: string) => Answer): Promise<Fake> =>
  new Promise((resolve) => {
    let n = 0
    const sockets = new Set<net.Socket>()
    const server = net.createServer((sock) => {
      sockets.add(sock)
      sock.on("close", () => sockets.delete(sock))
      sock.on("error", () => {})
      const decoder = new FrameDecoder(1 << 20)
      sock.on("data", (chunk: Buffer) => {
        const out = new FrameWriter()
        let close = false
        for (const body of decoder.push(chunk).frames) {
          const cmd = decodeCommand(body)!
          if (cmd.command === "AUTH") {
            out.response("1-x", "", "Ok", "Connected")
            continue
          }
          const a = answer(++n, cmd.command)
          if (a === "close") {
            close = true
            break
          }
          if (a === "silence") continue
          if (a === "garbage") {
            // A frame whose body is a field with wire type 7: not a valid Response. Written in order.
            if (out.length > 0) sock.write(out.take())
            sock.write(Buffer.from([0, 0, 0, 2, 0x0f, 0x00]))
            continue
          }
          out.response("", "", a.status, a.result)
        }
        if (out.length > 0) sock.write(out.take())
        if (close) sock.end()
      })
    })
    server.listen(0, "127.0.0.1", () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        close: () =>
          new Promise((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      })
    })
  })

const opts = (port: number, o: Partial<LoadOptions>): LoadOptions => ({
  ...defaultLoadOptions,
  port,
  test: "ping",
  connections: 4,
  pipeline: 8,
  requests: 600,
  maxTimeS: 20,
  ...o
})

const withFake = async <A>(answer: (n: number, command: string) => Answer, f: (port: number) => Promise<A>) => {
  const fake = await startFake(answer)
  try {
    return await f(fake.port)
  } finally {
    await fake.close()
  }
}

describe("load loop against a fake server", () => {
  it("counts wrong statuses, Error replies and wrong values as errors, each kind exactly", async () => {
    const r = await withFake(
      (n) =>
        n % 10 === 0
          ? { status: "Error", result: "boom" }
          : n % 10 === 3
            ? { status: "Weird", result: "PONG " }
            : n % 10 === 6
              ? { status: "Ok", result: "PING?" }
              : n % 10 === 8
                ? { status: "", result: "PONG " }
                : { status: "Ok", result: "PONG " },
      (port) => runLoad(opts(port, {}))
    )
    expect(r.sent).toBe(600)
    expect(r.received).toBe(600)
    expect(r.measured).toBe(600)
    expect(r.latencyNs.count).toBe(600)
    expect(r.stopReason).toBe("requests")
    expect(r.errors.total).toBe(240)
    expect([...r.errors.kinds].sort((a, b) => a.text.localeCompare(b.text))).toEqual([
      { text: 'PING: Error "boom"', count: 60 },
      { text: 'PING: expected "PONG ...", got "PING?" (5 bytes)', count: 60 },
      { text: 'PING: status "" instead of "Ok": "PONG "', count: 60 },
      { text: 'PING: status "Weird" instead of "Ok": "PONG "', count: 60 }
    ])
  })

  it("checks each test's reply: SET must be empty, SESSION a JSON object, NUM.INCR a number", async () => {
    const set = await withFake(
      (n) => ({ status: "Ok", result: n % 4 === 0 ? "OK" : "" }),
      (port) => runLoad(opts(port, { test: "set", requests: 400 }))
    )
    expect(set.errors).toEqual({
      total: 100,
      kinds: [{ text: 'SET: expected an empty result, got "OK" (2 bytes)', count: 100 }]
    })
    const session = await withFake(
      (n) => ({ status: "Ok", result: n % 5 === 0 ? "[1]" : n % 5 === 1 ? '{"a":' : '{"user":{}}' }),
      (port) => runLoad(opts(port, { test: "session", requests: 500 }))
    )
    expect(session.errors.total).toBe(200)
    const incr = await withFake(
      (n) => ({ status: "Ok", result: n % 3 === 0 ? "NaN" : n % 3 === 1 ? String(n) : "-1.5e+06" }),
      (port) => runLoad(opts(port, { test: "incr", requests: 300 }))
    )
    expect(incr.errors).toEqual({
      total: 100,
      kinds: [{ text: 'NUM.INCR: expected a number, got "NaN" (3 bytes)', count: 100 }]
    })
  })

  it("counts an undecodable reply as an error", async () => {
    const r = await withFake(
      (n) => (n === 7 ? "garbage" : { status: "Ok", result: "PONG " }),
      (port) => runLoad(opts(port, { connections: 1, pipeline: 1, requests: 20 }))
    )
    expect(r.errors).toEqual({ total: 1, kinds: [{ text: "PING: undecodable reply (2 bytes)", count: 1 }] })
    expect(r.received).toBe(20)
  })

  it("counts every request lost when the server closes the connection", async () => {
    const r = await withFake(
      (n) => (n === 50 ? "close" : { status: "Ok", result: "PONG " }),
      (port) => runLoad(opts(port, { connections: 1, pipeline: 4, requests: 1000 }))
    )
    expect(r.received).toBe(49)
    expect(r.stopReason).toBe("connections-lost")
    expect(r.sent).toBeGreaterThanOrEqual(50)
    expect(r.sent).toBeLessThanOrEqual(53)
    expect(r.errors).toEqual({
      total: r.sent - 49,
      kinds: [{ text: "PING: connection lost before the reply", count: r.sent - 49 }]
    })
  })

  it("stops after the duration and counts unanswered requests after the drain timeout", async () => {
    const r = await withFake(
      (n) => (n >= 10 ? "silence" : { status: "Ok", result: "PONG " }),
      (port) =>
        runLoad(opts(port, { connections: 2, pipeline: 3, requests: undefined, durationS: 0.2, drainTimeoutS: 0.3 }))
    )
    expect(r.stopReason).toBe("duration")
    expect(r.received).toBe(9)
    expect(r.sent).toBe(15) // 9 answered, then 3 in flight on each connection
    expect(r.errors).toEqual({ total: 6, kinds: [{ text: "PING: no reply within the drain timeout", count: 6 }] })
  })
})

describe("load loop against the real server", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server.close())

  it("runs every test with no errors and counts every reply", async () => {
    for (const test of ["ping", "set", "get", "incr", "session"] as const) {
      const r = await runLoad(opts(server.port, { test, connections: 5, pipeline: 4, requests: 400 }))
      expect({ test, sent: r.sent, received: r.received, measured: r.measured, errors: r.errors.total }).toEqual({
        test,
        sent: 400,
        received: 400,
        measured: 400,
        errors: 0
      })
      expect(r.latencyNs.count).toBe(400)
      expect(r.opsPerSec).toBeGreaterThan(0)
    }
  })

  it("counts every GET that returns another value than the one SET wrote", async () => {
    const keys = { keyspace: 200, keyPattern: "sequential" as const, requests: 200, keyStart: 0 }
    const set = await runLoad(opts(server.port, { test: "set", dataSize: 3, ...keys }))
    expect(set.errors.total).toBe(0)
    const get = await runLoad(opts(server.port, { test: "get", dataSize: 5, ...keys }))
    expect(get.errors).toEqual({
      total: 200,
      kinds: [{ text: 'GET: expected "" or the 5-byte value SET writes, got "xxx" (3 bytes)', count: 200 }]
    })
  })

  it("fails to start when AUTH is refused", async () => {
    await expect(runLoad(opts(server.port, { password: "wrong", connections: 2 }))).rejects.toThrow(LoadSetupError)
    await expect(runLoad(opts(server.port, { password: "wrong", connections: 2 }))).rejects.toThrow(
      /AUTH as root failed: Error/
    )
  })
})

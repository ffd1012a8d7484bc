/**
 * Connection limits of issue 10 over real sockets, in exact frames: `misc.max_connections`, the frame limit
 * before AUTH, the per-command argument cap, and the failed-AUTH rate limit with its log lines.
 */
import { describe, expect, it } from "@effect/vitest"
import { Layer, Logger, ManagedRuntime } from "effect"
import { FleareClient } from "../../src/client/FleareClient.js"
import { type DeepPartial, ServerConfig, type ServerConfigShape } from "../../src/config/ServerConfig.js"
import { encodeCommand } from "../../src/protocol/Message.js"
import { FleareServer } from "../../src/server/Server.js"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"

/** A server whose log messages are collected in `logs`. */
const withLoggedServer = async (
  patch: DeepPartial<ServerConfigShape>,
  f: (server: TestServer, logs: Array<string>) => Promise<void>
): Promise<void> => {
  const logs: Array<string> = []
  const config = ServerConfig.unsafeMake({ ...patch, server: { host: "127.0.0.1", port: 0, ...patch.server } })
  const logger = Logger.make(({ logLevel, message }) => {
    logs.push(`${logLevel.label} ${(Array.isArray(message) ? message : [message]).map(String).join(" ")}`)
  })
  const layer = FleareServer.layerNode.pipe(
    Layer.provide(ServerConfig.layer(config)),
    Layer.provide(Logger.replace(Logger.defaultLogger, logger))
  )
  const server = await startServer(patch, { layer: Layer.orDie(layer) })
  try {
    await f(server, logs)
  } finally {
    await server.close()
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describe("misc.max_connections", () => {
  it("a connection past the limit gets one Error frame and is closed; the others are unaffected", () =>
    withLoggedServer({ misc: { max_connections: 3 } }, async (server, logs) => {
      const open = [
        await WireClient.authed(server.port),
        await WireClient.authed(server.port),
        await WireClient.connect(server.port)
      ]
      const refused = await WireClient.connect(server.port)
      const r = await refused.next()
      expect([r.status, r.result, r.clientId]).toEqual(["Error", "max connections reached", ""])
      await refused.closed
      expect(logs.some((l) => l.includes("max connections reached (misc.max_connections = 3)"))).toBe(true)
      expect(await open[0]!.ok("PING", "a")).toBe("PONG a")
      expect((await open[2]!.call("AUTH", "root", "root")).result).toBe("Connected")
      // A slot frees when a connection leaves.
      open[1]!.destroy()
      for (let i = 0; i < 50 && server.server.connections.size > 2; i++) await sleep(20)
      const next = await WireClient.authed(server.port)
      expect(await next.ok("PING", "b")).toBe("PONG b")
      for (const c of [...open, next]) c.destroy()
    }))
})

describe("security.max_unauthenticated_frame_bytes", () => {
  it("a frame over the pre-AUTH limit is a ProtocolError, then the server closes; after AUTH the big limit applies", () =>
    withLoggedServer({ security: { max_unauthenticated_frame_bytes: 1024 } }, async (server) => {
      const c = await WireClient.connect(server.port)
      const header = Buffer.alloc(4)
      header.writeUInt32BE(100_000)
      c.write(header) // the header alone is refused: the body is never buffered
      const r = await c.next()
      expect([r.status, r.result]).toEqual([
        "Error",
        "ProtocolError: frame of 100000 bytes exceeds the limit of 1024 bytes before AUTH (security.max_unauthenticated_frame_bytes)"
      ])
      await c.closed
      const authed = await WireClient.authed(server.port)
      expect((await authed.call("SET", "k", "v".repeat(100_000))).status).toBe("Ok")
      expect((await authed.ok("GET", "k")).length).toBe(100_000)
      authed.destroy()
    }))
})

describe("server.max_args_per_command", () => {
  it("a command over the argument cap answers an Error naming the limit; the connection goes on", () =>
    withLoggedServer({ server: { max_args_per_command: 10 } }, async (server) => {
      const c = await WireClient.authed(server.port)
      expect(await c.ok("PING", ...Array.from({ length: 10 }, (_, i) => String(i)))).toBe("PONG 0 1 2 3 4 5 6 7 8 9")
      const r = await c.call("PING", ...Array.from({ length: 11 }, () => "x"))
      expect([r.status, r.result]).toEqual([
        "Error",
        "ProtocolError: too many arguments: a command may have at most 10 (server.max_args_per_command)"
      ])
      expect(await c.ok("PING", "after")).toBe("PONG after")
      c.destroy()
    }))
})

describe("failed AUTH rate limit", () => {
  it("failures from one address are answered later and later, then the address is locked out; logged without the password", () =>
    withLoggedServer({ security: { auth_max_failures: 3, auth_lockout_seconds: 60 } }, async (server, logs) => {
      const bystander = await WireClient.authed(server.port)
      const attempt = async (user: string, password: string) => {
        const c = await WireClient.connect(server.port)
        const t0 = performance.now()
        const r = await c.call("AUTH", user, password)
        const ms = performance.now() - t0
        await c.closed.catch(() => {})
        c.destroy()
        return { result: r.result, ms }
      }
      const wrong =
        "ConnectionFailed: The username or password you entered is incorrect. Please try again with valid credentials."
      const first = await attempt("root", "guess-1")
      expect(first.result).toBe(wrong)
      const second = await attempt("nobody", "guess-2")
      expect(second.result).toBe(wrong)
      expect(second.ms).toBeGreaterThanOrEqual(90)
      const third = await attempt("root", "guess-3")
      expect(third.result).toBe(wrong)
      expect(third.ms).toBeGreaterThanOrEqual(190)
      // Locked out: even the right password is refused, at once.
      const locked = await attempt("root", "root")
      expect(locked.result).toBe("ConnectionFailed: too many failed AUTH attempts from this address; try again in 60 s")
      const failures = logs.filter((l) => l.includes("AUTH failed"))
      expect(failures).toHaveLength(3)
      expect(failures[0]).toContain('AUTH failed for user "root" from 127.0.0.1')
      expect(failures[2]).toContain("locked out for 60 s")
      for (const guess of ["guess-1", "guess-2", "guess-3"]) expect(logs.join("\n")).not.toContain(guess)
      // A connection authenticated before the lockout is served.
      expect(await bystander.ok("PING", "ok")).toBe("PONG ok")
      bystander.destroy()
    }))
})

describe("pipelined frames before AUTH", () => {
  it("AUTH and small commands in one write are all answered", () =>
    withLoggedServer({}, async (server) => {
      const c = await WireClient.connect(server.port)
      c.write(Buffer.concat([encodeCommand("AUTH", ["root", "root"]), encodeCommand("PING", ["p"])]))
      expect((await c.next()).result).toBe("Connected")
      expect((await c.next()).result).toBe("PONG p")
      c.destroy()
    }))
})

describe("misc.timeout_seconds and the fleare-ts client", () => {
  it("a pooled client whose idle connection was closed reconnects on its next request", async () => {
    const s = await startServer({ misc: { timeout_seconds: 1 } })
    const rt = ManagedRuntime.make(FleareClient.layer({ port: s.port, user: "root", password: "root", poolSize: 1 }))
    try {
      const client = await rt.runPromise(FleareClient)
      expect(await rt.runPromise(client.ping())).toBe("PONG ")
      // Idle past the timeout (the sweep closes within a quarter second of it).
      for (let i = 0; i < 100 && s.server.connections.size > 0; i++) await sleep(50)
      expect(s.server.connections.size).toBe(0)
      expect(await rt.runPromise(client.ping())).toBe("PONG ")
    } finally {
      await rt.dispose()
      await s.close()
    }
  })
})

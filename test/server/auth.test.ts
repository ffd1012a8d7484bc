/** AUTH over a real TCP socket: SPEC §2.1's table with exact texts, and Part A.2's differences. */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"

const WRONG =
  "ConnectionFailed: The username or password you entered is incorrect. Please try again with valid credentials."
const MISSING = "ConnectionFailed: failed to authenticate, please ensure your username and password are provided"
const INVALID_ARGS = "ConnectionFailed: invalid arguments"
const NOT_USING =
  "ConnectionFailed: it looks like you entered a username or password but the server isn\u2019t using authentication right now"

/** Sends one AUTH; returns the reply and whether the server then closed the connection. */
const authOnce = async (port: number, ...args: Array<string>) => {
  const c = await WireClient.connect(port)
  const reply = await c.call("auth", ...args)
  const closed = await Promise.race([c.closed.then(() => true), new Promise((r) => setTimeout(() => r(false), 300))])
  c.destroy()
  return { reply, closed }
}

describe("AUTH with enable_auth: true", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startServer({
      security: {
        users: [
          { username: "root", password: "root", role: "root" },
          { username: "alice", password: "s3cret", role: "user" }
        ]
      }
    })
  })
  afterAll(() => s.close())

  it("correct credentials: Ok Connected with the client id, connection kept", async () => {
    const { reply, closed } = await authOnce(s.port, "alice", "s3cret")
    expect(reply.status).toBe("Ok")
    expect(reply.result).toBe("Connected")
    expect(reply.clientId).toMatch(/^\d+-127\.0\.0\.1:\d+$/)
    expect(closed).toBe(false)
  })

  const failures: Array<[string, Array<string>, string]> = [
    ["wrong password", ["alice", "nope"], WRONG],
    ["unknown user", ["mallory", "s3cret"], WRONG],
    ["empty username", ["", "s3cret"], MISSING],
    ["empty password", ["alice", ""], MISSING],
    ["no args", [], MISSING],
    ["one arg", ["alice"], INVALID_ARGS],
    ["three args", ["alice", "s3cret", "x"], INVALID_ARGS]
  ]
  for (const [name, args, text] of failures) {
    it(`${name}: Error "${text}" without client id, then the server closes`, async () => {
      const { reply, closed } = await authOnce(s.port, ...args)
      expect(reply.status).toBe("Error")
      expect(reply.result).toBe(text)
      expect(reply.clientId).toBe("")
      expect(closed).toBe(true)
    })
  }

  it("the command name is any case", async () => {
    for (const name of ["AUTH", "Auth", "auth"]) {
      const c = await WireClient.connect(s.port)
      expect((await c.call(name, "root", "root")).result).toBe("Connected")
      c.destroy()
    }
  })

  it("commands before AUTH answer unauthorized and keep the connection (unlike Fleare)", async () => {
    const c = await WireClient.connect(s.port)
    for (const cmd of ["SESSION", "PING", "GET", "NOPE", "SESSION.LIST"]) {
      const r = await c.call(cmd)
      expect([r.status, r.result]).toEqual(["Error", "unauthorized or session not found"])
    }
    expect((await c.call("AUTH", "root", "root")).result).toBe("Connected")
    expect((await c.call("PING")).result).toBe("PONG ")
    c.destroy()
  })

  it("a failed re-AUTH on an authenticated connection closes it", async () => {
    const c = await WireClient.authed(s.port)
    const r = await c.call("AUTH", "root", "wrong")
    expect(r.result).toBe(WRONG)
    await c.closed
  })

  it("the reply to a correct AUTH is Fleare's bytes: client_id, Ok, Connected", async () => {
    const c = await WireClient.connect(s.port)
    const r = await c.call("auth", "root", "root")
    const cid = Buffer.from(r.clientId)
    expect(r.body.toString("hex")).toBe(
      "0a" + cid.length.toString(16).padStart(2, "0") + cid.toString("hex") + "1a024f6b2209436f6e6e6563746564"
    )
    c.destroy()
  })
})

describe("AUTH with enable_auth: false", () => {
  let s: TestServer
  beforeAll(async () => {
    s = await startServer({ security: { enable_auth: false } })
  })
  afterAll(() => s.close())

  it("a connection has a root session from accept", async () => {
    const c = await WireClient.connect(s.port)
    const r = await c.call("SESSION")
    expect(r.status).toBe("Ok")
    expect(JSON.parse(r.result).user).toEqual({ Username: "root", Password: "*******", Role: "root" })
    c.destroy()
  })

  it("AUTH with no args or two empty args: Connected", async () => {
    expect((await authOnce(s.port)).reply.result).toBe("Connected")
    expect((await authOnce(s.port, "", "")).reply.result).toBe("Connected")
  })

  it("AUTH with credentials: the not-using-authentication error, then close", async () => {
    const { reply, closed } = await authOnce(s.port, "root", "root")
    expect([reply.status, reply.result]).toEqual(["Error", NOT_USING])
    expect(closed).toBe(true)
  })
})

/** SESSION, SESSION.LIST, SESSION.KILL and roles over a real TCP socket (SPEC A.2, the seed document). */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"

const TIME = String.raw`\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z`
const sessionRe = (id: string, user: string, role: string) =>
  new RegExp(
    `^\\{"session_id":"${id.replace(/\./g, "\\.")}","user":\\{"Username":"${user}","Password":"\\*{7}","Role":"${role}"\\},` +
      `"status":1,"created_at":"${TIME}","last_accessed_at":"${TIME}"\\}$`
  )

let s: TestServer
beforeAll(async () => {
  s = await startServer({
    security: {
      users: [
        { username: "root", password: "root", role: "root" },
        { username: "admin", password: "adminpw", role: "Admin" },
        { username: "bob", password: "a-much-longer-password-than-seven", role: "User" },
        { username: "reader", password: "r", role: "ReadOnly" }
      ]
    }
  })
})
afterAll(() => s.close())

describe("SESSION", () => {
  it("before AUTH: exactly `unauthorized or session not found`", async () => {
    const c = await WireClient.connect(s.port)
    const r = await c.call("SESSION")
    expect([r.status, r.result]).toEqual(["Error", "unauthorized or session not found"])
    c.destroy()
  })

  it("after AUTH: compact JSON in Fleare's field order, password masked to seven asterisks", async () => {
    const c = await WireClient.authed(s.port, "bob", "a-much-longer-password-than-seven")
    const r = await c.call("session")
    expect(r.status).toBe("Ok")
    expect(r.result).toMatch(sessionRe(r.clientId, "bob", "User"))
    expect(JSON.parse(r.result).session_id).toBe(r.clientId)
    expect(r.result).not.toContain("a-much-longer")
    c.destroy()
  })

  it("last_accessed_at moves forward with each command; created_at stays", async () => {
    const c = await WireClient.authed(s.port)
    const first = JSON.parse((await c.call("SESSION")).result)
    await new Promise((r) => setTimeout(r, 5))
    const second = JSON.parse((await c.call("SESSION")).result)
    expect(second.created_at).toBe(first.created_at)
    expect(Date.parse(second.last_accessed_at)).toBeGreaterThan(Date.parse(first.last_accessed_at))
    c.destroy()
  })

  it("ids are <n>-<ip>:<port>, distinct, with a counter that only grows", async () => {
    const a = await WireClient.authed(s.port)
    const b = await WireClient.authed(s.port)
    const idA = JSON.parse((await a.call("SESSION")).result).session_id as string
    const idB = JSON.parse((await b.call("SESSION")).result).session_id as string
    expect(idA).toMatch(/^\d+-127\.0\.0\.1:\d+$/)
    expect(Number(idB.split("-")[0])).toBeGreaterThan(Number(idA.split("-")[0]))
    expect(idA.split(":")[1]).toBe(String(a.socket.localPort))
    a.destroy()
    b.destroy()
  })
})

describe("SESSION.LIST and SESSION.KILL", () => {
  const listIds = async (c: WireClient) =>
    (JSON.parse(await c.ok("SESSION.LIST")) as Array<{ session_id: string }>).map((x) => x.session_id)

  it("lists live sessions with masked passwords; a disconnected one disappears", async () => {
    const admin = await WireClient.authed(s.port, "admin", "adminpw")
    const bob = await WireClient.authed(s.port, "bob", "a-much-longer-password-than-seven")
    const bobId = JSON.parse(await bob.ok("SESSION")).session_id as string
    const raw = await admin.ok("SESSION.LIST")
    expect(raw).not.toContain("adminpw")
    const entries = JSON.parse(raw) as Array<{ session_id: string; user: { Password: string } }>
    expect(entries.map((e) => e.session_id)).toContain(bobId)
    expect(entries.every((e) => e.user.Password === "*******")).toBe(true)
    bob.destroy()
    await bob.closed
    for (let i = 0; i < 50 && (await listIds(admin)).includes(bobId); i++) await new Promise((r) => setTimeout(r, 10))
    expect(await listIds(admin)).not.toContain(bobId)
    admin.destroy()
  })

  it("SESSION.KILL closes the target connection and answers 1; an unknown id answers 0", async () => {
    const root = await WireClient.authed(s.port)
    const victim = await WireClient.authed(s.port, "bob", "a-much-longer-password-than-seven")
    const id = JSON.parse(await victim.ok("SESSION")).session_id as string
    expect(await root.ok("SESSION.KILL", id)).toBe("1")
    await victim.closed
    expect(victim.isClosed).toBe(true)
    expect(await listIds(root)).not.toContain(id)
    expect(await root.ok("SESSION.KILL", id)).toBe("0")
    expect(await root.ok("SESSION.KILL", "999999-127.0.0.1:1")).toBe("0")
    const bad = await root.call("SESSION.KILL")
    expect([bad.status, bad.result]).toEqual([
      "Error",
      "InvalidArgumentError: Session id must be provided, Syntax: SESSION.KILL <session_id>"
    ])
    root.destroy()
  })

  it("SESSION.KILL of one's own session answers 1, then closes", async () => {
    const c = await WireClient.authed(s.port, "admin", "adminpw")
    const id = JSON.parse(await c.ok("SESSION")).session_id as string
    expect(await c.ok("SESSION.KILL", id)).toBe("1")
    await c.closed
  })

  it("User and ReadOnly roles are refused with PermissionDeniedError", async () => {
    for (const [user, pw, role] of [
      ["bob", "a-much-longer-password-than-seven", "User"],
      ["reader", "r", "ReadOnly"]
    ] as const) {
      const c = await WireClient.authed(s.port, user, pw)
      for (const cmd of ["SESSION.LIST", "session.kill"]) {
        const r = await c.call(cmd, ...(cmd === "session.kill" ? ["1-127.0.0.1:1"] : []))
        expect([r.status, r.result]).toEqual([
          "Error",
          `PermissionDeniedError: role ${role} may not run ${cmd.toUpperCase()}`
        ])
      }
      // Their own session and PING are allowed.
      expect(JSON.parse(await c.ok("SESSION")).user).toEqual({ Username: user, Password: "*******", Role: role })
      expect(await c.ok("PING", "x")).toBe("PONG x")
      c.destroy()
    }
  })
})

describe("PING and unknown commands", () => {
  it("PING answers Fleare's text, with the trailing space when there are no args", async () => {
    const c = await WireClient.authed(s.port)
    expect(await c.ok("PING")).toBe("PONG ")
    expect(await c.ok("ping", "hello", "world")).toBe("PONG hello world")
    expect(await c.ok("Ping", "")).toBe("PONG ")
    const r = await c.call("PING")
    const cid = Buffer.from(r.clientId)
    expect(r.body.toString("hex")).toBe(
      "0a" +
        cid.length.toString(16).padStart(2, "0") +
        cid.toString("hex") +
        "1a024f6b2205" +
        Buffer.from("PONG ").toString("hex")
    )
    c.destroy()
  })

  it("an unknown command answers InvalidCommandError echoing the name as sent", async () => {
    const c = await WireClient.authed(s.port)
    const r = await c.call("NoPe", "a")
    expect([r.status, r.result]).toEqual([
      "Error",
      'InvalidCommandError: The system could not process your request due to an unrecognized command input -> "NoPe"'
    ])
    // An empty name (with an argument, so the frame is not empty) is echoed as "".
    expect((await c.call("", "x")).result).toBe(
      'InvalidCommandError: The system could not process your request due to an unrecognized command input -> ""'
    )
    expect((await c.call("VERSION")).status).toBe("Error")
    expect(await c.ok("PING")).toBe("PONG ")
    c.destroy()
  })
})

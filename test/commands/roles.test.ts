/**
 * Roles against the command table (SPEC A.2): every `write` command is refused to ReadOnly with the exact text
 * and changes nothing, every `read` command answers ReadOnly exactly as it answers root, User runs every data
 * command but not the admin ones, and the classes themselves match the spec's ReadOnly list.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { CommandSpec } from "../../src/commands/Command.js"
import { allCommands } from "../../src/commands/registry.js"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"

const byClass = (cls: CommandSpec["class"]) =>
  allCommands
    .filter((c) => c.class === cls)
    .map((c) => c.name)
    .sort()

/** SPEC A.2: what ReadOnly may run besides PING, STATUS, SESSION and SUBSCRIBE/UNSUBSCRIBE. */
const SPEC_READS = [
  "GET",
  "EXISTS",
  "STR.GET",
  "NUM.GET",
  "LIST.GET",
  "MAP.GET",
  "JSON.GET",
  "LIST.LEN",
  "LIST.FIND",
  "JSON.PGET",
  "TTL",
  "STR.LENGTH",
  "STR.RANGE"
].sort()

/** The kinds a key can be seeded with (by root), so each command meets a value it could change. */
const seeds = {
  raw: ["SET", "seed-value"],
  string: ["STR.SET", "hello"],
  number: ["NUM.SET", "10"],
  list: ["LIST.SET", "1", "2", "3"],
  map: ["MAP.SET", "f", "v"],
  json: ["JSON.SET", '{"a":{"b":1}}']
} as const
type Seed = keyof typeof seeds

/**
 * Per command: the value its key holds and the args after the key, chosen so that the command, if it ran,
 * would change or read something. Commands not listed get a raw value and `x y`.
 */
const plans: Record<string, { readonly seed: Seed; readonly args: ReadonlyArray<string> }> = {
  SET: { seed: "raw", args: ["changed"] },
  GET: { seed: "json", args: ["a.b"] },
  EXISTS: { seed: "raw", args: ["roles:nope"] },
  DELETE: { seed: "raw", args: [] },
  "STR.SET": { seed: "string", args: ["changed"] },
  "STR.GET": { seed: "string", args: [] },
  "STR.APPEND": { seed: "string", args: ["!"] },
  "STR.LENGTH": { seed: "string", args: [] },
  "STR.RANGE": { seed: "string", args: ["1", "3"] },
  "NUM.SET": { seed: "number", args: ["99"] },
  "NUM.GET": { seed: "number", args: [] },
  "NUM.INCR": { seed: "number", args: ["5"] },
  "NUM.DECR": { seed: "number", args: ["5"] },
  "LIST.SET": { seed: "list", args: ["9"] },
  "LIST.PUSH": { seed: "list", args: ["4"] },
  "LIST.ISET": { seed: "list", args: ["0", "9"] },
  "LIST.GET": { seed: "list", args: ["1"] },
  "LIST.LEN": { seed: "list", args: [] },
  "LIST.POP": { seed: "list", args: [] },
  "LIST.GPOP": { seed: "list", args: [] },
  "LIST.FIND": { seed: "list", args: [">1"] },
  "LIST.UPDATE": { seed: "list", args: [":2", "20"] },
  "MAP.SET": { seed: "map", args: ["g", "w"] },
  "MAP.CSET": { seed: "map", args: ["g", "w"] },
  "MAP.GET": { seed: "map", args: ["f"] },
  "MAP.DEL": { seed: "map", args: ["f"] },
  "JSON.SET": { seed: "json", args: ['{"c":2}'] },
  "JSON.GET": { seed: "json", args: ["a"] },
  "JSON.PGET": { seed: "json", args: ["a.b"] },
  "JSON.ADD": { seed: "json", args: ["a.c", "3"] },
  "JSON.MERGE": { seed: "json", args: ['{"d":4}'] },
  "JSON.REMOVE": { seed: "json", args: ["a"] },
  "JSON.SETREF": { seed: "json", args: ['{"e":5}', '{"e":"roles:other"}'] },
  TTL: { seed: "raw", args: [] },
  "TTL.EXPIRE": { seed: "raw", args: ["1d"] }
}
const planFor = (name: string) => plans[name] ?? { seed: "raw" as const, args: ["x", "y"] }
const keyFor = (name: string) => `roles:${name}`

const denied = (role: string, name: string) => `PermissionDeniedError: role ${role} may not run ${name}`

let s: TestServer
let root: WireClient
let readOnly: WireClient
let user: WireClient

beforeAll(async () => {
  s = await startServer({
    security: {
      users: [
        { username: "root", password: "root", role: "root" },
        { username: "reader", password: "r-pass", role: "ReadOnly" },
        { username: "app", password: "a-pass", role: "User" }
      ]
    }
  })
  root = await WireClient.authed(s.port)
  readOnly = await WireClient.authed(s.port, "reader", "r-pass")
  user = await WireClient.authed(s.port, "app", "a-pass")
})
afterAll(async () => {
  for (const c of [root, readOnly, user]) c?.destroy()
  await s?.close()
})

/** Stores the command's seed value under its key, as root. */
const seed = async (name: string) => {
  const [cmd, ...args] = seeds[planFor(name).seed]
  await root.ok("DELETE", keyFor(name))
  await root.ok(cmd, keyFor(name), ...args)
}

/** What the key holds, as root sees it: its raw value (any kind), its TTL and whether it exists. */
const snapshot = async (name: string) => ({
  value: await root.ok("GET", keyFor(name)),
  ttl: await root.ok("TTL", keyFor(name)),
  exists: await root.ok("EXISTS", keyFor(name))
})

const request = (name: string) => [keyFor(name), ...planFor(name).args]

describe("the classes in the command table", () => {
  it("the read commands are exactly SPEC A.2's ReadOnly list", () => {
    expect(byClass("read")).toEqual(SPEC_READS)
  })

  it("PING, SESSION and STATUS are connection commands; SESSION.LIST and SESSION.KILL admin; the rest write", () => {
    expect(byClass("connection")).toEqual(["PING", "SESSION", "STATUS"])
    expect(byClass("admin")).toEqual(["SESSION.KILL", "SESSION.LIST"])
    // Pub/sub, once in the table, has classes of its own.
    const pubsub = allCommands.filter((c) => ["SUBSCRIBE", "UNSUBSCRIBE", "PUBLISH"].includes(c.name))
    for (const c of pubsub) expect([c.name, c.class]).toEqual([c.name, c.name === "PUBLISH" ? "publish" : "subscribe"])
    const other = new Set([
      ...SPEC_READS,
      ...pubsub.map((c) => c.name),
      "PING",
      "SESSION",
      "STATUS",
      "SESSION.KILL",
      "SESSION.LIST"
    ])
    expect(byClass("write")).toEqual(
      allCommands
        .map((c) => c.name)
        .filter((n) => !other.has(n))
        .sort()
    )
    expect(byClass("write").length).toBeGreaterThan(20)
  })
})

describe("ReadOnly", () => {
  for (const spec of allCommands.filter((c) => c.class === "write")) {
    it(`is refused ${spec.name}, and the key is unchanged`, async () => {
      await seed(spec.name)
      const before = await snapshot(spec.name)
      const r = await readOnly.call(spec.name, ...request(spec.name))
      expect({ status: r.status, result: r.result }).toEqual({ status: "Error", result: denied("ReadOnly", spec.name) })
      // Any case of the name is refused the same way, with the canonical name.
      const lower = await readOnly.call(spec.name.toLowerCase(), ...request(spec.name))
      expect(lower.result).toBe(denied("ReadOnly", spec.name))
      expect(await snapshot(spec.name)).toEqual(before)
    })
  }

  for (const spec of allCommands.filter((c) => c.class === "read")) {
    it(`may run ${spec.name}, with the same reply root gets`, async () => {
      await seed(spec.name)
      const asRoot = await root.call(spec.name, ...request(spec.name))
      const asReader = await readOnly.call(spec.name, ...request(spec.name))
      expect(asReader.result).not.toMatch(/^PermissionDeniedError/)
      expect({ status: asReader.status, result: asReader.result }).toEqual({
        status: asRoot.status,
        result: asRoot.result
      })
    })
  }

  it("may run PING, SESSION and STATUS; not SESSION.LIST or SESSION.KILL", async () => {
    expect((await readOnly.call("PING", "ro")).result).toBe("PONG ro")
    expect(JSON.parse((await readOnly.call("SESSION")).result).user.Role).toBe("ReadOnly")
    expect((await readOnly.call("STATUS")).status).toBe("Ok")
    expect((await readOnly.call("SESSION.LIST")).result).toBe(denied("ReadOnly", "SESSION.LIST"))
    expect((await readOnly.call("SESSION.KILL", "1-127.0.0.1:1")).result).toBe(denied("ReadOnly", "SESSION.KILL"))
  })
})

describe("User", () => {
  for (const spec of allCommands.filter((c) => c.class === "read" || c.class === "write")) {
    it(`may run ${spec.name}`, async () => {
      await seed(spec.name)
      const r = await user.call(spec.name, ...request(spec.name))
      expect(r.result).not.toMatch(/^PermissionDeniedError/)
      expect(r.status).toBe("Ok")
    })
  }

  it("writes as User take effect", async () => {
    await user.ok("NUM.SET", "roles:user-num", "1")
    expect(await user.ok("NUM.INCR", "roles:user-num", "2")).toBe("3")
    expect(await root.ok("NUM.GET", "roles:user-num")).toBe("3")
  })

  it("may run PING, SESSION and STATUS, but not SESSION.LIST or SESSION.KILL", async () => {
    expect((await user.call("PING")).result).toBe("PONG ")
    expect(JSON.parse((await user.call("SESSION")).result).user).toEqual({
      Username: "app",
      Password: "*******",
      Role: "User"
    })
    expect((await user.call("STATUS")).status).toBe("Ok")
    const list = await user.call("SESSION.LIST")
    expect({ status: list.status, result: list.result }).toEqual({
      status: "Error",
      result: denied("User", "SESSION.LIST")
    })
    const rootId: string = JSON.parse(await root.ok("SESSION")).session_id
    const kill = await user.call("SESSION.KILL", rootId)
    expect({ status: kill.status, result: kill.result }).toEqual({
      status: "Error",
      result: denied("User", "SESSION.KILL")
    })
    // root is still connected.
    expect((await root.call("PING", "still")).result).toBe("PONG still")
  })
})

/**
 * Compatibility with Fleare's official Node client (SPEC §8): every method of §8.3, used as an app would, over
 * a pool of real TCP connections, checking both what goes over the wire and the JS values the app gets back.
 * Also fleare-go's reply mapping (§8.6) and a replay of the exact AUTH bytes the real client sends.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"
import { connectNodeClient, type FleareNodeClient } from "./nodeClient.js"

const CLIENT_ID = /^\d+-127\.0\.0\.1:\d+$/
const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/

let s: TestServer
let client: FleareNodeClient

beforeAll(async () => {
  s = await startServer()
  client = await connectNodeClient(s.port, { username: "root", password: "root" })
})
afterAll(async () => {
  client?.close()
  await s?.close()
})

/** The command and args the last method call put on the wire. */
const sent = () => [client.last.command, ...client.last.args]

describe("connecting like the Node client", () => {
  it("opens 10 pooled connections, each authenticated with its own client id", () => {
    expect(client.clientIds).toHaveLength(10)
    for (const id of client.clientIds) expect(id).toMatch(CLIENT_ID)
    expect(new Set(client.clientIds).size).toBe(10)
  })

  it("a wrong password rejects connect() with the server's text", async () => {
    await expect(connectNodeClient(s.port, { username: "root", password: "nope" })).rejects.toThrow(
      new Error(
        "ConnectionFailed: The username or password you entered is incorrect. Please try again with valid credentials."
      )
    )
  })

  it("no credentials send auth with two empty args: refused with auth on, Connected with auth off", async () => {
    await expect(connectNodeClient(s.port, { poolSize: 1 })).rejects.toThrow(
      new Error("ConnectionFailed: failed to authenticate, please ensure your username and password are provided")
    )
    const open = await startServer({ security: { enable_auth: false } })
    try {
      const c = await connectNodeClient(open.port, { poolSize: 2 })
      expect(await c.session()).toMatchObject({ user: { Username: "root", Role: "root" }, status: 1 })
      c.close()
    } finally {
      await open.close()
    }
  })

  it("requests go round-robin over the pool, one in flight per connection", async () => {
    const ids = []
    for (let i = 0; i < 10; i++) ids.push(((await client.session()) as { session_id: string }).session_id)
    expect(new Set(ids).size).toBe(10)
    expect([...ids].sort()).toEqual([...client.clientIds].sort())
    // 200 concurrent requests on 10 connections: each gets its own answer.
    const n = 200
    const pongs = await Promise.all(Array.from({ length: n }, (_, i) => client.ping([`r${i}`])))
    expect(pongs).toEqual(Array.from({ length: n }, (_, i) => `PONG r${i}`))
    await client.numSet("pool:counter", 0)
    await Promise.all(Array.from({ length: n }, () => client.numIncr("pool:counter")))
    expect(await client.numGet("pool:counter")).toBe(n)
  })
})

describe("Node client methods (§8.3)", () => {
  it("ping", async () => {
    expect(await client.ping(["hello", "world"])).toBe("PONG hello world")
    expect(sent()).toEqual(["PING", "hello", "world"])
    // "PONG " does not parse as JSON: the raw text, trailing space included.
    expect(await client.ping()).toBe("PONG ")
  })

  it("status", async () => {
    const st = (await client.status()) as {
      server_status: string
      shard_info: Record<string, unknown>
      up_time: string
    }
    expect(sent()).toEqual(["STATUS"])
    expect(st.server_status).toBe("running")
    expect(st.shard_info["shard_count"]).toBe(2)
    expect(st.shard_info["0"]).toMatchObject({ ID: "0", name: "Shard 0", host_address: `127.0.0.1:${s.port}` })
    expect(st.up_time).toMatch(TIME)
  })

  it("session", async () => {
    const session = (await client.session()) as Record<string, unknown>
    expect(sent()).toEqual(["SESSION"])
    expect(Object.keys(session)).toEqual(["session_id", "user", "status", "created_at", "last_accessed_at"])
    expect(session["session_id"]).toBe(client.clientIds[client.last.connection])
    expect(session["user"]).toEqual({ Username: "root", Password: "*******", Role: "root" })
    expect(session["status"]).toBe(1)
    expect(session["created_at"]).toMatch(TIME)
    expect(session["last_accessed_at"]).toMatch(TIME)
  })

  it("get / set", async () => {
    expect(await client.set("app:name", "Alice")).toBe("")
    expect(sent()).toEqual(["SET", "app:name", "Alice"])
    expect(await client.get("app:name")).toBe("Alice")
    expect(sent()).toEqual(["GET", "app:name"])
    // Numbers go through String(); the reply "42" parses back to a number.
    await client.set("app:count", 42)
    expect(sent()).toEqual(["SET", "app:count", "42"])
    expect(await client.get("app:count")).toBe(42)
    // Objects are sent as JSON; GET with a path reads inside them.
    await client.set("app:cfg", { db: { hosts: ["a", "b"], port: 5432 } })
    expect(sent()).toEqual(["SET", "app:cfg", '{"db":{"hosts":["a","b"],"port":5432}}'])
    expect(await client.get("app:cfg", "db.hosts")).toEqual(["a", "b"])
    expect(sent()).toEqual(["GET", "app:cfg", "db.hosts"])
    expect(await client.get("app:cfg")).toEqual({ db: { hosts: ["a", "b"], port: 5432 } })
    expect(await client.get("app:missing")).toBe("")
  })

  it("exists", async () => {
    await client.set("ex:a", "1")
    await client.set("ex:b", "2")
    expect(await client.exists("ex:a", "ex:b", "ex:none", "ex:a")).toBe(3)
    expect(sent()).toEqual(["EXISTS", "ex:a", "ex:b", "ex:none", "ex:a"])
  })

  it("del", async () => {
    await client.set("del:a", "x")
    expect(await client.del("del:a")).toBe("")
    expect(sent()).toEqual(["DELETE", "del:a"])
    expect(await client.exists("del:a")).toBe(0)
    expect(await client.del("del:a")).toBe("")
  })

  it("strSet / strAppend / strRange / strGet / strLength", async () => {
    expect(await client.strSet("str:greeting", "Hello")).toBe("")
    expect(sent()).toEqual(["STR.SET", "str:greeting", "Hello"])
    expect(await client.strAppend("str:greeting", ", ", "wörld")).toBe("")
    expect(sent()).toEqual(["STR.APPEND", "str:greeting", ", ", "wörld"])
    expect(await client.strGet("str:greeting")).toBe("Hello, wörld")
    expect(sent()).toEqual(["STR.GET", "str:greeting"])
    expect(await client.strLength("str:greeting")).toBe(13)
    expect(sent()).toEqual(["STR.LENGTH", "str:greeting"])
    expect(await client.strRange("str:greeting", 7, 5)).toBe("wörld")
    expect(sent()).toEqual(["STR.RANGE", "str:greeting", "7", "5"])
    expect(await client.strRange("str:greeting", -5, 3)).toBe("wör")
    // A missing key: "" (Fleare's server died here).
    expect(await client.strGet("str:missing")).toBe("")
    expect(await client.strLength("str:missing")).toBe(0)
    // A string that looks like JSON comes back parsed, as the client parses every result.
    await client.strSet("str:digits", "007")
    expect(await client.strGet("str:digits")).toBe("007")
    await client.strSet("str:num", "12")
    expect(await client.strGet("str:num")).toBe(12)
  })

  it("ttlExpire / ttl", async () => {
    await client.set("ttl:session", "token")
    expect(await client.ttl("ttl:session")).toBe(-1)
    expect(sent()).toEqual(["TTL", "ttl:session"])
    expect(await client.ttlExpire("ttl:session", 60)).toBe(1)
    expect(sent()).toEqual(["TTL.EXPIRE", "ttl:session", "60"])
    expect([59, 60]).toContain(await client.ttl("ttl:session"))
    expect(await client.ttlExpire("ttl:session", "10m")).toBe(1)
    expect([599, 600]).toContain(await client.ttl("ttl:session"))
    expect(await client.ttlExpire("ttl:session", 0)).toBe(1)
    expect(await client.ttl("ttl:session")).toBe(-1)
    expect(await client.ttlExpire("ttl:missing", 60)).toBe(0)
    expect(await client.ttl("ttl:missing")).toBe(-2)
    await expect(client.ttlExpire("ttl:session", "soon")).rejects.toThrow(
      new Error("InvalidArgumentError: Invalid time value provided")
    )
  })

  it("numSet / numGet / numIncr / numDecr", async () => {
    expect(await client.numSet("num:visits", 42)).toBe("")
    expect(sent()).toEqual(["NUM.SET", "num:visits", "42"])
    expect(await client.numGet("num:visits")).toBe(42)
    expect(sent()).toEqual(["NUM.GET", "num:visits"])
    expect(await client.numIncr("num:visits")).toBe(43)
    expect(sent()).toEqual(["NUM.INCR", "num:visits"])
    // A falsy delta is not sent: the server's default of 1 applies.
    expect(await client.numIncr("num:visits", 0)).toBe(44)
    expect(sent()).toEqual(["NUM.INCR", "num:visits"])
    expect(await client.numIncr("num:visits", 6)).toBe(50)
    expect(sent()).toEqual(["NUM.INCR", "num:visits", "6"])
    expect(await client.numIncr("num:visits", 0.5)).toBe(50.5)
    expect(await client.numDecr("num:visits")).toBe(49.5)
    expect(sent()).toEqual(["NUM.DECR", "num:visits"])
    expect(await client.numDecr("num:visits", 9.5)).toBe(40)
    expect(sent()).toEqual(["NUM.DECR", "num:visits", "9.5"])
    expect(await client.numGet("num:missing")).toBe("")
    expect(await client.numIncr("num:fresh", 5)).toBe(5)
    expect(await client.numDecr("num:fresh2", 5)).toBe(-5)
    await client.strSet("num:text", "abc")
    await expect(client.numIncr("num:text")).rejects.toThrow(
      new Error("InvalidValueError: the existing value for the provided key must be a number")
    )
  })

  it("listSet / listPush / listIset / listUpdate / listPop / listGet / listLen / listGPop / listFind", async () => {
    expect(await client.listSet("list:fruits", "apple", "banana")).toBe(2)
    expect(sent()).toEqual(["LIST.SET", "list:fruits", "apple", "banana"])
    expect(await client.listPush("list:fruits", "cherry", { color: "red" })).toBe(4)
    expect(sent()).toEqual(["LIST.PUSH", "list:fruits", "cherry", '{"color":"red"}'])
    expect(await client.listIset("list:fruits", 0, "apricot")).toBe("")
    expect(sent()).toEqual(["LIST.ISET", "list:fruits", "0", "apricot"])
    expect(await client.listGet("list:fruits")).toEqual(["apricot", "banana", "cherry", { color: "red" }])
    expect(sent()).toEqual(["LIST.GET", "list:fruits"])
    expect(await client.listGet("list:fruits", 1)).toBe("banana")
    expect(sent()).toEqual(["LIST.GET", "list:fruits", "1"])
    expect(await client.listGet("list:fruits", 0)).toBe("apricot")
    expect(sent()).toEqual(["LIST.GET", "list:fruits", "0"])
    expect(await client.listLen("list:fruits")).toBe(4)
    expect(sent()).toEqual(["LIST.LEN", "list:fruits"])
    expect(await client.listPop("list:fruits")).toEqual({ color: "red" })
    expect(sent()).toEqual(["LIST.POP", "list:fruits"])
    expect(await client.listGPop("list:fruits")).toBe("cherry")
    expect(sent()).toEqual(["LIST.GPOP", "list:fruits"])
    expect(await client.listLen("list:fruits")).toBe(2)
    expect(await client.listFind("list:fruits", ":banana")).toEqual(["banana"])
    expect(sent()).toEqual(["LIST.FIND", "list:fruits", ":banana"])
    expect(await client.listFind("list:fruits", ":kiwi")).toBeNull()
    expect(await client.listUpdate("list:fruits", ":banana", "blueberry")).toBe(1)
    expect(sent()).toEqual(["LIST.UPDATE", "list:fruits", ":banana", "blueberry"])
    expect(await client.listGet("list:fruits")).toEqual(["apricot", "blueberry"])

    // Lists of objects, queried by field.
    await client.listSet("list:users", { name: "John", age: 30 }, { name: "Ann", age: 22 }, { name: "Bo", age: 41 })
    expect(await client.listFind("list:users", "$age>=30")).toEqual([
      { name: "John", age: 30 },
      { name: "Bo", age: 41 }
    ])
    expect(await client.listFind("list:users", "$name~JOHN")).toEqual([{ name: "John", age: 30 }])
    expect(await client.listUpdate("list:users", "$name:Ann", { name: "Ann", age: 23 })).toBe(1)
    expect(await client.listGet("list:users", 1)).toEqual({ name: "Ann", age: 23 })

    // Missing keys.
    expect(await client.listGet("list:missing")).toBe("")
    expect(await client.listLen("list:missing")).toBe(0)
    expect(await client.listPop("list:missing")).toBe("")
    await expect(client.listGPop("list:missing")).rejects.toThrow(new Error("InvalidKeyError: key does not exist"))
    await expect(client.listGet("list:fruits", 9)).rejects.toThrow(new Error("InvalidIndexError: index out of range"))
  })

  it("jsonSet / jsonAdd / jsonMerge / jsonSetRef / jsonGet (with refs)", async () => {
    const user = { name: "John", address: { city: "NY" } }
    expect(await client.jsonSet("json:u1", user)).toBe("")
    expect(sent()).toEqual(["JSON.SET", "json:u1", '{"name":"John","address":{"city":"NY"}}'])
    // jsonGet always sends a path, so the server answers the sorted whole document.
    expect(await client.jsonGet("json:u1")).toEqual(user)
    expect(sent()).toEqual(["JSON.GET", "json:u1", ""])
    expect(client.last.reply.result).toBe('{"address":{"city":"NY"},"name":"John"}')
    expect(await client.jsonGet("json:u1", "address.city")).toBe("NY")
    expect(sent()).toEqual(["JSON.GET", "json:u1", "address.city"])
    expect(await client.jsonGet("json:u1", "nope")).toBe("")
    expect(await client.jsonGet("json:missing")).toBe("")

    expect(await client.jsonAdd("json:u1", "office.members", 134)).toEqual({
      address: { city: "NY" },
      name: "John",
      office: { members: 134 }
    })
    expect(sent()).toEqual(["JSON.ADD", "json:u1", "office.members", "134"])
    expect(client.last.reply.result).toBe('{"address":{"city":"NY"},"name":"John","office":{"members":134}}')
    expect(await client.jsonMerge("json:u1", { address: { zip: "10001" }, name: "Johnny" })).toEqual({
      address: { city: "NY", zip: "10001" },
      name: "Johnny",
      office: { members: 134 }
    })
    expect(sent()).toEqual(["JSON.MERGE", "json:u1", '{"address":{"zip":"10001"},"name":"Johnny"}'])

    // References: an order pointing at its user, resolved on read.
    await client.jsonSet("json:user:7", { name: "Ann", tier: "gold" })
    expect(await client.jsonSetRef("json:order:1", { item: "book", qty: 2 }, { userId: "json:user:7" })).toBe("")
    expect(sent()).toEqual(["JSON.SETREF", "json:order:1", '{"item":"book","qty":2}', '{"userId":"json:user:7"}'])
    expect(await client.jsonGet("json:order:1", undefined, "userId")).toEqual({
      item: "book",
      qty: 2,
      userId: "$ref:json:user:7",
      _userId: { name: "Ann", tier: "gold" }
    })
    expect(sent()).toEqual(["JSON.GET", "json:order:1", "", "userId"])
    expect(await client.jsonGet("json:order:1")).toEqual({ item: "book", qty: 2, userId: "$ref:json:user:7" })
    await expect(client.jsonSet("json:bad", "{not json")).rejects.toThrow(
      new Error("InvalidValueError: provided value not a valid json object")
    )
  })

  it("mapSet / mapCSet / mapDel / mapGet", async () => {
    expect(await client.mapSet("map:user", "name", "Alice")).toBe("")
    expect(sent()).toEqual(["MAP.SET", "map:user", "name", "Alice"])
    await client.mapSet("map:user", "age", 30)
    await client.mapSet("map:user", "tags", ["admin", "dev"])
    expect(sent()).toEqual(["MAP.SET", "map:user", "tags", '["admin","dev"]'])
    expect(await client.mapGet("map:user")).toEqual({ name: "Alice", age: 30, tags: ["admin", "dev"] })
    expect(sent()).toEqual(["MAP.GET", "map:user"])
    expect(await client.mapGet("map:user", "age")).toBe(30)
    expect(sent()).toEqual(["MAP.GET", "map:user", "age"])
    expect(await client.mapGet("map:user", "nope")).toBe("")
    expect(await client.mapDel("map:user", "tags")).toBe("")
    expect(sent()).toEqual(["MAP.DEL", "map:user", "tags"])
    expect(await client.mapGet("map:user")).toEqual({ name: "Alice", age: 30 })
    expect(await client.mapCSet("map:user", "active", true)).toBe("")
    expect(sent()).toEqual(["MAP.CSET", "map:user", "active", "true"])
    expect(await client.mapGet("map:user")).toEqual({ active: true })
    expect(await client.mapDel("map:user")).toBe("")
    expect(sent()).toEqual(["MAP.DEL", "map:user"])
    expect(await client.mapGet("map:user")).toBe("")
    // The client leaves an empty field out, so mapGet(k, "") reads the whole map.
    await client.mapSet("map:two", "a", 1)
    expect(await client.mapGet("map:two", "")).toEqual({ a: 1 })
    expect(sent()).toEqual(["MAP.GET", "map:two"])
  })
})

describe("fleare-go's reply mapping (§8.6)", () => {
  let go: FleareNodeClient
  beforeAll(async () => {
    go = await connectNodeClient(s.port, { username: "root", password: "root", poolSize: 2, parse: "go" })
  })
  afterAll(() => go?.close())

  it('"" is nil, JSON is parsed, other text is kept, errors read "server error: <text>"', async () => {
    expect(await go.set("go:k", "v")).toBeNull()
    expect(await go.get("go:k")).toBe("v")
    expect(await go.strGet("go:missing")).toBeNull()
    expect(await go.numIncr("go:n", 41)).toBe(41)
    expect(await go.numIncr("go:n")).toBe(42)
    expect(await go.listSet("go:l", 1, 2)).toBe(2)
    expect(await go.listGet("go:l")).toEqual([1, 2])
    expect(await go.listFind("go:l", ":3")).toBeNull()
    await expect(go.listGPop("go:missing")).rejects.toThrow(
      new Error("server error: InvalidKeyError: key does not exist")
    )
  })
})

describe("the real client's AUTH bytes", () => {
  it("replaying `auth root root` as captured answers Ok Connected with the client id", async () => {
    const w = await WireClient.connect(s.port)
    try {
      w.write(Buffer.from("000000120a04617574681204726f6f741204726f6f74", "hex"))
      const r = await w.next()
      expect(r.status).toBe("Ok")
      expect(r.result).toBe("Connected")
      expect(r.clientId).toMatch(CLIENT_ID)
      // Response{client_id, status "Ok", result "Connected"}: the same body Fleare sends (SPEC §2.1).
      const id = Buffer.from(r.clientId)
      expect(r.body).toEqual(
        Buffer.concat([
          Buffer.from([0x0a, id.length]),
          id,
          Buffer.from("1a024f6b", "hex"),
          Buffer.from("2209436f6e6e6563746564", "hex")
        ])
      )
      // The connection is then usable as the client uses it.
      expect((await w.call("PING", "after")).result).toBe("PONG after")
    } finally {
      w.destroy()
    }
  })
})

import { Durability } from "../../src/persistence/Durability.js"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Layer, Logger, LogLevel } from "effect"
import { ServerConfig } from "../../src/config/ServerConfig.js"
import { NodeTransportLayer } from "../../src/server/NodeTransport.js"
import { Broker } from "../../src/pubsub/Broker.js"
import { FleareServer } from "../../src/server/Server.js"
import { Accounts } from "../../src/session/Accounts.js"
import { SessionStore } from "../../src/session/SessionStore.js"
import { Keyspace, type KeyspaceShape } from "../../src/store/Keyspace.js"
import type { Value } from "../../src/store/Value.js"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient, type WireReply } from "../support/wire.js"

const KEYERR = "InvalidKeyError: invalid key, must be a string and at least 1 to 200 characters long"
const NO_KEY = "InvalidKeyError: Key must be provided"
const NOT_A_LIST = "InvalidValueError: The current value associated with the provided key must be a list"
const EXISTING_NOT_A_LIST = "InvalidValueError: the existing value for the provided key must be a list"
const BAD_INDEX = "InvalidArgumentError: Invalid index value. The index must be a number greater than or equal to 0"
const OUT_OF_RANGE = "InvalidIndexError: index out of range"
const SET_ARITY = "InvalidArgumentError: invalid number of arguments,Syntax: LIST.SET <key> [<value>]"
const ISET_ARITY = "InvalidArgumentError: invalid number of arguments,Syntax: LIST.SET <key> <index> <value>"
const cannotUnmarshal = (what: string) =>
  `InvalidCharacterError: json: cannot unmarshal ${what} into Go value of type []interface {}`

let server: TestServer
let c: WireClient
// The server's own keyspace, so tests can store values of other kinds (as SET, STR.SET, MAP.SET or JSON.SET
// would) without depending on those commands.
const keyspace: KeyspaceShape = Keyspace.makeMemory({ shardCount: 2 })
const nowNanos = () => BigInt(Date.now()) * 1_000_000n
const put = (key: string, value: Value, expiresAt?: bigint) => {
  const e =
    expiresAt === undefined ? keyspace.set(key, value, nowNanos()) : keyspace.set(key, value, nowNanos(), expiresAt)
  if (e) throw new Error(e.message)
}

beforeAll(async () => {
  const config = ServerConfig.unsafeMake({ server: { host: "127.0.0.1", port: 0 } })
  const layer = FleareServer.layer.pipe(
    Layer.provide(
      Layer.mergeAll(
        NodeTransportLayer,
        SessionStore.layerConfig,
        Accounts.layer,
        Layer.succeed(Keyspace, keyspace),
        Durability.layerNone,
        Broker.layerMemory
      )
    ),
    Layer.provide(ServerConfig.layer(config)),
    Layer.provide(Logger.minimumLogLevel(LogLevel.None)),
    Layer.orDie
  )
  server = await startServer({}, { layer })
  c = await WireClient.authed(server.port)
})

afterAll(async () => {
  c.destroy()
  await server.close()
})

const ok = (r: WireReply, result: string) =>
  expect({ status: r.status, result: r.result }).toEqual({ status: "Ok", result })
const err = (r: WireReply, result: string) =>
  expect({ status: r.status, result: r.result }).toEqual({ status: "Error", result })

describe("LIST.SET", () => {
  it("stores each argument as JSON where it parses, else as a string, and answers the count", async () => {
    ok(await c.call("LIST.SET", "l1", "a", "2", '{"x":1}', "true", "null"), "5")
    ok(await c.call("LIST.GET", "l1"), '["a",2,{"x":1},true,null]')
    ok(await c.call("LIST.SET", "l1b", '"A"', "007", "plain", "1e21", "<b>", '{"b":1,"a":[2]}'), "6")
    ok(await c.call("LIST.GET", "l1b"), '["A","007","plain",1e+21,"\\u003cb\\u003e",{"a":[2],"b":1}]')
  })

  it("replaces the whole key, whatever it held, and clears its expiry", async () => {
    put("l2", { kind: "Map", value: { a: 1 } }, nowNanos() + 3_600_000_000_000n)
    ok(await c.call("LIST.SET", "l2", "x"), "1")
    ok(await c.call("LIST.GET", "l2"), '["x"]')
    expect(keyspace.get("l2", nowNanos())?.expiresAt).toBe(0n)
    ok(await c.call("LIST.SET", "l2", "y", "z"), "2")
    ok(await c.call("LIST.GET", "l2"), '["y","z"]')
  })

  it("errors: no key, too few arguments (no space after the comma), bad key", async () => {
    err(await c.call("LIST.SET"), NO_KEY)
    err(await c.call("LIST.SET", "l3"), SET_ARITY)
    err(await c.call("LIST.SET", "", "x"), KEYERR)
    err(await c.call("LIST.SET", "k".repeat(201), "x"), KEYERR)
    err(await c.call("LIST.SET", "é".repeat(101), "x"), KEYERR)
    ok(await c.call("LIST.SET", "k".repeat(200), "x"), "1")
    ok(await c.call("list.set", "l3", "x"), "1")
  })
})

describe("LIST.PUSH", () => {
  it("appends at the end and answers the new length", async () => {
    ok(await c.call("LIST.PUSH", "p1", "a"), "1")
    ok(await c.call("LIST.PUSH", "p1", "b", '{"n":2}', "3"), "4")
    ok(await c.call("LIST.GET", "p1"), '["a","b",{"n":2},3]')
    ok(await c.call("LIST.PUSH", "p1"), "4")
  })

  it("with no values on a missing key stores JSON null, as Fleare does (SPEC A.3)", async () => {
    ok(await c.call("LIST.PUSH", "p2"), "0")
    ok(await c.call("GET", "p2"), "null")
    ok(await c.call("MAP.GET", "p2", "f"), "")
    ok(await c.call("MAP.GET", "p2"), "null")
    ok(await c.call("LIST.GET", "p2"), "null")
    ok(await c.call("LIST.LEN", "p2"), "0")
    err(await c.call("LIST.GET", "p2", "0"), OUT_OF_RANGE)
    // Another push of nothing keeps it null; a push of values makes it a list.
    ok(await c.call("LIST.PUSH", "p2"), "0")
    ok(await c.call("GET", "p2"), "null")
    ok(await c.call("LIST.PUSH", "p2", "a"), "1")
    ok(await c.call("GET", "p2"), '["a"]')
    // An empty list stays an empty list.
    ok(await c.call("LIST.SET", "p2e", "x"), "1")
    ok(await c.call("LIST.POP", "p2e"), '"x"')
    ok(await c.call("LIST.PUSH", "p2e"), "0")
  })

  it("converts a JSON array stored under another kind, and a JSON null", async () => {
    put("p3", { kind: "Default", value: "[1, 2]" })
    ok(await c.call("LIST.PUSH", "p3", "3"), "3")
    ok(await c.call("LIST.GET", "p3"), "[1,2,3]")
    put("p4", { kind: "JSON", text: '[{"a":1}]' })
    ok(await c.call("LIST.PUSH", "p4", "x"), "2")
    ok(await c.call("LIST.GET", "p4"), '[{"a":1},"x"]')
    put("p5", { kind: "Default", value: "null" })
    ok(await c.call("LIST.PUSH", "p5", "x"), "1")
    ok(await c.call("LIST.GET", "p5"), '["x"]')
    put("p5b", { kind: "String", value: " [true] " })
    ok(await c.call("LIST.PUSH", "p5b", "false"), "2")
    ok(await c.call("LIST.GET", "p5b"), "[true,false]")
  })

  it("answers Go's unmarshal error for a value that is not an array", async () => {
    put("p6", { kind: "Map", value: { a: 1 } })
    err(await c.call("LIST.PUSH", "p6", "x"), cannotUnmarshal("object"))
    put("p7", { kind: "Number", value: 42 })
    err(await c.call("LIST.PUSH", "p7", "x"), cannotUnmarshal("number"))
    put("p8", { kind: "Default", value: '"x"' })
    err(await c.call("LIST.PUSH", "p8", "x"), cannotUnmarshal("string"))
    put("p9", { kind: "JSON", text: "true" })
    err(await c.call("LIST.PUSH", "p9", "x"), cannotUnmarshal("bool"))
    put("p10", { kind: "String", value: "hello" })
    err(
      await c.call("LIST.PUSH", "p10", "x"),
      "InvalidCharacterError: invalid character 'h' looking for beginning of value"
    )
    put("p11", { kind: "Default", value: "" })
    err(await c.call("LIST.PUSH", "p11", "x"), "InvalidCharacterError: unexpected end of JSON input")
    put("p12", { kind: "JSON", text: '{"a":1e400}' })
    err(await c.call("LIST.PUSH", "p12", "x"), cannotUnmarshal("object"))
    put("p13", { kind: "JSON", text: "[1e400]" })
    err(
      await c.call("LIST.PUSH", "p13", "x"),
      "InvalidCharacterError: json: cannot unmarshal number 1e400 into Go value of type float64"
    )
    // Nothing was changed by the failed pushes.
    expect(keyspace.get("p6", nowNanos())?.value).toEqual({ kind: "Map", value: { a: 1 } })
  })

  it("clears the key's expiry, as every write does", async () => {
    ok(await c.call("LIST.SET", "p14", "a"), "1")
    put("p14", { kind: "List", value: ["a"] }, nowNanos() + 3_600_000_000_000n)
    ok(await c.call("LIST.PUSH", "p14", "b"), "2")
    expect(keyspace.get("p14", nowNanos())?.expiresAt).toBe(0n)
  })

  it("errors: no key, bad key", async () => {
    err(await c.call("LIST.PUSH"), NO_KEY)
    err(await c.call("LIST.PUSH", "", "x"), KEYERR)
  })

  it("is atomic: 50 connections × 200 pushes on one key lose nothing", async () => {
    const clients = await Promise.all(Array.from({ length: 50 }, () => WireClient.authed(server.port)))
    try {
      const perClient = await Promise.all(
        clients.map(async (client, n) => {
          for (let i = 0; i < 200; i++) client.send("LIST.PUSH", "atomic", `${n}-${i}`)
          const lengths: Array<number> = []
          for (let i = 0; i < 200; i++) {
            const r = await client.next(20_000)
            expect(r.status).toBe("Ok")
            lengths.push(Number(r.result))
          }
          return lengths
        })
      )
      const all = perClient.flat()
      expect(all).toHaveLength(10000)
      expect(new Set(all).size).toBe(10000)
      expect(Math.min(...all)).toBe(1)
      expect(Math.max(...all)).toBe(10000)
      // Each connection's replies come in order, so its lengths increase.
      for (const lengths of perClient) expect(lengths).toEqual([...lengths].sort((a, b) => a - b))
      ok(await c.call("LIST.LEN", "atomic"), "10000")
      const list = JSON.parse((await c.call("LIST.GET", "atomic")).result) as Array<string>
      expect(new Set(list).size).toBe(10000)
      // Element at position length-1 is the value whose push answered that length.
      perClient.forEach((lengths, n) => lengths.forEach((len, i) => expect(list[len - 1]).toBe(`${n}-${i}`)))
    } finally {
      for (const client of clients) client.destroy()
    }
  })
})

describe("LIST.ISET", () => {
  it("index 0 creates a missing list; a larger index on a missing key is out of range", async () => {
    ok(await c.call("LIST.ISET", "i1", "0", "x"), "")
    ok(await c.call("LIST.GET", "i1"), '["x"]')
    err(await c.call("LIST.ISET", "i2", "1", "x"), OUT_OF_RANGE)
    ok(await c.call("LIST.LEN", "i2"), "0")
  })

  it("replaces an existing element, else index out of range", async () => {
    ok(await c.call("LIST.SET", "i3", "a", "b", "c"), "3")
    ok(await c.call("LIST.ISET", "i3", "1", '{"y":2}'), "")
    ok(await c.call("LIST.ISET", "i3", "+2", "null"), "")
    ok(await c.call("LIST.GET", "i3"), '["a",{"y":2},null]')
    err(await c.call("LIST.ISET", "i3", "3", "z"), OUT_OF_RANGE)
    err(await c.call("LIST.ISET", "i3", "9223372036854775807", "z"), OUT_OF_RANGE)
  })

  it("does not check the kind: an array under another kind is converted, anything else is Go's error", async () => {
    put("i4", { kind: "Default", value: "[1,2]" })
    ok(await c.call("LIST.ISET", "i4", "1", "9"), "")
    ok(await c.call("LIST.GET", "i4"), "[1,9]")
    put("i5", { kind: "Map", value: { a: 1 } })
    err(await c.call("LIST.ISET", "i5", "0", "9"), cannotUnmarshal("object"))
    put("i6", { kind: "JSON", text: "null" })
    err(await c.call("LIST.ISET", "i6", "0", "9"), OUT_OF_RANGE)
  })

  it("errors, in Fleare's order: key, arity (naming LIST.SET), index, key validity", async () => {
    err(await c.call("LIST.ISET"), NO_KEY)
    err(await c.call("LIST.ISET", "i7", "0"), ISET_ARITY)
    err(await c.call("LIST.ISET", "i7", "0", "a", "b"), ISET_ARITY)
    err(await c.call("LIST.ISET", "i7", "-1", "a"), BAD_INDEX)
    err(await c.call("LIST.ISET", "i7", "abc", "a"), BAD_INDEX)
    err(await c.call("LIST.ISET", "i7", "1.0", "a"), BAD_INDEX)
    err(await c.call("LIST.ISET", "i7", "99999999999999999999", "a"), BAD_INDEX)
    err(await c.call("LIST.ISET", "", "-1", "a"), BAD_INDEX)
    err(await c.call("LIST.ISET", "", "0", "a"), KEYERR)
  })
})

describe("LIST.GET", () => {
  it("answers the whole list, one element as JSON, `` for a null element or a missing key", async () => {
    ok(await c.call("LIST.SET", "g1", "a", "2", '{"x":1}', "true", "null", '"z"'), "6")
    ok(await c.call("LIST.GET", "g1", "2"), '{"x":1}')
    ok(await c.call("LIST.GET", "g1", "0"), '"a"')
    ok(await c.call("LIST.GET", "g1", "1"), "2")
    ok(await c.call("LIST.GET", "g1", "3"), "true")
    ok(await c.call("LIST.GET", "g1", "4"), "")
    ok(await c.call("LIST.GET", "g1", "5"), '"z"')
    ok(await c.call("LIST.GET", "missing-g"), "")
    ok(await c.call("LIST.GET", "missing-g", "abc"), "")
  })

  it("errors: arity, kind, index", async () => {
    err(await c.call("LIST.GET"), NO_KEY)
    err(await c.call("LIST.GET", "g1", "0", "1"), "InvalidArgumentError: invalid number of arguments")
    err(await c.call("LIST.GET", "", "0"), KEYERR)
    err(await c.call("LIST.GET", "g1", "6"), OUT_OF_RANGE)
    err(await c.call("LIST.GET", "g1", "-1"), BAD_INDEX)
    err(await c.call("LIST.GET", "g1", "x"), BAD_INDEX)
    put("g2", { kind: "Default", value: "[1]" })
    err(await c.call("LIST.GET", "g2"), NOT_A_LIST)
    err(await c.call("LIST.GET", "g2", "0"), NOT_A_LIST)
  })
})

describe("LIST.LEN", () => {
  it("answers the length, 0 for a missing key", async () => {
    ok(await c.call("LIST.SET", "n1", "a", "b"), "2")
    ok(await c.call("LIST.LEN", "n1"), "2")
    ok(await c.call("LIST.LEN", "missing-n"), "0")
  })

  it("errors", async () => {
    err(await c.call("LIST.LEN"), NO_KEY)
    err(
      await c.call("LIST.LEN", "n1", "x"),
      "InvalidArgumentError: invalid number of arguments, Syntax: LIST.LEN <key>"
    )
    err(await c.call("LIST.LEN", ""), KEYERR)
    put("n2", { kind: "String", value: "[1]" })
    err(await c.call("LIST.LEN", "n2"), NOT_A_LIST)
  })
})

describe("LIST.POP", () => {
  it("removes and answers the last element", async () => {
    ok(await c.call("LIST.SET", "o1", "1", '{"b":2,"a":1}', '"z"'), "3")
    ok(await c.call("LIST.POP", "o1"), '"z"')
    ok(await c.call("LIST.POP", "o1", "ignored"), '{"a":1,"b":2}')
    ok(await c.call("LIST.GET", "o1"), "[1]")
  })

  it("deletes the key when it pops the only element", async () => {
    ok(await c.call("LIST.POP", "o1"), "1")
    expect(keyspace.get("o1", nowNanos())).toBeUndefined()
    ok(await c.call("LIST.GET", "o1"), "")
    ok(await c.call("LIST.POP", "o1"), "")
    ok(await c.call("LIST.SET", "o2", "null"), "1")
    ok(await c.call("LIST.POP", "o2"), "")
    expect(keyspace.get("o2", nowNanos())).toBeUndefined()
  })

  it("keeps Fleare's quirk: a null last element answers `` and stays", async () => {
    ok(await c.call("LIST.SET", "o3", "a", "null"), "2")
    ok(await c.call("LIST.POP", "o3"), "")
    ok(await c.call("LIST.POP", "o3"), "")
    ok(await c.call("LIST.GET", "o3"), '["a",null]')
  })

  it("answers `` for a missing key and an empty list", async () => {
    ok(await c.call("LIST.POP", "missing-o"), "")
    ok(await c.call("LIST.PUSH", "o4"), "0")
    ok(await c.call("LIST.POP", "o4"), "")
    ok(await c.call("LIST.LEN", "o4"), "0")
  })

  it("unmarshals before it checks the kind", async () => {
    put("o5", { kind: "Default", value: "[1,2]" })
    err(await c.call("LIST.POP", "o5"), EXISTING_NOT_A_LIST)
    put("o6", { kind: "Map", value: { a: 1 } })
    err(await c.call("LIST.POP", "o6"), cannotUnmarshal("object"))
    put("o7", { kind: "String", value: "Hello" })
    err(await c.call("LIST.POP", "o7"), "InvalidCharacterError: invalid character 'H' looking for beginning of value")
  })

  it("errors: no key, bad key", async () => {
    err(await c.call("LIST.POP"), NO_KEY)
    err(await c.call("LIST.POP", ""), KEYERR)
  })
})

describe("LIST.GPOP", () => {
  it("removes and answers the last element; the emptied list stays", async () => {
    ok(await c.call("LIST.SET", "q1", "1", '{"x":1}', '"z"'), "3")
    ok(await c.call("LIST.GPOP", "q1"), '"z"')
    ok(await c.call("LIST.GPOP", "q1"), '{"x":1}')
    ok(await c.call("LIST.GPOP", "q1"), "1")
    ok(await c.call("LIST.GET", "q1"), "[]")
    ok(await c.call("LIST.GPOP", "q1"), "")
    ok(await c.call("LIST.LEN", "q1"), "0")
  })

  it("removes a null last element and answers ``", async () => {
    ok(await c.call("LIST.SET", "q2", "a", "null"), "2")
    ok(await c.call("LIST.GPOP", "q2"), "")
    ok(await c.call("LIST.GET", "q2"), '["a"]')
  })

  it("errors: missing key, kind after unmarshal, no key, bad key", async () => {
    err(await c.call("LIST.GPOP", "missing-q"), "InvalidKeyError: key does not exist")
    put("q3", { kind: "JSON", text: "[1]" })
    err(await c.call("LIST.GPOP", "q3"), EXISTING_NOT_A_LIST)
    put("q4", { kind: "Number", value: 7 })
    err(await c.call("LIST.GPOP", "q4"), cannotUnmarshal("number"))
    err(await c.call("LIST.GPOP"), NO_KEY)
    err(await c.call("LIST.GPOP", ""), KEYERR)
  })
})

describe("LIST.FIND", () => {
  it("SPEC's examples on numbers", async () => {
    ok(await c.call("LIST.SET", "f1", "10", "20", "30", "20"), "4")
    ok(await c.call("LIST.FIND", "f1", ":20"), "[20,20]")
    ok(await c.call("LIST.FIND", "f1", ">15"), "[20,30,20]")
    ok(await c.call("LIST.FIND", "f1", "!20"), "[10,30]")
    ok(await c.call("LIST.FIND", "f1", "<=20"), "[10,20,20]")
    ok(await c.call("LIST.FIND", "f1", ":99"), "null")
    ok(await c.call("LIST.FIND", "f1", "20"), "null")
  })

  it("SPEC's examples on objects: $age>=25, $p.t:dark, $name~john", async () => {
    ok(await c.call("LIST.PUSH", "f2", '{"name":"John","age":30,"p":{"t":"white"}}'), "1")
    ok(await c.call("LIST.PUSH", "f2", '{"name":"Robert","age":40,"p":{"t":"dark"}}', "20"), "3")
    ok(await c.call("LIST.PUSH", "f2", '{"name":"Michael","age":25,"p":{"t":"dark"}}'), "4")
    ok(await c.call("LIST.PUSH", "f2", '{"name":"JOHN","age":20}'), "5")
    ok(
      await c.call("LIST.FIND", "f2", "$age>=25"),
      '[{"age":30,"name":"John","p":{"t":"white"}},{"age":40,"name":"Robert","p":{"t":"dark"}},' +
        '{"age":25,"name":"Michael","p":{"t":"dark"}}]'
    )
    ok(
      await c.call("LIST.FIND", "f2", "$p.t:dark"),
      '[{"age":40,"name":"Robert","p":{"t":"dark"}},{"age":25,"name":"Michael","p":{"t":"dark"}}]'
    )
    ok(
      await c.call("LIST.FIND", "f2", "$name~john"),
      '[{"age":30,"name":"John","p":{"t":"white"}},{"age":20,"name":"JOHN"}]'
    )
    // The prefix form sees only the number; the $ form only the objects.
    ok(await c.call("LIST.FIND", "f2", ":20"), "[20]")
    ok(await c.call("LIST.FIND", "f2", "$age:20"), '[{"age":20,"name":"JOHN"}]')
  })

  it("handles elements nested to Go's depth limit", async () => {
    const deep = "[".repeat(9999) + "]".repeat(9999)
    ok(await c.call("LIST.SET", "f5", deep, "x"), "2")
    ok(await c.call("LIST.FIND", "f5", ":x"), '["x"]')
    ok(await c.call("LIST.FIND", "f5", "!x"), "[" + deep + "]")
    ok(await c.call("LIST.UPDATE", "f5", "!x", "y"), "1")
    ok(await c.call("LIST.GET", "f5"), '["y","x"]')
  })

  it("answers `` for a missing key or an empty list", async () => {
    ok(await c.call("LIST.FIND", "missing-f", ":1"), "")
    ok(await c.call("LIST.PUSH", "f3"), "0")
    ok(await c.call("LIST.FIND", "f3", ":1"), "")
  })

  it("errors", async () => {
    err(await c.call("LIST.FIND"), NO_KEY)
    const arity = "InvalidArgumentError: invalid number of arguments, Syntax: LIST.FIND <key> <path>"
    err(await c.call("LIST.FIND", "f1"), arity)
    err(await c.call("LIST.FIND", "f1", ":1", "x"), arity)
    err(await c.call("LIST.FIND", "", ":1"), KEYERR)
    put("f4", { kind: "Default", value: "[1]" })
    err(await c.call("LIST.FIND", "f4", ":1"), NOT_A_LIST)
  })
})

describe("LIST.UPDATE", () => {
  it("replaces every matching element and answers the count", async () => {
    ok(await c.call("LIST.SET", "u1", "John", "Emily", "John"), "3")
    ok(await c.call("LIST.UPDATE", "u1", ":John", "Parash"), "2")
    ok(await c.call("LIST.GET", "u1"), '["Parash","Emily","Parash"]')
    ok(await c.call("LIST.UPDATE", "u1", "~emily", '{"b":1,"a":2}'), "1")
    ok(await c.call("LIST.GET", "u1"), '["Parash",{"a":2,"b":1},"Parash"]')
    ok(await c.call("LIST.UPDATE", "u1", "$a>1", "null"), "1")
    ok(await c.call("LIST.GET", "u1"), '["Parash",null,"Parash"]')
    ok(await c.call("LIST.UPDATE", "u1", ":nobody", "x"), "0")
    ok(await c.call("LIST.GET", "u1"), '["Parash",null,"Parash"]')
  })

  it("answers `` for a missing key or an empty list", async () => {
    ok(await c.call("LIST.UPDATE", "missing-u", ":1", "2"), "")
    expect(keyspace.get("missing-u", nowNanos())).toBeUndefined()
    ok(await c.call("LIST.PUSH", "u2"), "0")
    ok(await c.call("LIST.UPDATE", "u2", ":1", "2"), "")
  })

  it("errors", async () => {
    err(await c.call("LIST.UPDATE"), NO_KEY)
    const arity = "InvalidArgumentError: invalid number of arguments, Syntax: LIST.UPDATE <key> <path> <value>"
    err(await c.call("LIST.UPDATE", "u1", ":1"), arity)
    err(await c.call("LIST.UPDATE", "u1", ":1", "2", "3"), arity)
    err(await c.call("LIST.UPDATE", "", ":1", "2"), KEYERR)
    put("u3", { kind: "Map", value: { a: 1 } })
    err(await c.call("LIST.UPDATE", "u3", ":1", "2"), NOT_A_LIST)
  })
})

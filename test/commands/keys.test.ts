import { describe, expect, it } from "@effect/vitest"
import type { CommandContext, ServerServices } from "../../src/commands/Command.js"
import { keyCommands } from "../../src/commands/keys.js"
import { isCommandError } from "../../src/errors.js"
import { errorText, type Reply } from "../../src/protocol/Reply.js"
import { Keyspace } from "../../src/store/Keyspace.js"
import type { Value } from "../../src/store/Value.js"
import { withServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"
import { err, ok, useServerAndClient } from "../support/commandTests.js"

const KEYERR = "InvalidKeyError: invalid key, must be a string and at least 1 to 200 characters long"
const NO_KEY = "InvalidKeyError: Key must be provided"
const SET_ARGS = "InvalidArgumentError: Key and value must be provided"
const GET_ARITY = "InvalidArgumentError: invalid number of arguments"
const DELETE_ARGS = "InvalidArgumentError: Key must be provided, example: DELETE key"
const NOT_A_MAP = (kind: string) =>
  `InvalidCharacterError: json: cannot unmarshal ${kind} into Go value of type map[string]interface {}`

const { c } = useServerAndClient()

describe("SET", () => {
  it("stores the value verbatim and answers an empty result", async () => {
    ok(await c.call("SET", "set:a", "hello world"), "")
    ok(await c.call("GET", "set:a"), "hello world")
    ok(await c.call("SET", "set:a", ""), "")
    ok(await c.call("GET", "set:a"), "")
    ok(await c.call("EXISTS", "set:a"), "1")
    ok(await c.call("SET", "set:a", '  {"x": 1}  '), "")
    ok(await c.call("GET", "set:a"), '  {"x": 1}  ')
  })

  it("needs exactly a key and a value", async () => {
    err(await c.call("SET"), SET_ARGS)
    err(await c.call("SET", "set:b"), SET_ARGS)
    err(await c.call("SET", "set:b", "v", "w"), SET_ARGS)
    ok(await c.call("EXISTS", "set:b"), "0")
  })

  it("checks the key: 1 to 200 bytes of UTF-8", async () => {
    err(await c.call("SET", "", "v"), KEYERR)
    err(await c.call("SET", "k".repeat(201), "v"), KEYERR)
    ok(await c.call("SET", "k".repeat(200), "v"), "")
    ok(await c.call("GET", "k".repeat(200)), "v")
    // 101 two-byte characters are 202 bytes; 100 are 200
    err(await c.call("SET", "é".repeat(101), "v"), KEYERR)
    ok(await c.call("SET", "é".repeat(100), "v"), "")
  })
})

describe("GET", () => {
  it("answers the raw value, or an empty result for a missing key", async () => {
    ok(await c.call("SET", "get:raw", "[1, 2]"), "")
    ok(await c.call("GET", "get:raw"), "[1, 2]")
    ok(await c.call("GET", "get:missing"), "")
    ok(await c.call("GET", "get:missing", "a.b"), "")
  })

  it("argument errors", async () => {
    err(await c.call("GET"), NO_KEY)
    err(await c.call("GET", "get:x", "a", "b"), GET_ARITY)
    err(await c.call("GET", ""), KEYERR)
    err(await c.call("GET", "", "a"), KEYERR)
    err(await c.call("GET", "k".repeat(201)), KEYERR)
  })

  it("walks a dotted path through a JSON object (SPEC examples)", async () => {
    ok(await c.call("SET", "j1", '{"a":{"b":[1,2]}}'), "")
    ok(await c.call("GET", "j1", "a.b"), "[1,2]")
    ok(await c.call("GET", "j1", "a"), '{"b":[1,2]}')
    ok(await c.call("GET", "j1", "zz"), "")
    // a path that runs into a non-object, or past the end
    ok(await c.call("GET", "j1", "a.b.c"), "")
    ok(await c.call("GET", "j1", "a.zz"), "")
  })

  it("answers Go's compact JSON: sorted keys, HTML escapes, float64 numbers; null answers nothing", async () => {
    ok(await c.call("SET", "get:j2", '{ "o": {"z": 1.50, "b": "<&>", "a": 1e21, "n": null}, "n": null, "": 7 }'), "")
    ok(await c.call("GET", "get:j2", "o"), '{"a":1e+21,"b":"\\u003c\\u0026\\u003e","n":null,"z":1.5}')
    ok(await c.call("GET", "get:j2", "o.z"), "1.5")
    ok(await c.call("GET", "get:j2", "o.b"), '"\\u003c\\u0026\\u003e"')
    ok(await c.call("GET", "get:j2", "n"), "")
    ok(await c.call("GET", "get:j2", "o.n"), "")
    // Fleare splits "" into one empty segment: the key ""
    ok(await c.call("GET", "get:j2", ""), "7")
  })

  it("a stored value that is not a JSON object gives Go's unmarshal error", async () => {
    ok(await c.call("SET", "get:v", "value"), "")
    err(
      await c.call("GET", "get:v", "a"),
      "InvalidCharacterError: invalid character 'v' looking for beginning of value"
    )
    ok(await c.call("SET", "get:h", "Hello"), "")
    err(
      await c.call("GET", "get:h", "a"),
      "InvalidCharacterError: invalid character 'H' looking for beginning of value"
    )
    ok(await c.call("SET", "get:e", ""), "")
    err(await c.call("GET", "get:e", "a"), "InvalidCharacterError: unexpected end of JSON input")
    ok(await c.call("SET", "get:arr", "[1,2]"), "")
    err(await c.call("GET", "get:arr", "a"), NOT_A_MAP("array"))
    ok(await c.call("SET", "get:num", "42"), "")
    err(await c.call("GET", "get:num", "a"), NOT_A_MAP("number"))
    ok(await c.call("SET", "get:str", '"x"'), "")
    err(await c.call("GET", "get:str", "a"), NOT_A_MAP("string"))
    ok(await c.call("SET", "get:bool", "true"), "")
    err(await c.call("GET", "get:bool", "a"), NOT_A_MAP("bool"))
    // null unmarshals into a nil map: nothing is found
    ok(await c.call("SET", "get:null", "null"), "")
    ok(await c.call("GET", "get:null", "a"), "")
  })
})

describe("EXISTS", () => {
  it("counts the keys that exist, duplicates twice; keys are not validated", async () => {
    ok(await c.call("SET", "ex:a", "1"), "")
    ok(await c.call("SET", "ex:b", "2"), "")
    ok(await c.call("EXISTS", "ex:a"), "1")
    ok(await c.call("EXISTS", "ex:a", "ex:b"), "2")
    ok(await c.call("EXISTS", "ex:a", "ex:b", "ex:c"), "2")
    ok(await c.call("EXISTS", "ex:a", "ex:a"), "2")
    ok(await c.call("EXISTS", "", "k".repeat(300)), "0")
  })

  it("does not overflow: 200 arguments count 200", async () => {
    ok(await c.call("EXISTS", ...Array.from({ length: 200 }, () => "ex:a")), "200")
    ok(await c.call("EXISTS", ...Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? "ex:a" : "ex:none"))), "500")
  })

  it("needs a key", async () => {
    err(await c.call("EXISTS"), NO_KEY)
  })
})

describe("DELETE", () => {
  it("removes the key and answers an empty result, whether it existed or not", async () => {
    ok(await c.call("SET", "del:a", "v"), "")
    ok(await c.call("DELETE", "del:a"), "")
    ok(await c.call("GET", "del:a"), "")
    ok(await c.call("EXISTS", "del:a"), "0")
    ok(await c.call("DELETE", "del:a"), "")
    ok(await c.call("DELETE", "del:never"), "")
  })

  it("argument errors", async () => {
    err(await c.call("DELETE"), DELETE_ARGS)
    err(await c.call("DELETE", "a", "b"), DELETE_ARGS)
    err(await c.call("DELETE", ""), KEYERR)
    err(await c.call("DELETE", "k".repeat(201)), KEYERR)
  })
})

describe("memory limit over TCP", () => {
  it("noeviction refuses a write past max_size_mb with OutOfMemoryError and keeps the data", () =>
    withServer({ memory: { max_size_mb: 1, eviction_policy: "noeviction" } }, async ({ port }) => {
      const m = await WireClient.authed(port)
      const big = "x".repeat(600 * 1024)
      ok(await m.call("SET", "big1", big), "")
      err(await m.call("SET", "big2", big), "OutOfMemoryError: command not allowed when used memory > 'max_size_mb'")
      ok(await m.call("EXISTS", "big1", "big2"), "1")
      ok(await m.call("DELETE", "big1"), "")
      ok(await m.call("SET", "big2", big), "")
      m.destroy()
    }))

  it("LRU evicts the least recently used key to make room", () =>
    withServer({ memory: { max_size_mb: 1, eviction_policy: "LRU" } }, async ({ port }) => {
      const m = await WireClient.authed(port)
      const third = "x".repeat(300 * 1024)
      ok(await m.call("SET", "a", third), "")
      ok(await m.call("SET", "b", third), "")
      ok(await m.call("SET", "c", third), "")
      expect((await m.call("GET", "a")).result.length).toBe(third.length)
      ok(await m.call("SET", "d", third), "")
      ok(await m.call("EXISTS", "a", "b", "c", "d"), "3")
      ok(await m.call("EXISTS", "b"), "0")
      m.destroy()
    }))

  it("FIFO evicts the key created first, whatever was read since", () =>
    withServer({ memory: { max_size_mb: 1, eviction_policy: "FIFO" } }, async ({ port }) => {
      const m = await WireClient.authed(port)
      const third = "x".repeat(300 * 1024)
      for (const k of ["a", "b", "c"]) ok(await m.call("SET", k, third), "")
      expect((await m.call("GET", "a")).result.length).toBe(third.length)
      ok(await m.call("SET", "d", third), "")
      ok(await m.call("EXISTS", "a"), "0")
      ok(await m.call("EXISTS", "b", "c", "d"), "3")
      m.destroy()
    }))

  it("LFU evicts the least used key", () =>
    withServer({ memory: { max_size_mb: 1, eviction_policy: "LFU" } }, async ({ port }) => {
      const m = await WireClient.authed(port)
      const third = "x".repeat(300 * 1024)
      ok(await m.call("SET", "a", third), "")
      ok(await m.call("SET", "b", third), "")
      // A new key's counter starts at 5 and its first access always counts: a and b reach 6, c stays at 5. c is
      // also the most recently used key, so LRU would evict a instead.
      await m.call("GET", "a")
      await m.call("GET", "b")
      ok(await m.call("SET", "c", third), "")
      ok(await m.call("SET", "d", third), "")
      ok(await m.call("EXISTS", "c"), "0")
      ok(await m.call("EXISTS", "a", "b", "d"), "3")
      m.destroy()
    }))
})

describe("GET on every kind (handler level)", () => {
  const keyspace = Keyspace.makeMemory({ shardCount: 2 })
  const ctx: CommandContext = {
    clientId: "1-127.0.0.1:1",
    user: { username: "root", role: "root" },
    session: undefined as never,
    now: 1_000_000_000n,
    services: { keyspace } as unknown as ServerServices,
    pubsub: undefined as never
  }
  const getSpec = keyCommands.find((s) => s.name === "GET")!
  const run = (...args: Array<string>): string => {
    if (getSpec.kind !== "sync") throw new Error("GET should be synchronous")
    const r: Reply = getSpec.run(ctx, args)
    return isCommandError(r) ? "Error " + errorText(r) : "Ok " + String(r)
  }
  const put = (key: string, value: Value) => expect(keyspace.set(key, value, ctx.now)).toBeUndefined()

  it("answers the stored form of each kind without a path", () => {
    put("num", { kind: "Number", value: 43.5 })
    put("list", { kind: "List", value: [1, "a", { b: "<" }] })
    put("map", { kind: "Map", value: { z: { y: 1 }, a: [true] } })
    put("json", { kind: "JSON", text: '{ "x" : { "y" : 2 } }' })
    put("str", { kind: "String", value: "plain" })
    expect(run("num")).toBe("Ok 43.5")
    expect(run("list")).toBe('Ok [1,"a",{"b":"\\u003c"}]')
    expect(run("map")).toBe('Ok {"a":[true],"z":{"y":1}}')
    expect(run("json")).toBe('Ok { "x" : { "y" : 2 } }')
    expect(run("str")).toBe("Ok plain")
  })

  it("walks maps and JSON documents; lists and numbers are not objects", () => {
    expect(run("map", "z.y")).toBe("Ok 1")
    expect(run("map", "a")).toBe("Ok [true]")
    expect(run("json", "x")).toBe('Ok {"y":2}')
    expect(run("list", "a")).toBe("Error " + NOT_A_MAP("array"))
    expect(run("num", "a")).toBe("Error " + NOT_A_MAP("number"))
    expect(run("str", "a")).toBe("Error InvalidCharacterError: invalid character 'p' looking for beginning of value")
  })
})

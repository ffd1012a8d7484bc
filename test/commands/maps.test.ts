import { describe, expect, it } from "@effect/vitest"
import { WireClient } from "../support/wire.js"
import { err, ok, useServerAndClient } from "../support/commandTests.js"

const KEYERR = "InvalidKeyError: invalid key, must be a string and at least 1 to 200 characters long"
const SET_ARGS = "InvalidArgumentError: Key mapKey, and value must be provided, Syntax: MAP.SET <key> <mapKey> <value>"
const CSET_ARGS = "InvalidArgumentError: Key mapKey, and value must be provided"
const GET_DEL_ARGS = "InvalidArgumentError: More then 2 args not supported, Supported args Key or key and mapKey"
const NO_FIELD = "InvalidMapKeyError: map key must be provided"
const MUST_BE_MAP = "InvalidValueError: The current value associated with the provided key must be a Map type"
const GO_MAP = "map[string]interface {}"
const LONG_KEY = "k".repeat(201)

const { server, c } = useServerAndClient()

describe("MAP.SET", () => {
  it("argument, key and field errors", async () => {
    err(await c.call("MAP.SET"), SET_ARGS)
    err(await c.call("MAP.SET", "ms0", "f"), SET_ARGS)
    err(await c.call("MAP.SET", "ms0", "f", "v", "x"), SET_ARGS)
    err(await c.call("MAP.SET", "", "f", "v"), KEYERR)
    err(await c.call("MAP.SET", LONG_KEY, "f", "v"), KEYERR)
    // A.3: Fleare crashed on an empty field.
    const r = await c.call("MAP.SET", "ms0", "", "v")
    err(r, NO_FIELD)
    expect(r.clientId).not.toBe("")
    ok(await c.call("MAP.GET", "ms0"), "")
  })

  it("creates the map and adds fields; values go through EnsureUnmarshal", async () => {
    ok(await c.call("MAP.SET", "ms1", "n", "2"), "")
    ok(await c.call("MAP.SET", "ms1", "b", "true"), "")
    ok(await c.call("MAP.SET", "ms1", "z", "null"), "")
    ok(await c.call("MAP.SET", "ms1", "q", '"A"'), "")
    ok(await c.call("MAP.SET", "ms1", "o", '{"y":1,"x":[1,"<"]}'), "")
    ok(await c.call("MAP.SET", "ms1", "s", "a"), "")
    ok(await c.call("MAP.SET", "ms1", "lead", "007"), "")
    ok(await c.call("MAP.SET", "ms1", "big", "1e400"), "")
    ok(await c.call("MAP.SET", "ms1", "__proto__", "1"), "")
    ok(
      await c.call("MAP.GET", "ms1"),
      '{"__proto__":1,"b":true,"big":"1e400","lead":"007","n":2,"o":{"x":[1,"\\u003c"],"y":1},"q":"A","s":"a","z":null}'
    )
    ok(await c.call("MAP.SET", "ms1", "n", "3.5"), "")
    ok(await c.call("MAP.GET", "ms1", "n"), "3.5")
  })

  it("on a string key: the unmarshal error comes first (§3.2)", async () => {
    ok(await c.call("STR.SET", "s1", "Hello"), "")
    err(
      await c.call("MAP.SET", "s1", "f", "v"),
      "InvalidCharacterError: invalid character 'H' looking for beginning of value"
    )
    ok(await c.call("SET", "ms-def", "  "), "")
    err(await c.call("MAP.SET", "ms-def", "f", "v"), "InvalidCharacterError: unexpected end of JSON input")
  })

  it("on other kinds: what Go sees when unmarshalling their stored text", async () => {
    ok(await c.call("NUM.SET", "ms-num", "42"), "")
    err(
      await c.call("MAP.SET", "ms-num", "f", "v"),
      `InvalidCharacterError: json: cannot unmarshal number into Go value of type ${GO_MAP}`
    )
    ok(await c.call("LIST.SET", "ms-list", "1", "2"), "2")
    err(
      await c.call("MAP.SET", "ms-list", "f", "v"),
      `InvalidCharacterError: json: cannot unmarshal array into Go value of type ${GO_MAP}`
    )
    ok(await c.call("JSON.SET", "ms-json", "[1]"), "")
    err(
      await c.call("MAP.SET", "ms-json", "f", "v"),
      `InvalidCharacterError: json: cannot unmarshal array into Go value of type ${GO_MAP}`
    )
  })

  it("a key of another kind whose text is an object (or null) gets the kind error", async () => {
    ok(await c.call("SET", "ms-objtext", '{"a":1}'), "")
    err(await c.call("MAP.SET", "ms-objtext", "f", "v"), MUST_BE_MAP)
    ok(await c.call("JSON.SET", "ms-doc", '{"a":1}'), "")
    err(await c.call("MAP.SET", "ms-doc", "f", "v"), MUST_BE_MAP)
    ok(await c.call("SET", "ms-null", "null"), "")
    err(await c.call("MAP.SET", "ms-null", "f", "v"), MUST_BE_MAP)
  })

  it("a write discards the key's TTL", async () => {
    ok(await c.call("MAP.SET", "ms-ttl", "a", "1"), "")
    ok(await c.call("TTL.EXPIRE", "ms-ttl", "100"), "1")
    ok(await c.call("MAP.SET", "ms-ttl", "b", "2"), "")
    ok(await c.call("TTL", "ms-ttl"), "-1")
  })

  it("is atomic per key: 20 connections x 50 distinct fields end with exactly 1000 fields", async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => WireClient.authed(server.port)))
    try {
      await Promise.all(
        clients.map(async (cl, i) => {
          for (let j = 0; j < 50; j++) cl.send("MAP.SET", "ms-race", `f${i}-${j}`, String(j))
          for (let j = 0; j < 50; j++) ok(await cl.next(), "")
        })
      )
      const all = JSON.parse((await c.ok("MAP.GET", "ms-race")) as string) as Record<string, number>
      expect(Object.keys(all).length).toBe(1000)
      expect(all["f19-49"]).toBe(49)
    } finally {
      for (const cl of clients) cl.destroy()
    }
  })
})

describe("MAP.CSET", () => {
  it("argument, key and field errors", async () => {
    err(await c.call("MAP.CSET"), CSET_ARGS)
    err(await c.call("MAP.CSET", "mc1", "f"), CSET_ARGS)
    err(await c.call("MAP.CSET", "mc1", "f", "v", "w"), CSET_ARGS)
    err(await c.call("MAP.CSET", "", "f", "v"), KEYERR)
    err(await c.call("MAP.CSET", "mc1", "", "v"), NO_FIELD)
  })

  it("clears the key and stores a one-field map, whatever the key held", async () => {
    ok(await c.call("MAP.SET", "mc1", "a", "1"), "")
    ok(await c.call("MAP.SET", "mc1", "b", "2"), "")
    ok(await c.call("MAP.CSET", "mc1", "c", '{"d":true}'), "")
    ok(await c.call("MAP.GET", "mc1"), '{"c":{"d":true}}')
    ok(await c.call("STR.SET", "mc2", "Hello"), "")
    ok(await c.call("MAP.CSET", "mc2", "f", "plain"), "")
    ok(await c.call("MAP.GET", "mc2"), '{"f":"plain"}')
    ok(await c.call("MAP.SET", "mc2", "g", "1"), "")
    ok(await c.call("MAP.GET", "mc2"), '{"f":"plain","g":1}')
  })
})

describe("MAP.GET", () => {
  it("argument, key and field errors", async () => {
    err(await c.call("MAP.GET"), GET_DEL_ARGS)
    err(await c.call("MAP.GET", "mg1", "f", "x"), GET_DEL_ARGS)
    err(await c.call("MAP.GET", ""), KEYERR)
    err(await c.call("MAP.GET", LONG_KEY, "f"), KEYERR)
    ok(await c.call("MAP.SET", "mg1", "a", "1"), "")
    // A.3: Fleare crashed on an empty field of an existing key.
    err(await c.call("MAP.GET", "mg1", ""), NO_FIELD)
    err(await c.call("MAP.GET", "mg-missing", ""), NO_FIELD)
  })

  it("missing key or field is empty; a field is answered as JSON", async () => {
    ok(await c.call("MAP.GET", "mg-missing"), "")
    ok(await c.call("MAP.GET", "mg-missing", "a"), "")
    ok(await c.call("MAP.SET", "mg2", "dev", '{"os":"iOS 16","name":"iPhone"}'), "")
    ok(await c.call("MAP.SET", "mg2", "s", "text"), "")
    ok(await c.call("MAP.SET", "mg2", "nil", "null"), "")
    ok(await c.call("MAP.GET", "mg2"), '{"dev":{"name":"iPhone","os":"iOS 16"},"nil":null,"s":"text"}')
    ok(await c.call("MAP.GET", "mg2", "dev"), '{"name":"iPhone","os":"iOS 16"}')
    ok(await c.call("MAP.GET", "mg2", "s"), '"text"')
    ok(await c.call("MAP.GET", "mg2", "nil"), "null")
    ok(await c.call("MAP.GET", "mg2", "zz"), "")
    ok(await c.call("MAP.GET", "mg2", "toString"), "")
  })

  it("has no kind check: raw bytes of any key, fields of any key holding an object", async () => {
    ok(await c.call("SET", "mg-def", '{"b":{"c":1},"a":2}'), "")
    ok(await c.call("MAP.GET", "mg-def"), '{"b":{"c":1},"a":2}')
    ok(await c.call("MAP.GET", "mg-def", "b"), '{"c":1}')
    ok(await c.call("JSON.SET", "mg-json", '{"x" : [1, 2]}'), "")
    ok(await c.call("MAP.GET", "mg-json", "x"), "[1,2]")
    ok(await c.call("STR.SET", "mg-str", "Hello"), "")
    ok(await c.call("MAP.GET", "mg-str"), "Hello")
    err(
      await c.call("MAP.GET", "mg-str", "f"),
      "InvalidCharacterError: invalid character 'H' looking for beginning of value"
    )
    ok(await c.call("NUM.SET", "mg-num", "7"), "")
    ok(await c.call("MAP.GET", "mg-num"), "7")
    err(
      await c.call("MAP.GET", "mg-num", "f"),
      `InvalidCharacterError: json: cannot unmarshal number into Go value of type ${GO_MAP}`
    )
    ok(await c.call("SET", "mg-null", "null"), "")
    ok(await c.call("MAP.GET", "mg-null", "f"), "")
  })
})

describe("MAP.DEL", () => {
  it("argument, key and field errors", async () => {
    err(await c.call("MAP.DEL"), GET_DEL_ARGS)
    err(await c.call("MAP.DEL", "md1", "f", "x"), GET_DEL_ARGS)
    err(await c.call("MAP.DEL", ""), KEYERR)
    err(await c.call("MAP.DEL", LONG_KEY, "f"), KEYERR)
    err(await c.call("MAP.DEL", "md1", ""), NO_FIELD)
  })

  it("one arg deletes the key, whatever its kind", async () => {
    ok(await c.call("MAP.SET", "md1", "a", "1"), "")
    ok(await c.call("MAP.DEL", "md1"), "")
    ok(await c.call("EXISTS", "md1"), "0")
    ok(await c.call("STR.SET", "md2", "Hello"), "")
    ok(await c.call("MAP.DEL", "md2"), "")
    ok(await c.call("EXISTS", "md2"), "0")
    ok(await c.call("MAP.DEL", "md-missing"), "")
  })

  it("A.3: a field deletes only that field, and the key when the map becomes empty", async () => {
    ok(await c.call("MAP.DEL", "md-missing", "f"), "")
    ok(await c.call("MAP.SET", "md3", "only", "5"), "")
    // Fleare deleted the whole single-entry map whatever field was named.
    ok(await c.call("MAP.DEL", "md3", "zzz"), "")
    ok(await c.call("MAP.GET", "md3"), '{"only":5}')
    ok(await c.call("MAP.SET", "md3", "two", "2"), "")
    ok(await c.call("MAP.DEL", "md3", "only"), "")
    ok(await c.call("MAP.GET", "md3"), '{"two":2}')
    ok(await c.call("MAP.DEL", "md3", "two"), "")
    ok(await c.call("EXISTS", "md3"), "0")
    ok(await c.call("MAP.GET", "md3"), "")
  })

  it("removing a field keeps the key's TTL (Fleare edits the object in place)", async () => {
    ok(await c.call("MAP.SET", "md4", "a", "1"), "")
    ok(await c.call("MAP.SET", "md4", "b", "2"), "")
    ok(await c.call("TTL.EXPIRE", "md4", "100"), "1")
    ok(await c.call("MAP.DEL", "md4", "a"), "")
    ok(await c.call("MAP.GET", "md4"), '{"b":2}')
    ok(await c.call("TTL", "md4"), "100")
  })

  it("kind errors: unmarshal first, then the Map check", async () => {
    ok(await c.call("STR.SET", "md5", "Hello"), "")
    err(
      await c.call("MAP.DEL", "md5", "f"),
      "InvalidCharacterError: invalid character 'H' looking for beginning of value"
    )
    ok(await c.call("SET", "md6", '{"a":1,"b":2}'), "")
    err(await c.call("MAP.DEL", "md6", "a"), MUST_BE_MAP)
    ok(await c.call("LIST.SET", "md7", "1"), "1")
    err(
      await c.call("MAP.DEL", "md7", "f"),
      `InvalidCharacterError: json: cannot unmarshal array into Go value of type ${GO_MAP}`
    )
  })
})

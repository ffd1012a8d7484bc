import { describe, it } from "@effect/vitest"
import { startServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"
import { err, ok, useServerAndClient } from "../support/commandTests.js"

const KEYERR = "InvalidKeyError: invalid key, must be a string and at least 1 to 200 characters long"
const NO_KEY = "InvalidKeyError: Key must be provided"
const MUST_BE_JSON = "InvalidValueError: The current value associated with the provided key must be a json object"
const NOT_VALID = "InvalidValueError: provided value not a valid json object"
const AS_MAP = "InvalidCharacterError: json: cannot unmarshal array into Go value of type map[string]interface {}"
const LONG_KEY = "k".repeat(201)
const JOHN = '{"name":"John","address":{"city":"NY"}}'

const { c } = useServerAndClient()

describe("JSON.SET", () => {
  const ARGS = "InvalidArgumentError: invalid number of arguments, Syntax: LIST.FILTER <key> <path>"

  it("argument, key and value errors", async () => {
    err(await c.call("JSON.SET"), NO_KEY)
    err(await c.call("JSON.SET", "js1"), ARGS)
    err(await c.call("JSON.SET", "js1", "{}", "x"), ARGS)
    err(await c.call("JSON.SET", "", "{}"), KEYERR)
    err(await c.call("JSON.SET", LONG_KEY, "{}"), KEYERR)
    err(await c.call("JSON.SET", "js1", "{"), NOT_VALID)
    err(await c.call("JSON.SET", "js1", "Hello"), NOT_VALID)
    err(await c.call("JSON.SET", "js1", "[".repeat(10001) + "]".repeat(10001)), NOT_VALID)
    ok(await c.call("JSON.GET", "js1"), "")
  })

  it("stores any valid JSON verbatim, over any kind", async () => {
    ok(await c.call("JSON.SET", "js2", ' { "b" : 1, "a" : [ 1 , 2 ] } '), "")
    ok(await c.call("JSON.GET", "js2"), ' { "b" : 1, "a" : [ 1 , 2 ] } ')
    ok(await c.call("JSON.SET", "js3", "1"), "")
    ok(await c.call("JSON.GET", "js3"), "1")
    ok(await c.call("JSON.SET", "js4", '"x"'), "")
    ok(await c.call("JSON.GET", "js4"), '"x"')
    ok(await c.call("STR.SET", "js5", "Hello"), "")
    ok(await c.call("JSON.SET", "js5", "{}"), "")
    ok(await c.call("JSON.GET", "js5"), "{}")
  })
})

describe("JSON.GET", () => {
  it("key errors, missing key, kind error", async () => {
    err(await c.call("JSON.GET"), NO_KEY)
    err(await c.call("JSON.GET", ""), KEYERR)
    err(await c.call("JSON.GET", LONG_KEY, ""), KEYERR)
    ok(await c.call("JSON.GET", "jg-missing"), "")
    ok(await c.call("JSON.GET", "jg-missing", ""), "")
    ok(await c.call("STR.SET", "jg-str", "Hello"), "")
    err(await c.call("JSON.GET", "jg-str"), MUST_BE_JSON)
    err(await c.call("JSON.GET", "jg-str", ""), MUST_BE_JSON)
    ok(await c.call("MAP.SET", "jg-map", "a", "1"), "")
    err(await c.call("JSON.GET", "jg-map", "a"), MUST_BE_JSON)
  })

  it('one arg is the raw stored text; a path (even "") gives sorted compact JSON', async () => {
    ok(await c.call("JSON.SET", "u1", JOHN), "")
    ok(await c.call("JSON.GET", "u1"), JOHN)
    ok(await c.call("JSON.GET", "u1", ""), '{"address":{"city":"NY"},"name":"John"}')
    ok(await c.call("JSON.GET", "u1", "address"), '{"city":"NY"}')
    ok(await c.call("JSON.GET", "u1", "address.city"), '"NY"')
    ok(await c.call("JSON.GET", "u1", "zz"), "")
    ok(await c.call("JSON.GET", "u1", "name.first"), "")
    ok(await c.call("JSON.GET", "u1", "address.city.x"), "")
  })

  it('a JSON null at the path is empty; a stored null document is `null` at ""', async () => {
    ok(await c.call("JSON.SET", "jg-n", '{"a":null,"l":[1,{"b":2}]}'), "")
    ok(await c.call("JSON.GET", "jg-n", "a"), "")
    ok(await c.call("JSON.GET", "jg-n", "l"), '[1,{"b":2}]')
    ok(await c.call("JSON.SET", "jg-null", "null"), "")
    ok(await c.call("JSON.GET", "jg-null", ""), "null")
    ok(await c.call("JSON.GET", "jg-null", "a"), "")
  })

  it("a stored non-object answers Go's unmarshal error when read with a path", async () => {
    ok(await c.call("JSON.SET", "jg-arr", "[1,2]"), "")
    ok(await c.call("JSON.GET", "jg-arr"), "[1,2]")
    err(await c.call("JSON.GET", "jg-arr", ""), AS_MAP)
    ok(await c.call("JSON.SET", "jg-num", "1"), "")
    err(
      await c.call("JSON.GET", "jg-num", "a"),
      "InvalidCharacterError: json: cannot unmarshal number into Go value of type map[string]interface {}"
    )
    ok(await c.call("JSON.SET", "jg-big", '{"a":1e400}'), "")
    err(
      await c.call("JSON.GET", "jg-big", "a"),
      "InvalidCharacterError: json: cannot unmarshal number 1e400 into Go value of type float64"
    )
  })

  it("resolves $ref: references from the document root (newest behaviour)", async () => {
    ok(await c.call("JSON.SET", "users:1", '{"name":"John"}'), "")
    ok(await c.call("JSON.SETREF", "orders:1", '{"item":"book"}', '{"userId":"users:1"}'), "")
    ok(await c.call("JSON.GET", "orders:1"), '{"item":"book","userId":"$ref:users:1"}')
    ok(await c.call("JSON.GET", "orders:1", ""), '{"item":"book","userId":"$ref:users:1"}')
    ok(
      await c.call("JSON.GET", "orders:1", "", "userId"),
      '{"_userId":{"name":"John"},"item":"book","userId":"$ref:users:1"}'
    )
    // The path is applied after the refs are resolved.
    ok(await c.call("JSON.GET", "orders:1", "_userId", "userId"), '{"name":"John"}')
    ok(await c.call("JSON.GET", "orders:1", "_userId.name", "userId"), '"John"')
  })

  it("nested refs, skipped non-refs, and quiet stops", async () => {
    ok(await c.call("JSON.SET", "offers:1", '{"code":"MDX50"}'), "")
    ok(await c.call("MAP.SET", "products:1", "price", "10"), "")
    ok(
      await c.call(
        "JSON.SETREF",
        "orders:2",
        '{"offer":{"name":"one"},"status":"pending"}',
        '{"userId":"users:1","productId":"products:1","offer.offerId":"offers:1","gone":"nope:1"}'
      ),
      ""
    )
    ok(
      await c.call("JSON.GET", "orders:2", "", "status", "offer.offerId", "productId", "userId"),
      '{"_productId":{"price":10},"_userId":{"name":"John"},"gone":"$ref:nope:1",' +
        '"offer":{"_offerId":{"code":"MDX50"},"name":"one","offerId":"$ref:offers:1"},' +
        '"productId":"$ref:products:1","status":"pending","userId":"$ref:users:1"}'
    )
    // A reference to a missing key stops resolution: userId after it stays unresolved.
    ok(
      await c.call("JSON.GET", "orders:2", "offer", "gone", "userId", "offer.offerId"),
      '{"name":"one","offerId":"$ref:offers:1"}'
    )
    // A missing ref path stops too.
    ok(
      await c.call("JSON.GET", "orders:2", "", "missing", "userId"),
      '{"gone":"$ref:nope:1","offer":{"name":"one","offerId":"$ref:offers:1"},' +
        '"productId":"$ref:products:1","status":"pending","userId":"$ref:users:1"}'
    )
    // A referenced key that is not an object stops quietly.
    ok(await c.call("STR.SET", "strs:1", "Hello"), "")
    ok(await c.call("JSON.SETREF", "orders:3", '{"a":1}', '{"s":"strs:1","u":"users:1"}'), "")
    ok(await c.call("JSON.GET", "orders:3", "", "s", "u"), '{"a":1,"s":"$ref:strs:1","u":"$ref:users:1"}')
    ok(
      await c.call("JSON.GET", "orders:3", "", "u", "s"),
      '{"_u":{"name":"John"},"a":1,"s":"$ref:strs:1","u":"$ref:users:1"}'
    )
  })
})

describe("JSON.PGET", () => {
  it("errors, raw text, paths, no refs", async () => {
    err(await c.call("JSON.PGET"), NO_KEY)
    err(
      await c.call("JSON.PGET", "u1", "", "userId"),
      "InvalidArgumentError: invalid number of arguments, Syntax: JSON.GET <key> [<path>]"
    )
    err(await c.call("JSON.PGET", ""), KEYERR)
    ok(await c.call("JSON.PGET", "jp-missing"), "")
    ok(await c.call("JSON.SET", "jp1", JOHN), "")
    ok(await c.call("JSON.PGET", "jp1"), JOHN)
    ok(await c.call("JSON.PGET", "jp1", ""), '{"address":{"city":"NY"},"name":"John"}')
    ok(await c.call("JSON.PGET", "jp1", "address.city"), '"NY"')
    ok(await c.call("JSON.PGET", "jp1", "zz"), "")
    ok(await c.call("STR.SET", "jp-str", "x"), "")
    err(await c.call("JSON.PGET", "jp-str"), MUST_BE_JSON)
    ok(await c.call("JSON.SET", "jp-arr", "[]"), "")
    err(await c.call("JSON.PGET", "jp-arr", ""), AS_MAP)
  })
})

describe("JSON.ADD", () => {
  const ARGS = "InvalidArgumentError: invalid number of arguments, Syntax: JSON.ADD <key> <path> <value>"

  it("argument and key errors", async () => {
    err(await c.call("JSON.ADD"), NO_KEY)
    err(await c.call("JSON.ADD", "ja1", "a"), ARGS)
    err(await c.call("JSON.ADD", "ja1", "a", "1", "2"), ARGS)
    err(await c.call("JSON.ADD", "", "a", "1"), KEYERR)
  })

  it("sets at a path creating parents and returns the whole document", async () => {
    ok(await c.call("JSON.SET", "ja1", JOHN), "")
    ok(
      await c.call("JSON.ADD", "ja1", "office.members", "134"),
      '{"address":{"city":"NY"},"name":"John","office":{"members":134}}'
    )
    ok(
      await c.call("JSON.ADD", "ja1", "hobbies", '["reading","hiking"]'),
      '{"address":{"city":"NY"},"hobbies":["reading","hiking"],"name":"John","office":{"members":134}}'
    )
    ok(
      await c.call("JSON.ADD", "ja1", "name", "Jane Doe"),
      '{"address":{"city":"NY"},"hobbies":["reading","hiking"],"name":"Jane Doe","office":{"members":134}}'
    )
    // The stored text is now the re-marshalled form.
    ok(
      await c.call("JSON.GET", "ja1"),
      '{"address":{"city":"NY"},"hobbies":["reading","hiking"],"name":"Jane Doe","office":{"members":134}}'
    )
  })

  it("creates a missing document", async () => {
    ok(await c.call("JSON.ADD", "ja2", "a.b", "true"), '{"a":{"b":true}}')
    ok(await c.call("JSON.GET", "ja2"), '{"a":{"b":true}}')
  })

  it("an intermediate that is not an object: bare `invalid path: <path>`", async () => {
    ok(await c.call("JSON.SET", "ja3", '{"name":"John","n":null}'), "")
    err(await c.call("JSON.ADD", "ja3", "name.first", "J"), "invalid path: name.first")
    err(await c.call("JSON.ADD", "ja3", "n.x", "1"), "invalid path: n.x")
    ok(await c.call("JSON.GET", "ja3"), '{"name":"John","n":null}')
  })

  it("kind and unmarshal errors", async () => {
    ok(await c.call("STR.SET", "ja4", "Hello"), "")
    err(await c.call("JSON.ADD", "ja4", "a", "1"), MUST_BE_JSON)
    ok(await c.call("JSON.SET", "ja5", "[1]"), "")
    err(await c.call("JSON.ADD", "ja5", "a", "1"), AS_MAP)
  })

  it("a stored null document is Go's nil map: the value goes into a new object", async () => {
    ok(await c.call("JSON.SET", "ja6", "null"), "")
    ok(await c.call("JSON.ADD", "ja6", "a", "x"), '{"a":"x"}')
  })
})

describe("JSON.MERGE", () => {
  const ARGS = "InvalidArgumentError: invalid number of arguments, Syntax: JSON.MERGE <key> <value>"

  it("argument and key errors", async () => {
    err(await c.call("JSON.MERGE"), NO_KEY)
    err(await c.call("JSON.MERGE", "jm1"), ARGS)
    err(await c.call("JSON.MERGE", "jm1", "{}", "{}"), ARGS)
    err(await c.call("JSON.MERGE", LONG_KEY, "{}"), KEYERR)
  })

  it("a missing key stores the value re-marshalled, even a non-object", async () => {
    ok(await c.call("JSON.MERGE", "jm1", "[1]"), "[1]")
    ok(await c.call("JSON.GET", "jm1"), "[1]")
    ok(await c.call("JSON.MERGE", "jm2", "plain"), '"plain"')
    ok(await c.call("JSON.MERGE", "jm3", '{ "b":1, "a":2 }'), '{"a":2,"b":1}')
    ok(await c.call("JSON.GET", "jm3"), '{"a":2,"b":1}')
  })

  it("deep-merges into an existing document and returns it", async () => {
    ok(await c.call("JSON.SET", "jm4", '{"name":"John","address":{"street":"Main","city":"NY"},"tags":[1]}'), "")
    ok(
      await c.call("JSON.MERGE", "jm4", '{"address":{"city":"LA","zip":"9"},"tags":[2],"age":30}'),
      '{"address":{"city":"LA","street":"Main","zip":"9"},"age":30,"name":"John","tags":[2]}'
    )
  })

  it("errors on an existing key: kind, unmarshal, non-object value", async () => {
    err(await c.call("JSON.MERGE", "jm4", "[1]"), "InvalidValueError: The value to merge must be a JSON object")
    err(await c.call("JSON.MERGE", "jm4", "plain"), "InvalidValueError: The value to merge must be a JSON object")
    err(await c.call("JSON.MERGE", "jm1", "{}"), AS_MAP)
    ok(await c.call("STR.SET", "jm5", "x"), "")
    err(await c.call("JSON.MERGE", "jm5", "{}"), MUST_BE_JSON)
  })
})

describe("JSON.REMOVE", () => {
  it("key errors, missing key, kind error", async () => {
    err(await c.call("JSON.REMOVE"), NO_KEY)
    err(await c.call("JSON.REMOVE", ""), KEYERR)
    ok(await c.call("JSON.REMOVE", "jr-missing"), "")
    ok(await c.call("JSON.REMOVE", "jr-missing", "a"), "")
    ok(await c.call("STR.SET", "jr-str", "x"), "")
    err(await c.call("JSON.REMOVE", "jr-str"), MUST_BE_JSON)
  })

  it("one arg deletes the key", async () => {
    ok(await c.call("JSON.SET", "jr1", "{}"), "")
    ok(await c.call("JSON.REMOVE", "jr1"), "")
    ok(await c.call("EXISTS", "jr1"), "0")
  })

  it("a path is removed and the new document returned; an absent path changes nothing", async () => {
    ok(await c.call("JSON.SET", "jr2", '{"name":"John","age":30,"address":{"street":"Main","city":"NY"}}'), "")
    ok(await c.call("JSON.REMOVE", "jr2", "address.city"), '{"address":{"street":"Main"},"age":30,"name":"John"}')
    ok(await c.call("JSON.REMOVE", "jr2", "address"), '{"age":30,"name":"John"}')
    ok(await c.call("JSON.REMOVE", "jr2", "zz.yy"), '{"age":30,"name":"John"}')
    ok(await c.call("JSON.GET", "jr2"), '{"age":30,"name":"John"}')
    err(await c.call("JSON.REMOVE", "jr2", "name.first"), "invalid path: name.first")
  })

  it("a stored non-object with a path is the unmarshal error", async () => {
    ok(await c.call("JSON.SET", "jr3", "[1]"), "")
    err(await c.call("JSON.REMOVE", "jr3", "a"), AS_MAP)
  })
})

describe("JSON.SETREF", () => {
  const ARGS = "InvalidArgumentError: invalid number of arguments, Syntax: JSON.SETREF <key> <value> <ref_object>"

  it("argument, key and validity errors", async () => {
    err(await c.call("JSON.SETREF"), NO_KEY)
    err(await c.call("JSON.SETREF", "jsr1", "{}"), ARGS)
    err(await c.call("JSON.SETREF", "jsr1", "{}", "{}", "{}"), ARGS)
    err(await c.call("JSON.SETREF", "", "{}", "{}"), KEYERR)
    err(await c.call("JSON.SETREF", "jsr1", "{", "{}"), NOT_VALID)
    err(await c.call("JSON.SETREF", "jsr1", "{}", "{"), "InvalidValueError: provided refObject not a valid json object")
    err(
      await c.call("JSON.SETREF", "jsr1", "{}", '{"a":1}'),
      "InvalidCharacterError: json: cannot unmarshal number into Go value of type string"
    )
    err(
      await c.call("JSON.SETREF", "jsr1", "{}", "[]"),
      "InvalidCharacterError: json: cannot unmarshal array into Go value of type map[string]string"
    )
    err(await c.call("JSON.SETREF", "jsr1", "[1]", "{}"), AS_MAP)
    ok(await c.call("JSON.GET", "jsr1"), "")
  })

  it("writes $ref:<key> at each path, creating parents; stores sorted JSON", async () => {
    ok(
      await c.call(
        "JSON.SETREF",
        "jsr2",
        '{"b":1,"offer":{"name":"x"}}',
        '{"user":"users:9","offer.id":"o:1","x.y.z":"q"}'
      ),
      ""
    )
    ok(
      await c.call("JSON.GET", "jsr2"),
      '{"b":1,"offer":{"id":"$ref:o:1","name":"x"},"user":"$ref:users:9","x":{"y":{"z":"$ref:q"}}}'
    )
  })

  it("overwrites a key of any kind; a path it cannot write is ignored", async () => {
    ok(await c.call("STR.SET", "jsr3", "Hello"), "")
    ok(await c.call("JSON.SETREF", "jsr3", '{"a":5}', '{"a.b":"k1","c":"k2"}'), "")
    ok(await c.call("JSON.GET", "jsr3"), '{"a":5,"c":"$ref:k2"}')
  })

  it("without strict mode a missing reference key is accepted", async () => {
    ok(await c.call("JSON.SETREF", "jsr4", "{}", '{"u":"no-such-key"}'), "")
    ok(await c.call("JSON.GET", "jsr4"), '{"u":"$ref:no-such-key"}')
  })

  it("strict mode (misc.insertmode: true): every reference key must exist", async () => {
    const strict = await startServer({ misc: { insertmode: true } })
    const s = await WireClient.authed(strict.port)
    try {
      ok(await s.call("JSON.SET", "users:1", '{"name":"John"}'), "")
      err(
        await s.call("JSON.SETREF", "o1", "{}", '{"u":"users:1","p":"products:404"}'),
        "InvalidReferenceError: reference key products:404 not found"
      )
      ok(await s.call("JSON.GET", "o1"), "")
      ok(await s.call("JSON.SETREF", "o1", '{"n":1}', '{"u":"users:1"}'), "")
      ok(await s.call("JSON.GET", "o1", "", "u"), '{"_u":{"name":"John"},"n":1,"u":"$ref:users:1"}')
    } finally {
      s.destroy()
      await strict.close()
    }
  })
})

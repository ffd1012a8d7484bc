import { describe, expect, it } from "@effect/vitest"
import { marshal } from "../../src/protocol/gojson/Marshal.js"
import { isValid, parse, parseObject, parseStringMap } from "../../src/protocol/gojson/Parse.js"
import { quoteChar } from "../../src/protocol/gojson/Scanner.js"
import { goKindName, GoType, unmarshalTypeError } from "../../src/protocol/gojson/UnmarshalTypeError.js"

/** The error text of `parse`, or "ok". Every expected text below was checked against Go's encoding/json. */
const errorOf = (text: string): string => {
  const r = parse(text)
  return r.ok ? "ok" : r.error
}

describe("GoJson.parse error texts (Go's encoding/json scanner)", () => {
  const cases: ReadonlyArray<readonly [string, string]> = [
    ["Hello", "invalid character 'H' looking for beginning of value"],
    ["", "unexpected end of JSON input"],
    ["   ", "unexpected end of JSON input"],
    ["[1,", "unexpected end of JSON input"],
    ['"abc', "unexpected end of JSON input"],
    ["{", "unexpected end of JSON input"],
    ['{"a"}', "invalid character '}' after object key"],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', "invalid character '\"' after object key:value pair"],
    ['{"a":1x}', "invalid character 'x' after object key:value pair"],
    ["[1 2]", "invalid character '2' after array element"],
    ["[1x]", "invalid character 'x' after array element"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ['"a\tb"', "invalid character '\\t' in string literal"],
    ['"a\u0001b"', "invalid character '\\x01' in string literal"],
    ["{x:1}", "invalid character 'x' looking for beginning of object key string"],
    ["{'a':1}", "invalid character '\\'' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ["{} x", "invalid character 'x' after top-level value"],
    ["1 2", "invalid character '2' after top-level value"],
    ["01", "invalid character '1' after top-level value"],
    ["[01]", "invalid character '1' after array element"],
    ['"a""b"', "invalid character '\"' after top-level value"],
    ["txue", "invalid character 'x' in literal true (expecting 'r')"],
    ["trxe", "invalid character 'x' in literal true (expecting 'u')"],
    ["tru", "invalid character ' ' in literal true (expecting 'e')"],
    ["fals", "invalid character ' ' in literal false (expecting 'e')"],
    ["fxlse", "invalid character 'x' in literal false (expecting 'a')"],
    ["nul", "invalid character ' ' in literal null (expecting 'l')"],
    ["nxll", "invalid character 'x' in literal null (expecting 'u')"],
    ["nulll", "invalid character 'l' after top-level value"],
    ["-", "invalid character ' ' in numeric literal"],
    ["-x", "invalid character 'x' in numeric literal"],
    ["[-]", "invalid character ']' in numeric literal"],
    ["1.", "invalid character ' ' after decimal point in numeric literal"],
    ["1.x", "invalid character 'x' after decimal point in numeric literal"],
    ["[1.]", "invalid character ']' after decimal point in numeric literal"],
    ["1e", "invalid character ' ' in exponent of numeric literal"],
    ["1ex", "invalid character 'x' in exponent of numeric literal"],
    ["1e+", "invalid character ' ' in exponent of numeric literal"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12g4"', "invalid character 'g' in \\u hexadecimal character escape"],
    ['"\\u"', "invalid character '\"' in \\u hexadecimal character escape"],
    ["'x'", "invalid character '\\'' looking for beginning of value"],
    ["\u00e9", "invalid character 'Ã' looking for beginning of value"],
    ["\u00a0", "invalid character 'Â' looking for beginning of value"],
    ["\u2028", "invalid character 'â' looking for beginning of value"],
    ["\u{1F600}", "invalid character 'ð' looking for beginning of value"],
    ["\f1", "invalid character '\\f' looking for beginning of value"],
    ["\v", "invalid character '\\v' looking for beginning of value"],
    ["\u0000", "invalid character '\\x00' looking for beginning of value"],
    ["\u007f", "invalid character '\\x7f' looking for beginning of value"],
    ["]", "invalid character ']' looking for beginning of value"],
    ["[,]", "invalid character ',' looking for beginning of value"],
    ['{"a":}', "invalid character '}' looking for beginning of value"],
    ["[]]", "invalid character ']' after top-level value"],
    ["1e400", "json: cannot unmarshal number 1e400 into Go value of type float64"],
    ["-1E400", "json: cannot unmarshal number -1E400 into Go value of type float64"],
    ["[1, 2e500, 3e600]", "json: cannot unmarshal number 2e500 into Go value of type float64"],
    ['{"a":{"b":[1e309]}}', "json: cannot unmarshal number 1e309 into Go value of type float64"]
  ]
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${expected}`, () => {
      expect(errorOf(input)).toBe(expected)
    })
  }

  it("a syntax error after an overflowing number wins (Go validates the whole text first)", () => {
    expect(errorOf("[1e400,]")).toBe("invalid character ']' looking for beginning of value")
  })

  it("nesting beyond 10000 levels is Go's max-depth error; 10000 levels are fine", () => {
    expect(errorOf("[".repeat(10001) + "]".repeat(10001))).toBe("invalid character '[' exceeded max depth")
    expect(errorOf('{"a":'.repeat(10001) + "1" + "}".repeat(10001))).toBe("invalid character '{' exceeded max depth")
    expect(errorOf("[".repeat(10001))).toBe("invalid character '[' exceeded max depth")
    expect(errorOf("[".repeat(10000) + "]".repeat(10000))).toBe("ok")
  })
})

describe("GoJson.parse values", () => {
  it("accepts Go's whitespace (space, tab, newline, carriage return) around a value", () => {
    expect(parse(" \t\n\r42 \r\n\t")).toEqual({ ok: true, value: 42 })
  })

  it("parses every JSON kind; numbers are float64", () => {
    expect(parse('{"a":[1,2.5,"x",true,false,null]}')).toEqual({
      ok: true,
      value: { a: [1, 2.5, "x", true, false, null] }
    })
    expect(parse("12345678901234567890")).toEqual({ ok: true, value: 12345678901234567000 })
    expect(parse("1e-400")).toEqual({ ok: true, value: 0 })
  })

  it("a key named __proto__ is an ordinary key", () => {
    const r = parse('{"__proto__":{"x":1}}')
    expect(r.ok && marshal(r.value)).toBe('{"__proto__":{"x":1}}')
  })

  it("a lone surrogate escape decodes to U+FFFD, as in Go", () => {
    const r = parse('{"\\ud800k":"a\\udc00"}')
    expect(r.ok && marshal(r.value)).toBe('{"\ufffdk":"a\ufffd"}')
    const pair = parse('"\\ud83d\\ude00"')
    expect(pair.ok && pair.value).toBe("\u{1F600}")
  })

  it("duplicate keys: the last wins, as in Go's map", () => {
    const r = parse('{"a":1,"a":2}')
    expect(r.ok && marshal(r.value)).toBe('{"a":2}')
  })
})

describe("GoJson.parseObject (into map[string]interface {})", () => {
  it("rejects non-objects with Go's UnmarshalTypeError text", () => {
    const map = "map[string]interface {}"
    expect(parseObject("[1]")).toEqual({
      ok: false,
      error: `json: cannot unmarshal array into Go value of type ${map}`
    })
    expect(parseObject("1")).toEqual({ ok: false, error: `json: cannot unmarshal number into Go value of type ${map}` })
    expect(parseObject("1e400")).toEqual({
      ok: false,
      error: `json: cannot unmarshal number into Go value of type ${map}`
    })
    expect(parseObject('"x"')).toEqual({
      ok: false,
      error: `json: cannot unmarshal string into Go value of type ${map}`
    })
    expect(parseObject("true")).toEqual({
      ok: false,
      error: `json: cannot unmarshal bool into Go value of type ${map}`
    })
    expect(parseObject("[1e400]")).toEqual({
      ok: false,
      error: `json: cannot unmarshal array into Go value of type ${map}`
    })
  })

  it("null is a nil map without error", () => {
    expect(parseObject("null")).toEqual({ ok: true, value: null })
  })

  it("syntax errors come first; an overflowing number inside an object is a float64 error", () => {
    expect(parseObject("Hello")).toEqual({ ok: false, error: "invalid character 'H' looking for beginning of value" })
    expect(parseObject('{"a":1e400}')).toEqual({
      ok: false,
      error: "json: cannot unmarshal number 1e400 into Go value of type float64"
    })
    expect(parseObject('{"a":{"b":1}}')).toEqual({ ok: true, value: { a: { b: 1 } } })
  })
})

describe("GoJson.parseStringMap (into map[string]string)", () => {
  it("accepts string values (null gives an empty string)", () => {
    expect(parseStringMap('{"a":"x","b":null}')).toEqual({ ok: true, value: { a: "x", b: "" } })
    expect(parseStringMap("null")).toEqual({ ok: true, value: null })
  })

  it("rejects other shapes with Go's texts", () => {
    expect(parseStringMap('{"a":1}')).toEqual({
      ok: false,
      error: "json: cannot unmarshal number into Go value of type string"
    })
    expect(parseStringMap('{"a":{}}')).toEqual({
      ok: false,
      error: "json: cannot unmarshal object into Go value of type string"
    })
    expect(parseStringMap("[]")).toEqual({
      ok: false,
      error: "json: cannot unmarshal array into Go value of type map[string]string"
    })
  })
})

describe("GoJson helpers", () => {
  it("quoteChar matches Go's", () => {
    expect(quoteChar(0x27)).toBe("'\\''")
    expect(quoteChar(0x22)).toBe("'\"'")
    expect(quoteChar(0x5c)).toBe("'\\\\'")
    expect(quoteChar(0x0a)).toBe("'\\n'")
    expect(quoteChar(0x0d)).toBe("'\\r'")
    expect(quoteChar(0x00)).toBe("'\\x00'")
    expect(quoteChar(0x1b)).toBe("'\\x1b'")
    expect(quoteChar(0x48)).toBe("'H'")
    expect(quoteChar(0x80)).toBe("'\\u0080'")
    expect(quoteChar(0xa0)).toBe("'\\u00a0'")
    expect(quoteChar(0xad)).toBe("'\\u00ad'")
    expect(quoteChar(0xc3)).toBe("'Ã'")
  })

  it("goKindName and unmarshalTypeError", () => {
    expect([[], {}, 1, "s", true, null].map(goKindName)).toEqual([
      "array",
      "object",
      "number",
      "string",
      "bool",
      "null"
    ])
    expect(unmarshalTypeError([1], GoType.map)).toBe(
      "json: cannot unmarshal array into Go value of type map[string]interface {}"
    )
  })

  it("isValid is Go's json.Valid (any JSON value)", () => {
    expect(["1", '"x"', "null", "[]", ' {"a":1} ', "1e400"].map(isValid)).toEqual([true, true, true, true, true, true])
    expect(["", "x", "{", "[".repeat(10001) + "]".repeat(10001)].map(isValid)).toEqual([false, false, false, false])
  })
})

describe("GoJson.marshal", () => {
  it("is compact, sorted by UTF-8 bytes, with Go's escapes and numbers", () => {
    expect(marshal({ name: "John", address: { city: "NY" } })).toBe('{"address":{"city":"NY"},"name":"John"}')
    expect(marshal({ b: 1, a: [1, 2.5, -0, 1e21, 1e-7, null, true], "<&>": "\u2028\n" })).toBe(
      '{"\\u003c\\u0026\\u003e":"\\u2028\\n","a":[1,2.5,-0,1e+21,1e-7,null,true],"b":1}'
    )
    expect(marshal({ "\uffff": 1, "\u{1F600}": 2 })).toBe('{"\uffff":1,"\u{1F600}":2}')
  })

  it("marshals deep values without recursion", () => {
    const depth = 200000
    let v: Array<unknown> = []
    for (let i = 0; i < depth; i++) v = [v]
    const text = marshal(v as never)
    expect(text.length).toBe(2 * (depth + 1))
  })
})

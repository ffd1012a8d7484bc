import { describe, expect, it } from "@effect/vitest"
import { CommandFailed } from "../../src/errors.js"
import type { JsonObject } from "../../src/protocol/gojson/Json.js"
import { marshal } from "../../src/protocol/gojson/Marshal.js"
import { deepMerge, getPath, removePath, setPath } from "../../src/store/JsonPath.js"

/** Deep-freezes a value so any mutation of an input throws in strict mode. */
const frozen = <A>(v: A): A => {
  if (typeof v === "object" && v !== null) {
    for (const x of Object.values(v)) frozen(x)
    Object.freeze(v)
  }
  return v
}

const text = (r: unknown): string =>
  r instanceof CommandFailed ? `error: ${r.prefix}|${r.message}` : marshal(r as never)

describe("getPath", () => {
  const doc = frozen({ a: { b: [1, 2] }, n: null })
  it("walks object keys; '' is the document; misses and non-objects are undefined", () => {
    expect(getPath(doc, "a.b")).toEqual([1, 2])
    expect(getPath(doc, "a")).toEqual({ b: [1, 2] })
    expect(getPath(doc, "")).toBe(doc)
    expect(getPath(doc, "zz")).toBeUndefined()
    expect(getPath(doc, "a.b.0")).toBeUndefined()
    expect(getPath(doc, "n")).toBeNull()
    expect(getPath(doc, "toString")).toBeUndefined()
  })
})

describe("setPath", () => {
  it("sets at a dotted path, creating intermediate objects, without touching the input", () => {
    const doc = frozen({ name: "John", address: { city: "NY" } } as JsonObject)
    expect(text(setPath(doc, "office.members", 134))).toBe(
      '{"address":{"city":"NY"},"name":"John","office":{"members":134}}'
    )
    expect(text(setPath(doc, "address.zip", "10001"))).toBe('{"address":{"city":"NY","zip":"10001"},"name":"John"}')
    expect(text(setPath(doc, "name", { first: "J" }))).toBe('{"address":{"city":"NY"},"name":{"first":"J"}}')
    expect(text(doc)).toBe('{"address":{"city":"NY"},"name":"John"}')
  })

  it("a null document is Go's nil map: a new object", () => {
    expect(text(setPath(null, "a.b.c", 1))).toBe('{"a":{"b":{"c":1}}}')
    expect(text(setPath(null, "", 1))).toBe('{"":1}')
  })

  it("an intermediate that is not an object is the bare error `invalid path: <path>`", () => {
    const doc = frozen({ a: 5, n: null, l: [1] } as JsonObject)
    expect(text(setPath(doc, "a.b", 1))).toBe("error: |invalid path: a.b")
    expect(text(setPath(doc, "n.x.y", 1))).toBe("error: |invalid path: n.x.y")
    expect(text(setPath(doc, "l.0", 1))).toBe("error: |invalid path: l.0")
  })

  it("shares untouched branches and handles __proto__ as a key", () => {
    const doc = frozen({ big: { x: 1 }, a: {} } as JsonObject)
    const r = setPath(doc, "a.__proto__", 1) as JsonObject
    expect(r["big"]).toBe(doc["big"])
    expect(text(r)).toBe('{"a":{"__proto__":1},"big":{"x":1}}')
    expect(Object.getPrototypeOf(r["a"])).toBe(Object.prototype)
  })

  it("is iterative: a path of 100000 segments works", () => {
    const path = Array.from({ length: 100000 }, () => "a").join(".")
    const r = setPath(null, path, 1) as JsonObject
    expect(getPath(r, path)).toBe(1)
  })
})

describe("removePath", () => {
  const doc = frozen({ name: "John", address: { city: "NY", zip: "1" }, n: 5 } as JsonObject)

  it("removes at a dotted path, without touching the input", () => {
    expect(text(removePath(doc, "address.city"))).toBe('{"address":{"zip":"1"},"n":5,"name":"John"}')
    expect(text(removePath(doc, "address"))).toBe('{"n":5,"name":"John"}')
    expect(text(doc)).toBe('{"address":{"city":"NY","zip":"1"},"n":5,"name":"John"}')
  })

  it("an absent path changes nothing; a nil document stays null", () => {
    expect(removePath(doc, "zz")).toBe(doc)
    expect(removePath(doc, "zz.yy")).toBe(doc)
    expect(removePath(doc, "address.zz")).toBe(doc)
    expect(removePath(null, "a.b")).toBeNull()
  })

  it("an intermediate that is not an object is `invalid path: <path>`", () => {
    expect(text(removePath(doc, "n.x"))).toBe("error: |invalid path: n.x")
    expect(text(removePath(doc, "name.x.y"))).toBe("error: |invalid path: name.x.y")
  })
})

describe("deepMerge", () => {
  it("merges nested objects recursively and overwrites everything else", () => {
    const base = frozen({ a: { x: 1, y: { p: 1 } }, b: [1], c: "s", d: { k: 1 } } as JsonObject)
    const patch = frozen({ a: { y: { q: 2 }, z: 3 }, b: [2], c: { o: 1 }, d: 7, e: null } as JsonObject)
    expect(text(deepMerge(base, patch))).toBe(
      '{"a":{"x":1,"y":{"p":1,"q":2},"z":3},"b":[2],"c":{"o":1},"d":7,"e":null}'
    )
    expect(text(base)).toBe('{"a":{"x":1,"y":{"p":1}},"b":[1],"c":"s","d":{"k":1}}')
  })

  it("null base is an empty document", () => {
    expect(text(deepMerge(null, { a: 1 }))).toBe('{"a":1}')
  })

  it("is iterative: 50000 levels merge", () => {
    let a: JsonObject = { leaf: 1 }
    let b: JsonObject = { other: 2 }
    for (let i = 0; i < 50000; i++) {
      a = { n: a }
      b = { n: b }
    }
    const r = deepMerge(a, b)
    const path = Array.from({ length: 50000 }, () => "n").join(".")
    expect(getPath(r, path + ".leaf")).toBe(1)
    expect(getPath(r, path + ".other")).toBe(2)
  })
})

import { describe, expect, it } from "@effect/vitest"
import type { Json } from "../../src/protocol/gojson/Json.js"
import {
  elementMatches,
  equalFold,
  findMatches,
  formatGoFloat,
  formatGoValue,
  matchText,
  parseGoBool,
  parseListExpr,
  updateMatches,
  valueEqual
} from "../../src/store/ListExpr.js"

// Expected values below were produced by Go 1.19 (fmt, strconv, strings) and by Fleare's own filter code.

describe("parseListExpr (Fleare's ParsePath)", () => {
  it.each([
    ["$age>=25", { field: "age", op: ">=", value: "25" }],
    ["$p.t:dark", { field: "p.t", op: ":", value: "dark" }],
    ["$name~john", { field: "name", op: "~", value: "john" }],
    ["$city:New York", { field: "city", op: ":", value: "New York" }],
    // The first operator in the order >= <= > < : ! ~ that is CONTAINED anywhere wins, not the leftmost one.
    ["$a>b>=c", { field: "a>b", op: ">=", value: "c" }],
    ["$name:a>=b", { field: "name:a", op: ">=", value: "b" }],
    ["$a!b:c", { field: "a!b", op: ":", value: "c" }],
    ["$a~b!c", { field: "a~b", op: "!", value: "c" }],
    ["$a<b", { field: "a", op: "<", value: "b" }],
    ["$:5", { field: "", op: ":", value: "5" }],
    ["$x:", { field: "x", op: ":", value: "" }],
    [":20", { field: "", op: ":", value: "20" }],
    [">=5", { field: "", op: ">=", value: "5" }],
    ["<=5", { field: "", op: "<=", value: "5" }],
    [">15", { field: "", op: ">", value: "15" }],
    ["<1", { field: "", op: "<", value: "1" }],
    ["!20", { field: "", op: "!", value: "20" }],
    ["!=20", { field: "", op: "!", value: "=20" }],
    ["~John", { field: "", op: "~", value: "John" }],
    ["::", { field: "", op: ":", value: ":" }]
  ] as const)("%s", (path, expected) => {
    expect(parseListExpr(path)).toEqual(expected)
  })

  it.each(["", "$", "$name", "name:John", "20", " :20", "=20", "a>b"])("%j is not an expression", (path) => {
    expect(parseListExpr(path).op).toBeUndefined()
    expect(findMatches([20, "name:John", "a>b", { name: "John" }], path)).toEqual([])
  })
})

describe("Go's %v", () => {
  it.each([
    [20, "20"],
    [1e21, "1e+21"],
    [1e20, "1e+20"],
    [0.000001, "1e-06"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1234567, "1.234567e+06"],
    [123456, "123456"],
    [1e6, "1e+06"],
    [999999, "999999"],
    [100000, "100000"],
    [123456.7, "123456.7"],
    [1.5, "1.5"],
    [-2.5, "-2.5"],
    [0, "0"],
    [-0, "-0"],
    [12345678901234567890, "1.2345678901234567e+19"],
    [5e-324, "5e-324"],
    [1.7976931348623157e308, "1.7976931348623157e+308"],
    [0.1, "0.1"]
  ])("float64 %s prints %s", (n, text) => {
    expect(formatGoFloat(n)).toBe(text)
  })

  it("prints nil, bools, strings, slices and maps as fmt does", () => {
    const v = JSON.parse('[1, "a b", null, true, {"b":1,"a":[1,{"x":null}],"":"e"}, [], {}, -0, 1e6]') as Json
    expect(formatGoValue(v)).toBe("[1 a b <nil> true map[:e a:[1 map[x:<nil>]] b:1] [] map[] -0 1e+06]")
    expect(formatGoValue(null)).toBe("<nil>")
    expect(formatGoValue(false)).toBe("false")
    expect(formatGoValue("")).toBe("")
    expect(formatGoValue([1, 2])).toBe("[1 2]")
    expect(formatGoValue({ a: 1 })).toBe("map[a:1]")
    // Map keys in Go's byte order: "B" < "a" < "é".
    expect(formatGoValue({ é: 1, a: 2, B: 3 })).toBe("map[B:3 a:2 é:1]")
  })

  it("prints values nested to Go's depth limit without overflowing the stack", () => {
    const depth = 9999
    const arrays = JSON.parse("[".repeat(depth) + "]".repeat(depth)) as Json
    expect(formatGoValue(arrays)).toBe("[".repeat(depth) + "]".repeat(depth))
    const maps = JSON.parse('{"a":'.repeat(depth) + "1" + "}".repeat(depth)) as Json
    expect(formatGoValue(maps)).toBe("map[a:".repeat(depth) + "1" + "]".repeat(depth))
    expect(findMatches([arrays, maps], "!x")).toEqual([arrays])
  })
})

describe("Go's strconv.ParseBool", () => {
  it.each(["1", "t", "T", "TRUE", "true", "True"])("%s is true", (s) => expect(parseGoBool(s)).toBe(true))
  it.each(["0", "f", "F", "FALSE", "false", "False"])("%s is false", (s) => expect(parseGoBool(s)).toBe(false))
  it.each(["tRUE", "yes", "", " true", "2", "on"])("%j is not a bool", (s) => expect(parseGoBool(s)).toBeUndefined())
})

describe("Go's strings.EqualFold", () => {
  it.each([
    ["John", "john", true],
    ["JOHN", "jOhN", true],
    ["John", "Jo", false],
    ["jo", "john", false],
    ["ß", "SS", false],
    ["ß", "ẞ", true],
    ["\u212a", "k", true],
    ["\u212a", "K", true],
    ["ς", "Σ", true],
    ["σ", "ς", true],
    ["ı", "i", false],
    ["ı", "I", false],
    ["İ", "i", false],
    ["Ж", "ж", true],
    ["𐐀", "𐐨", true],
    ["é", "É", true],
    ["", "", true]
  ])("%s ~ %s is %s", (a, b, expected) => {
    expect(equalFold(a, b)).toBe(expected)
    expect(equalFold(b, a)).toBe(expected)
  })
})

describe("comparisons", () => {
  it("`:` tries bool, then float64, then text", () => {
    expect(valueEqual("1", "true")).toBe(true)
    expect(valueEqual("t", "1")).toBe(true)
    expect(valueEqual("0", "F")).toBe(true)
    expect(valueEqual("true", "True")).toBe(true)
    expect(valueEqual("20", "20.0")).toBe(true)
    expect(valueEqual("1e+06", "1000000")).toBe(true)
    expect(valueEqual("1_000", "1000")).toBe(true)
    expect(valueEqual("0x1p4", "16")).toBe(true)
    expect(valueEqual("inf", "+Inf")).toBe(true)
    // Both parse as numbers, so the float comparison decides, and NaN equals nothing.
    expect(valueEqual("NaN", "NaN")).toBe(false)
    expect(valueEqual("abc", "abc")).toBe(true)
    expect(valueEqual("abc", "ABC")).toBe(false)
    expect(valueEqual("20", " 20")).toBe(false)
    expect(valueEqual("<nil>", "<nil>")).toBe(true)
  })

  it("`> < >= <=` compare as float64 and are false when either side is not a number", () => {
    expect(matchText("30", ">", "15")).toBe(true)
    expect(matchText("15", ">", "15")).toBe(false)
    expect(matchText("15", ">=", "15")).toBe(true)
    expect(matchText("15", "<=", "15.0")).toBe(true)
    expect(matchText("1.234567e+06", ">", "1000000")).toBe(true)
    expect(matchText("-Inf", "<", "-1e308")).toBe(true)
    expect(matchText("abc", ">", "1")).toBe(false)
    expect(matchText("abc", "<", "1")).toBe(false)
    expect(matchText("5", ">", "abc")).toBe(false)
    expect(matchText("5", "<", "1e400")).toBe(false)
    expect(matchText("true", ">", "0")).toBe(false)
  })

  it("`~` is case-insensitive equality of the %v text, not a regex or substring", () => {
    expect(matchText("Jessica", "~", "jessica")).toBe(true)
    expect(matchText("Jessica", "~", "jess")).toBe(false)
    expect(matchText("Jessica", "~", "J.*")).toBe(false)
    expect(matchText("1.234567e+06", "~", "1234567")).toBe(false)
    expect(matchText("1.234567e+06", "~", "1.234567E+06")).toBe(true)
  })
})

describe("element matching", () => {
  const john = { name: "John", age: 30, city: "New York" }
  const robert = { name: "Robert", age: 40, city: "New York", preferences: { theme: "dark" } }
  const david = { name: "David", age: 28, city: "Kolkata", preferences: { theme: "dark" } }
  const michael = { name: "Michael", age: 25, city: "Kolkata", preferences: { theme: "white" } }
  const people: Array<Json> = [john, robert, david, michael]

  it("Fleare's LIST.FIND examples on objects", () => {
    expect(findMatches(people, "$name:John")).toEqual([john])
    expect(findMatches(people, "$city:New York")).toEqual([john, robert])
    expect(findMatches(people, "$age>=28")).toEqual([john, robert, david])
    expect(findMatches(people, "$preferences.theme:white")).toEqual([michael])
    expect(findMatches(people, "$preferences.theme!white")).toEqual([robert, david])
    expect(findMatches(people, "$name~JOHN")).toEqual([john])
    expect(findMatches(people, "$age<28")).toEqual([michael])
  })

  it("Fleare's LIST.FIND examples on numbers and strings", () => {
    const nums: Array<Json> = [10, 20, 30, 40, 50, 60, 70, 30, 20, 40, 20, 70]
    expect(findMatches(nums, ":20")).toEqual([20, 20, 20])
    expect(findMatches(nums, "!20")).toEqual([10, 30, 40, 50, 60, 70, 30, 40, 70])
    expect(findMatches(nums, ">50")).toEqual([60, 70, 70])
    expect(findMatches(nums, "<=30")).toEqual([10, 20, 30, 30, 20, 20])
    const names: Array<Json> = ["John", "Emily", "Jessica", "John"]
    expect(findMatches(names, ":John")).toEqual(["John", "John"])
    expect(findMatches(names, "!John")).toEqual(["Emily", "Jessica"])
    expect(findMatches(names, "~jessica")).toEqual(["Jessica"])
  })

  it("the prefix form ignores objects and the $field form ignores everything else", () => {
    const mixed: Array<Json> = [20, "20", { v: 20 }, [20], null, true]
    expect(findMatches(mixed, ":20")).toEqual([20, "20"])
    expect(findMatches(mixed, "$v:20")).toEqual([{ v: 20 }])
    // `$` with an empty field is the prefix form again.
    expect(findMatches(mixed, "$:20")).toEqual([20, "20"])
    expect(findMatches(mixed, ":[20]")).toEqual([[20]])
    expect(findMatches(mixed, ":<nil>")).toEqual([null])
    expect(findMatches(mixed, ":1")).toEqual([true])
    expect(findMatches(mixed, "~TRUE")).toEqual([true])
  })

  it("nested fields: a missing last part is <nil>, a missing middle part never matches", () => {
    const a = { a: 1 }
    const b = { a: { b: null } }
    const c = { a: { b: [1, 2] } }
    const d = { a: { b: { c: "x" } } }
    const list: Array<Json> = [a, b, c, d]
    expect(findMatches(list, "$a.b!x")).toEqual([b, c, d])
    expect(findMatches(list, "$a.b![1 2]")).toEqual([b, d])
    expect(findMatches(list, "$a.b:[1 2]")).toEqual([c])
    expect(findMatches(list, "$a.b:map[c:x]")).toEqual([d])
    expect(findMatches(list, "$a.b.c:x")).toEqual([d])
    expect(findMatches(list, "$a.b.c.d!x")).toEqual([])
    expect(findMatches(list, "$missing!x")).toEqual(list)
    // `<nil>` contains `>`, which is tried before `:`, so `$a.b:<nil>` is field `a.b:<nil`, op `>`, value ``.
    expect(parseListExpr("$a.b:<nil>")).toEqual({ field: "a.b:<nil", op: ">", value: "" })
    expect(findMatches(list, "$a.b:<nil>")).toEqual([])
    // The prefix form has no such problem.
    expect(findMatches([null, "x"], ":<nil>")).toEqual([null])
  })

  it("field names are own keys only", () => {
    const own = JSON.parse('{"__proto__":1,"constructor":"c"}') as Json
    expect(elementMatches(parseListExpr("$__proto__:1"), own)).toBe(true)
    expect(elementMatches(parseListExpr("$constructor:c"), own)).toBe(true)
    expect(elementMatches(parseListExpr("$constructor:c"), {})).toBe(false)
    expect(elementMatches(parseListExpr("$constructor!c"), {})).toBe(true)
    // Object.prototype would print as `map[]`; a missing key is Go's nil.
    expect(elementMatches(parseListExpr("$__proto__:map[]"), {})).toBe(false)
    expect(elementMatches(parseListExpr("$__proto__.x!1"), {})).toBe(false)
  })

  it("updateMatches replaces matching elements in a new array", () => {
    const names: ReadonlyArray<Json> = Object.freeze(["John", "Emily", "John"])
    const r = updateMatches(names, ":John", "Parash")
    expect(r).toEqual({ list: ["Parash", "Emily", "Parash"], count: 2 })
    expect(names).toEqual(["John", "Emily", "John"])
    expect(updateMatches(names, "nothing", 1)).toEqual({ list: ["John", "Emily", "John"], count: 0 })
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Properties over random lists and expressions (a seeded generator, so a failure is reproducible).

const rng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe("properties", () => {
  const random = rng(20251)
  const pick = <T>(xs: ReadonlyArray<T>): T => xs[Math.floor(random() * xs.length)]!
  const words = ["1", "0", "t", "true", "TRUE", "f", "abc", "ABC", "20", "20.0", "1e+06", "NaN", "inf", "", " ", "ß"]
  const number = (): number =>
    pick([
      () => Math.floor(random() * 60) - 10,
      () => Math.round(random() * 1000) / 8,
      () => 10 ** Math.floor(random() * 25),
      () => -(10 ** -Math.floor(random() * 8)),
      () => 1234567
    ])()
  const element = (): Json =>
    pick<() => Json>([
      number,
      number,
      () => pick(words),
      () => null,
      () => random() < 0.5,
      () => ({ a: random() < 0.5 ? number() : pick(words), p: { t: pick(words) } }),
      () => [number()]
    ])()
  const value = (): string => (random() < 0.5 ? pick(words) : formatGoFloat(number()))
  const isObj = (e: Json) => typeof e === "object" && e !== null && !Array.isArray(e)
  const RUNS = 400

  it("`:v` and `!v` partition the non-object elements; objects match neither", () => {
    for (let i = 0; i < RUNS; i++) {
      const list = Array.from({ length: 1 + Math.floor(random() * 12) }, element)
      const v = value()
      for (const e of list) {
        const eq = elementMatches(parseListExpr(":" + v), e)
        const ne = elementMatches(parseListExpr("!" + v), e)
        if (isObj(e)) expect([eq, ne]).toEqual([false, false])
        else expect(eq).toBe(!ne)
      }
    }
  })

  it("`$f:v` and `$f!v` partition the objects; other elements match neither", () => {
    for (let i = 0; i < RUNS; i++) {
      const e = element()
      const v = value()
      const f = pick(["a", "p.t", "missing"])
      const eq = elementMatches(parseListExpr(`$${f}:${v}`), e)
      const ne = elementMatches(parseListExpr(`$${f}!${v}`), e)
      if (isObj(e)) expect(eq).toBe(!ne)
      else expect([eq, ne]).toEqual([false, false])
    }
  })

  it("on numbers, `>=` is `>` or `:`, `<=` is `<` or `:`, and `<`, `:`, `>` partition them", () => {
    for (let i = 0; i < RUNS; i++) {
      const n = number()
      const v = formatGoFloat(number())
      const m = (op: string) => elementMatches(parseListExpr(op + v), n)
      expect(m(">=")).toBe(m(">") || m(":"))
      expect(m("<=")).toBe(m("<") || m(":"))
      expect([m("<"), m(":"), m(">")].filter(Boolean)).toHaveLength(1)
      expect(m(">")).toBe(n > Number(v))
    }
  })

  it("order comparisons never match when either side is not a number", () => {
    for (let i = 0; i < RUNS; i++) {
      const e = pick<Json>(["abc", "", null, true, false, [1], "1,5"])
      const v = formatGoFloat(number())
      for (const op of [">", "<", ">=", "<="]) {
        expect(elementMatches(parseListExpr(op + v), e)).toBe(false)
        expect(elementMatches(parseListExpr(op + "abc"), number())).toBe(false)
      }
    }
  })

  it("`~v` matches an element whose %v text is v, whatever the case", () => {
    for (let i = 0; i < RUNS; i++) {
      const e = element()
      if (isObj(e)) continue
      const text = formatGoValue(e)
      expect(elementMatches(parseListExpr("~" + text), e)).toBe(true)
      expect(elementMatches(parseListExpr("~" + text.toUpperCase()), e)).toBe(/^[\x00-\x7f]*$/.test(text))
    }
  })

  it("findMatches keeps order and agrees with elementMatches; updateMatches counts the same elements", () => {
    for (let i = 0; i < RUNS; i++) {
      const list = Array.from({ length: Math.floor(random() * 12) }, element)
      const path = pick(["", "$", "$a", "~"]) + pick([":", "!", "~", ">", "<", ">=", "<=", ""]) + value()
      const full = random() < 0.3 ? "$" + pick(["a", "p.t", ""]) + path : path
      const expr = parseListExpr(full)
      const expected = list.filter((e) => elementMatches(expr, e))
      expect(findMatches(list, full)).toEqual(expected)
      const marker = { replaced: i }
      const updated = updateMatches(list, full, marker)
      expect(updated.count).toBe(expected.length)
      updated.list.forEach((e, j) => expect(e).toBe(elementMatches(expr, list[j]!) ? marker : list[j]))
    }
  })
})

import { describe, expect, it } from "@effect/vitest"
import { convertToNumber, parseGoFloat, parseStorableNumber } from "../../src/store/GoNumber.js"

// Expected values are Go's (strconv.ParseInt(s, 10, 64), then strconv.ParseFloat(s, 64)).
describe("GoNumber", () => {
  it("accepts Go's decimal forms", () => {
    const cases: ReadonlyArray<readonly [string, number]> = [
      ["42", 42],
      ["007", 7],
      ["+5", 5],
      ["-12", -12],
      ["43.5", 43.5],
      [".5", 0.5],
      ["5.", 5],
      ["5.e3", 5000],
      ["1e21", 1e21],
      ["1E+05", 100000],
      ["-2.5e-3", -0.0025],
      ["9223372036854775807", 9223372036854775807],
      ["99999999999999999999", 1e20],
      ["1e-400", 0]
    ]
    for (const [s, v] of cases) expect(convertToNumber(s), s).toBe(v)
  })

  it("ParseInt first: integer -0 is +0, float -0.0 keeps its sign", () => {
    expect(Object.is(convertToNumber("-0"), 0)).toBe(true)
    expect(Object.is(convertToNumber("-000"), 0)).toBe(true)
    expect(Object.is(convertToNumber("-0.0"), -0)).toBe(true)
  })

  it("accepts underscores only between digits, as Go's underscoreOK", () => {
    expect(convertToNumber("1_000")).toBe(1000)
    expect(convertToNumber("1_000.5")).toBe(1000.5)
    expect(convertToNumber("1_23.5e1_2")).toBe(1.235e14)
    expect(convertToNumber("0x_1p0")).toBe(1)
    for (const s of ["_1", "1_", "1__0", "1_.5", "1._5", "1e_5", "1e+_5", "-_1", "0x1_p0", "_"]) {
      expect(convertToNumber(s), s).toBeUndefined()
    }
  })

  it("accepts hex floats with a binary exponent, rounding to nearest even", () => {
    expect(convertToNumber("0x1p4")).toBe(16)
    expect(convertToNumber("0X1.8P1")).toBe(3)
    expect(convertToNumber("0x.8p1")).toBe(1)
    expect(convertToNumber("-0x1Ap0")).toBe(-26)
    expect(convertToNumber("0x1p-2")).toBe(0.25)
    expect(convertToNumber("0x1.fffffffffffffp1023")).toBe(Number.MAX_VALUE)
    expect(convertToNumber("0x1p-1074")).toBe(5e-324)
    expect(convertToNumber("0x1p-1075")).toBe(0) // exactly half the smallest subnormal: ties to even (0)
    expect(convertToNumber("0x3p-1076")).toBe(5e-324) // 0.75 of it: rounds up
    expect(convertToNumber("0x1.00000000000008p0")).toBe(1) // half an ulp above 1: ties to even
    expect(convertToNumber("0x1.00000000000018p0")).toBe(1 + 2 ** -51) // tie between odd and even: even
    expect(convertToNumber("0x1.000000000000081p0")).toBe(1 + 2 ** -52) // just above half: up
    expect(Object.is(convertToNumber("-0x0p0"), -0)).toBe(true)
  })

  it("refuses what Go refuses", () => {
    const bad = [
      "",
      " 1",
      "1 ",
      "abc",
      "12abc",
      "1,5",
      ".",
      "e5",
      "1e",
      "1e+",
      "+",
      "--1",
      "0x",
      "0x1A", // ParseInt is base 10 and a hex float needs its p exponent
      "0x1.8",
      "0x1p",
      "0xp1",
      "0b1",
      "0o7",
      "1.2.3",
      "-nan",
      "infinit",
      "infinityy"
    ]
    for (const s of bad) expect(parseGoFloat(s).ok, JSON.stringify(s)).toBe(false)
    for (const s of bad) expect(convertToNumber(s), JSON.stringify(s)).toBeUndefined()
  })

  it("out of range is an error, as Go's ErrRange", () => {
    expect(parseGoFloat("1e400")).toEqual({ ok: false, error: "range" })
    expect(parseGoFloat("-1e400")).toEqual({ ok: false, error: "range" })
    expect(parseGoFloat("0x1p1024")).toEqual({ ok: false, error: "range" })
    expect(parseGoFloat("0x1.fffffffffffff8p1023")).toEqual({ ok: false, error: "range" }) // rounds up past max
    expect(parseGoFloat("0x1p99999999999999999999")).toEqual({ ok: false, error: "range" })
    expect(parseGoFloat("0x1p-99999999999999999999")).toEqual({ ok: true, value: 0 })
  })

  it("parses Go's special values, which parseStorableNumber refuses", () => {
    for (const s of ["NaN", "nan", "NAN"]) expect(convertToNumber(s), s).toBeNaN()
    for (const s of ["Inf", "inf", "+Inf", "infinity", "+Infinity", "INFINITY"])
      expect(convertToNumber(s), s).toBe(Infinity)
    for (const s of ["-Inf", "-infinity"]) expect(convertToNumber(s), s).toBe(-Infinity)
    for (const s of ["NaN", "Inf", "+Inf", "-Inf", "infinity", "Infinity", "1e400"]) {
      expect(parseStorableNumber(s), s).toBeUndefined()
    }
    expect(parseStorableNumber("1.5")).toBe(1.5)
  })
})

describe("parseGoFloat on long input", () => {
  it("is linear: 64k digits failing at their end parse in well under a second (the old regex took ~2 s)", () => {
    const s = "1".repeat(65_536) + "x"
    const t = performance.now()
    expect(parseGoFloat(s)).toEqual({ ok: false, error: "syntax" })
    expect(parseGoFloat("1." + "1".repeat(65_536) + "x")).toEqual({ ok: false, error: "syntax" })
    expect(performance.now() - t).toBeLessThan(300)
  })
})

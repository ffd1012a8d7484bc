import { describe, expect, it } from "vitest"
import { ErrorTally, Histogram, median } from "../../src/bench/stats.js"

/** The nearest-rank percentile of a sorted array: the reference the histogram is checked against. */
const exact = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!

/** A deterministic PRNG for test data. */
const rng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
}

const PS = [0, 1, 10, 25, 50, 75, 90, 99, 99.9, 100]

const checkAgainstExact = (values: ReadonlyArray<number>) => {
  const h = new Histogram()
  for (const v of values) h.record(v)
  const sorted = [...values].sort((a, b) => a - b)
  for (const p of PS) {
    const want = exact(sorted, p)
    const got = h.percentile(p)
    // Never below the true value, never more than 1/256 above it.
    expect(got, `p${p}`).toBeGreaterThanOrEqual(want)
    expect(got, `p${p}`).toBeLessThanOrEqual(want * (1 + 1 / 256))
  }
  expect(h.count).toBe(values.length)
  expect(h.min).toBe(sorted[0])
  expect(h.max).toBe(sorted[sorted.length - 1])
}

describe("Histogram", () => {
  it("is exact below 256: 1..100", () => {
    const h = new Histogram()
    for (let v = 100; v >= 1; v--) h.record(v)
    expect([0, 1, 50, 90, 99, 100].map((p) => h.percentile(p))).toEqual([1, 1, 50, 90, 99, 100])
    expect(h.count).toBe(100)
    expect(h.mean()).toBe(50.5)
    expect(h.min).toBe(1)
    expect(h.max).toBe(100)
  })

  it("uses the nearest rank: 10 values, p95 is the 10th, p90 the 9th", () => {
    const h = new Histogram()
    for (const v of [5, 1, 9, 3, 7, 2, 8, 4, 6, 10]) h.record(v)
    expect(h.percentile(90)).toBe(9)
    expect(h.percentile(95)).toBe(10)
    expect(h.percentile(10)).toBe(1)
    expect(h.percentile(11)).toBe(2)
  })

  it("is within 1/256 above the true percentile on a uniform spread (1 us .. 10 ms in ns)", () => {
    checkAgainstExact(Array.from({ length: 10_000 }, (_, i) => 1000 * (i + 1)))
  })

  it("is within 1/256 on a long-tailed distribution", () => {
    const r = rng(42)
    // Exponential with a 500 us mean, plus rare 1 s outliers.
    checkAgainstExact(
      Array.from({ length: 20_000 }, (_, i) => (i % 997 === 0 ? 1e9 : Math.floor(-Math.log(1 - r()) * 500_000)))
    )
  })

  it("reports one value exactly however large it is", () => {
    for (const v of [0, 255, 256, 257, 65_537, 123_456_789, 2 ** 32 + 5, 2 ** 45]) {
      const h = new Histogram()
      h.record(v)
      expect(h.percentile(50)).toBe(v)
      expect(h.percentile(100)).toBe(v)
    }
  })

  it("reports a bucket's top, clamped to the largest value: 1000 x 1 ms and 10 x 100 ms", () => {
    const h = new Histogram()
    for (let i = 0; i < 1000; i++) h.record(1_000_000)
    for (let i = 0; i < 10; i++) h.record(100_000_000)
    // The top of the bucket holding 1 ms: (floor(10^6 / 2^11) + 1) * 2^11 - 1, within 1/256 of 1 ms.
    expect(h.percentile(99)).toBe(1_001_471)
    expect(h.percentile(99.1)).toBe(100_000_000)
    expect(h.mean()).toBe((1000 * 1_000_000 + 10 * 100_000_000) / 1010)
  })

  it("answers 0 when empty and clamps p", () => {
    const h = new Histogram()
    expect(h.percentile(50)).toBe(0)
    expect(h.mean()).toBe(0)
    h.record(7)
    h.record(-3)
    expect(h.min).toBe(0)
    expect(h.percentile(-5)).toBe(0)
    expect(h.percentile(500)).toBe(7)
  })

  it("merges, and survives a plain-data round trip", () => {
    const r = rng(7)
    const values = Array.from({ length: 5000 }, () => Math.floor(r() * 5e6))
    const all = new Histogram()
    const a = new Histogram()
    const b = new Histogram()
    values.forEach((v, i) => {
      all.record(v)
      ;(i % 3 === 0 ? a : b).record(v)
    })
    const merged = Histogram.fromData(JSON.parse(JSON.stringify(a.toData())))
    merged.merge(b)
    expect(merged.toData()).toEqual(all.toData())
    for (const p of PS) expect(merged.percentile(p)).toBe(all.percentile(p))
  })
})

describe("ErrorTally", () => {
  it("counts every error and keeps the texts with their counts, most frequent first", () => {
    const t = new ErrorTally()
    t.add("GET: Error boom")
    t.add('SET: status "Weird"', 3)
    t.add("GET: Error boom")
    t.add("nothing", 0)
    expect(t.total).toBe(5)
    expect(t.toData()).toEqual({
      total: 5,
      kinds: [
        { text: 'SET: status "Weird"', count: 3 },
        { text: "GET: Error boom", count: 2 }
      ]
    })
  })

  it("keeps at most 20 distinct texts, counts the rest together, and truncates long texts", () => {
    const t = new ErrorTally()
    for (let i = 0; i < 30; i++) t.add(`kind ${i}`, i + 1)
    t.add("x".repeat(500))
    const d = t.toData()
    expect(d.total).toBe((30 * 31) / 2 + 1)
    expect(d.kinds.length).toBe(21)
    expect(d.kinds.find((k) => k.text === "(other errors)")?.count).toBe(
      Array.from({ length: 10 }, (_, i) => i + 21).reduce((a, b) => a + b, 0) + 1
    )
    expect(d.kinds.reduce((a, k) => a + k.count, 0)).toBe(d.total)
    const long = new ErrorTally()
    long.add("y".repeat(500))
    expect(long.toData().kinds[0]!.text).toBe("y".repeat(200) + "...")
  })

  it("merges", () => {
    const a = new ErrorTally()
    const b = new ErrorTally()
    a.add("one", 2)
    b.add("one")
    b.add("two", 4)
    a.merge(b.toData())
    expect(a.toData()).toEqual({
      total: 7,
      kinds: [
        { text: "two", count: 4 },
        { text: "one", count: 3 }
      ]
    })
  })
})

describe("median", () => {
  it("takes the middle value, or the mean of the middle two", () => {
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 3, 2])).toBe(2.5)
    expect(median([])).toBeNaN()
  })
})

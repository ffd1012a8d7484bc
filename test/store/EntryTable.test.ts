import { describe, expect, it } from "vitest"
import { EntryTable } from "../../src/store/EntryTable.js"

const contents = (t: EntryTable<string>) =>
  [...t.entries()].map(([key, item]) => `${key}=${item}/${t.figures[t.rows.get(key)!]}`)

describe("EntryTable", () => {
  it("keeps each key's item and figure in its row, and the keys in insertion order", () => {
    const t = new EntryTable<string>()
    t.add("a", "1", 10)
    t.add("b", "2", 20)
    t.add("c", "3", 30)
    expect(t.size).toBe(3)
    expect(t.get("b")).toBe("2")
    expect(t.get("zz")).toBeUndefined()
    // Replacing an item in its row keeps the key's place.
    const row = t.rows.get("a")!
    t.items[row] = "1b"
    t.figures[row] = 11
    expect(contents(t)).toEqual(["a=1b/11", "b=2/20", "c=3/30"])
  })

  it("frees a deleted key's row and reuses it; a key added again goes last", () => {
    const t = new EntryTable<string>()
    for (const k of ["a", "b", "c"]) t.add(k, k.toUpperCase(), 1)
    const freed = t.rows.get("b")!
    expect(t.delete("b")).toBe(true)
    expect(t.delete("b")).toBe(false)
    expect(t.items[freed]).toBeUndefined()
    expect(t.add("d", "D", 4)).toBe(freed)
    t.add("b", "B2", 2)
    expect(contents(t)).toEqual(["a=A/1", "c=C/1", "d=D/4", "b=B2/2"])
    expect(t.size).toBe(4)
  })

  it("keeps eviction columns per row once tracked, and refuses to start them on a table with rows", () => {
    const t = new EntryTable<string>()
    t.track({ hits: true })
    for (let i = 0; i < 100; i++) t.clocks![t.add(`k${i}`, "v", 1)] = i
    expect(t.keys![t.rows.get("k42")!]).toBe("k42")
    expect(t.clocks![t.rows.get("k42")!]).toBe(42)
    expect(t.hits!.length).toBeGreaterThanOrEqual(100)
    t.delete("k42")
    expect(t.keys!.filter((k) => k !== undefined)).toHaveLength(99)
    const late = new EntryTable<string>()
    late.add("a", "v", 1)
    expect(() => late.track({ hits: false })).toThrow(/already has rows/)
  })

  it("grows its figures past their first capacity", () => {
    const t = new EntryTable<string>()
    for (let i = 0; i < 1000; i++) t.add(`k${i}`, `v${i}`, i * 3)
    for (let i = 0; i < 1000; i += 97) expect(t.figures[t.rows.get(`k${i}`)!]).toBe(i * 3)
    expect(t.get("k999")).toBe("v999")
  })

  it("renumbers its rows densely once most are free, keeping order, items and figures", () => {
    const t = new EntryTable<string>()
    const n = 20_000
    for (let i = 0; i < n; i++) t.add(`k${i}`, `v${i}`, i)
    // Delete three keys in four: the compaction runs once the free rows outnumber the live ones.
    for (let i = 0; i < n; i++) if (i % 4 !== 0) t.delete(`k${i}`)
    expect(t.size).toBe(n / 4)
    expect(t.items.length).toBeLessThan(n)
    const rows = [...t.rows.values()]
    expect(Math.max(...rows)).toBeLessThan(t.items.length)
    expect(new Set(rows).size).toBe(rows.length)
    const expected = Array.from({ length: n / 4 }, (_, j) => `k${4 * j}=v${4 * j}/${4 * j}`)
    expect(contents(t)).toEqual(expected)
    // Rows freed before the compaction are not handed out again twice.
    t.add("new", "N", 7)
    expect(t.get("new")).toBe("N")
    expect(t.get("k0")).toBe("v0")
  })

  it("a walk over the entries survives a compaction in the middle of it", () => {
    const t = new EntryTable<string>()
    const n = 20_000
    for (let i = 0; i < n; i++) t.add(`k${i}`, `v${i}`, i)
    const seen: Array<string> = []
    for (const [key, item] of t.entries()) {
      seen.push(`${key}=${item}`)
      // Once past the first hundred, delete three keys in four of those ahead: a compaction happens meanwhile.
      if (seen.length === 100) for (let i = 100; i < n; i++) if (i % 4 !== 0) t.delete(`k${i}`)
    }
    expect(t.items.length).toBeLessThan(n)
    const expected = [
      ...Array.from({ length: 100 }, (_, i) => `k${i}=v${i}`),
      ...Array.from({ length: n - 100 }, (_, j) => 100 + j)
        .filter((i) => i % 4 === 0)
        .map((i) => `k${i}=v${i}`)
    ]
    expect(seen).toEqual(expected)
  })
})

import { describe, expect, it } from "vitest"
import { type Chart, escapeXml, niceScale, renderChart, shortCount } from "../../src/bench/chart.js"

const chart: Chart = {
  title: 'ops/s <&> "ours"',
  subtitle: "2026-12-06",
  series: [
    { name: "fleare-ts", color: "#111111" },
    { name: "baseline", color: "#222222" }
  ],
  panels: [
    {
      title: "pipeline 1",
      groups: [
        { label: "SET", values: [50_000, 100_000] },
        { label: "SESSION", values: [25_000, undefined] }
      ]
    },
    { title: "pipeline 16", groups: [{ label: "SET", values: [400_000, 200_000] }] }
  ]
}

const bars = (svg: string) =>
  [
    ...svg.matchAll(
      /<rect class="bar" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)" fill="([^"]+)"><title>([^<]*)<\/title>/g
    )
  ].map((m) => ({ y: Number(m[2]), height: Number(m[4]), fill: m[5], title: m[6] }))

describe("renderChart", () => {
  const svg = renderChart(chart)

  it("is one SVG document whose tags balance", () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    expect(svg.trim().endsWith("</svg>")).toBe(true)
    const opened = (svg.match(/<(rect|text|title|line|svg)(\s[^>]*)?(?<!\/)>/g) ?? []).length
    const closed = (svg.match(/<\/(rect|text|title|line|svg)>/g) ?? []).length
    expect(opened).toBe(closed)
  })

  it("draws one bar per measured value, heights proportional within a panel, n/a for a missing one", () => {
    const b = bars(svg)
    expect(b.map((x) => x.title)).toEqual([
      "fleare-ts, SET: 50000 ops/s",
      "baseline, SET: 100000 ops/s",
      "fleare-ts, SESSION: 25000 ops/s",
      "fleare-ts, SET: 400000 ops/s",
      "baseline, SET: 200000 ops/s"
    ])
    expect(b.map((x) => x.fill)).toEqual(["#111111", "#222222", "#111111", "#111111", "#222222"])
    // Panel 1: 100k is the axis top (a nice scale), so 50k is half its height and 25k a quarter.
    expect(b[0]!.height / b[1]!.height).toBeCloseTo(0.5, 2)
    expect(b[2]!.height / b[1]!.height).toBeCloseTo(0.25, 2)
    // Panel 2 has its own scale: 400k fills it as 100k fills panel 1.
    expect(b[3]!.height).toBeCloseTo(b[1]!.height, 1)
    expect(b[4]!.height / b[3]!.height).toBeCloseTo(0.5, 2)
    // Bars stand on their panel's axis: the bottom of panel 2 is lower than panel 1's.
    expect(b[3]!.y + b[3]!.height).toBeGreaterThan(b[1]!.y + b[1]!.height)
    expect(svg.match(/>n\/a</g)).toHaveLength(1)
  })

  it("labels the legend, panels, groups and values, escaping text", () => {
    expect(svg).toContain("ops/s &lt;&amp;&gt; &quot;ours&quot;")
    for (const t of [">fleare-ts<", ">baseline<", ">pipeline 1<", ">pipeline 16<", ">SESSION<", ">50k<", ">400k<"])
      expect(svg).toContain(t)
    expect(svg.match(/class="legend"/g)).toHaveLength(2)
  })

  it("draws an empty panel without dividing by zero", () => {
    const empty = renderChart({
      title: "t",
      series: [{ name: "a", color: "#000" }],
      panels: [{ title: "p", groups: [] }]
    })
    expect(empty).not.toContain("NaN")
    expect(empty).not.toContain("Infinity")
  })
})

describe("chart helpers", () => {
  it("niceScale picks 1, 2 or 5 times a power of ten, in at most 6 steps", () => {
    expect(niceScale(100_000)).toEqual({ top: 100_000, step: 20_000 })
    expect(niceScale(430_000)).toEqual({ top: 500_000, step: 100_000 })
    const s = niceScale(61_234)
    expect(s.top).toBeGreaterThanOrEqual(61_234)
    expect(s.top / s.step).toBeLessThanOrEqual(6)
    expect(niceScale(0)).toEqual({ top: 1, step: 1 })
  })

  it("shortCount and escapeXml", () => {
    expect([shortCount(950), shortCount(1234), shortCount(61_000), shortCount(1_250_000)]).toEqual([
      "950",
      "1.2k",
      "61k",
      "1.3M"
    ])
    expect(escapeXml(`a<b>&"c'`)).toBe("a&lt;b&gt;&amp;&quot;c&apos;")
  })
})

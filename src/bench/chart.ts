/**
 * The bench's chart: grouped bars of ops/s, one panel per pipeline depth, one group per command, one bar per
 * server (fleare-ts, fleare-ts with a memory limit, the baseline, Redis). Plain SVG built as a string, so the
 * README can show it and a test can read it.
 */

/** One kind of bar: a server or configuration, with its fill colour. */
export interface ChartSeries {
  readonly name: string
  readonly color: string
}

/** One group of bars: its label and one value per series (undefined: not measured, drawn as "n/a"). */
export interface ChartGroup {
  readonly label: string
  readonly values: ReadonlyArray<number | undefined>
}

/** One panel with its own vertical scale. */
export interface ChartPanel {
  readonly title: string
  readonly groups: ReadonlyArray<ChartGroup>
}

/** A whole chart. */
export interface Chart {
  readonly title: string
  /** A line under the title (when and where it was measured). */
  readonly subtitle?: string
  readonly series: ReadonlyArray<ChartSeries>
  readonly panels: ReadonlyArray<ChartPanel>
}

/** Text made safe for SVG character data and attribute values. */
export const escapeXml = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;").replace(/'/g, "&apos;")

/** The axis top and tick step for values up to `max`: 1, 2 or 5 times a power of ten, at most 6 steps. */
export const niceScale = (max: number): { readonly top: number; readonly step: number } => {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 1 }
  const magnitude = 10 ** Math.floor(Math.log10(max / 5))
  for (const m of [1, 2, 5, 10, 20]) {
    const step = m * magnitude
    const top = Math.ceil(max / step) * step
    if (top / step <= 6) return { top, step }
  }
  return { top: max, step: max }
}

/** A short label for a count: 950, 12k, 1.2M. */
export const shortCount = (n: number): string => {
  if (n >= 1e6) return `${(n / 1e6).toFixed(n >= 1e7 ? 0 : 1)}M`
  if (n >= 1e3) return `${(n / 1e3).toFixed(n >= 1e4 ? 0 : 1)}k`
  return String(Math.round(n))
}

const WIDTH = 960
const PANEL_HEIGHT = 280
const LEFT = 70
const RIGHT = 20
const PLOT_TOP = 36
const PLOT_BOTTOM = 40
const HEADER = 80

const fmt = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(1))

/** The SVG document of `chart`. */
export const renderChart = (chart: Chart): string => {
  const out: Array<string> = []
  const height = HEADER + chart.panels.length * PANEL_HEIGHT
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    `<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-size="16" font-weight="bold">${escapeXml(chart.title)}</text>`
  )
  if (chart.subtitle !== undefined)
    out.push(`<text x="${WIDTH / 2}" y="40" text-anchor="middle" fill="#555555">${escapeXml(chart.subtitle)}</text>`)
  // The legend, in one row.
  let lx = LEFT
  for (const s of chart.series) {
    out.push(
      `<rect class="legend" x="${lx}" y="54" width="12" height="12" fill="${escapeXml(s.color)}"/>`,
      `<text x="${lx + 16}" y="64">${escapeXml(s.name)}</text>`
    )
    lx += 24 + s.name.length * 7
  }
  chart.panels.forEach((panel, p) => {
    const y0 = HEADER + p * PANEL_HEIGHT
    const plotTop = y0 + PLOT_TOP
    const plotBottom = y0 + PANEL_HEIGHT - PLOT_BOTTOM
    const plotHeight = plotBottom - plotTop
    const plotWidth = WIDTH - LEFT - RIGHT
    const max = Math.max(0, ...panel.groups.flatMap((g) => g.values.filter((v): v is number => v !== undefined)))
    const { top, step } = niceScale(max)
    out.push(`<text x="${LEFT}" y="${y0 + 22}" font-size="14" font-weight="bold">${escapeXml(panel.title)}</text>`)
    for (let v = 0; v <= top + step / 2; v += step) {
      const y = plotBottom - (v / top) * plotHeight
      out.push(
        `<line x1="${LEFT}" y1="${fmt(y)}" x2="${WIDTH - RIGHT}" y2="${fmt(y)}" stroke="#dddddd"/>`,
        `<text x="${LEFT - 6}" y="${fmt(y + 4)}" text-anchor="end" fill="#555555">${shortCount(v)}</text>`
      )
    }
    const groupWidth = plotWidth / Math.max(1, panel.groups.length)
    const barWidth = (groupWidth * 0.8) / Math.max(1, chart.series.length)
    panel.groups.forEach((g, gi) => {
      const gx = LEFT + gi * groupWidth + groupWidth * 0.1
      chart.series.forEach((s, si) => {
        const v = g.values[si]
        const x = gx + si * barWidth
        const cx = fmt(x + barWidth / 2)
        if (v === undefined || !Number.isFinite(v)) {
          out.push(
            `<text x="${cx}" y="${fmt(plotBottom - 4)}" text-anchor="middle" font-size="9" fill="#999999">n/a</text>`
          )
          return
        }
        const h = (v / top) * plotHeight
        out.push(
          `<rect class="bar" x="${fmt(x)}" y="${fmt(plotBottom - h)}" width="${fmt(barWidth - 2)}" height="${fmt(h)}" fill="${escapeXml(s.color)}"><title>${escapeXml(`${s.name}, ${g.label}: ${Math.round(v)} ops/s`)}</title></rect>`,
          `<text x="${cx}" y="${fmt(plotBottom - h - 3)}" text-anchor="middle" font-size="9">${shortCount(v)}</text>`
        )
      })
      out.push(
        `<text x="${fmt(gx + (barWidth * chart.series.length) / 2)}" y="${plotBottom + 16}" text-anchor="middle">${escapeXml(g.label)}</text>`
      )
    })
    out.push(`<line x1="${LEFT}" y1="${plotBottom}" x2="${WIDTH - RIGHT}" y2="${plotBottom}" stroke="#333333"/>`)
    out.push(
      `<text x="16" y="${fmt(plotTop + plotHeight / 2)}" transform="rotate(-90 16 ${fmt(plotTop + plotHeight / 2)})" text-anchor="middle" fill="#555555">ops/s</text>`
    )
  })
  out.push("</svg>", "")
  return out.join("\n")
}

/**
 * Effect's metric snapshot in the Prometheus text exposition format (version 0.0.4): one `# HELP` and `# TYPE`
 * per metric family, then its samples; histograms as cumulative `_bucket{le=...}` series with `_sum` and
 * `_count`. Families and series are sorted, so two scrapes list them in the same order.
 */
import * as Metric from "effect/Metric"
import type * as MetricPair from "effect/MetricPair"
import * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

const escapeHelp = (s: string): string => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")
const escapeLabel = (s: string): string => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")

/** A sample value as Prometheus writes it (`+Inf`, `-Inf`, `NaN`, else the shortest round-tripping decimal). */
export const formatValue = (n: number | bigint): string => {
  if (typeof n === "bigint") return n.toString()
  if (Number.isNaN(n)) return "NaN"
  if (n === Infinity) return "+Inf"
  if (n === -Infinity) return "-Inf"
  return String(n)
}

const labels = (pairs: ReadonlyArray<readonly [string, string]>): string =>
  pairs.length === 0 ? "" : `{${pairs.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`

interface Family {
  readonly type: "counter" | "gauge" | "histogram"
  help: string
  readonly lines: Array<{ readonly sortKey: string; readonly text: string }>
}

/** Renders metric pairs (from `Metric.snapshot`) as exposition text. */
export const formatPrometheus = (pairs: ReadonlyArray<MetricPair.MetricPair.Untyped>): string => {
  const families = new Map<string, Family>()
  for (const { metricKey: key, metricState: state } of pairs) {
    const tags = key.tags.map((t) => [t.key, t.value] as const).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const type = MetricState.isCounterState(state)
      ? "counter"
      : MetricState.isGaugeState(state)
        ? "gauge"
        : MetricState.isHistogramState(state)
          ? "histogram"
          : undefined
    // Frequencies and summaries are not used by the server.
    if (type === undefined) continue
    let family = families.get(key.name)
    if (family === undefined) {
      family = { type, help: "", lines: [] }
      families.set(key.name, family)
    }
    if (family.help === "" && Option.isSome(key.description)) family.help = key.description.value
    const sortKey = labels(tags)
    if (MetricState.isCounterState(state))
      family.lines.push({ sortKey, text: `${key.name}${labels(tags)} ${formatValue(state.count)}` })
    else if (MetricState.isGaugeState(state))
      family.lines.push({ sortKey, text: `${key.name}${labels(tags)} ${formatValue(state.value)}` })
    else if (MetricState.isHistogramState(state)) {
      const out: Array<string> = []
      for (const [bound, cumulative] of state.buckets)
        out.push(`${key.name}_bucket${labels([...tags, ["le", formatValue(bound)]])} ${formatValue(cumulative)}`)
      if (!state.buckets.some(([bound]) => bound === Infinity))
        out.push(`${key.name}_bucket${labels([...tags, ["le", "+Inf"]])} ${formatValue(state.count)}`)
      out.push(`${key.name}_sum${labels(tags)} ${formatValue(state.sum)}`)
      out.push(`${key.name}_count${labels(tags)} ${formatValue(state.count)}`)
      family.lines.push({ sortKey, text: out.join("\n") })
    }
  }
  const out: Array<string> = []
  for (const name of [...families.keys()].sort()) {
    const f = families.get(name)!
    if (f.help !== "") out.push(`# HELP ${name} ${escapeHelp(f.help)}`)
    out.push(`# TYPE ${name} ${f.type}`)
    for (const l of f.lines.sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0)))
      out.push(l.text)
  }
  return out.join("\n") + "\n"
}

/** Every metric of the process (but Effect's fiber metrics), as exposition text. */
export const prometheusText = (): string =>
  // Effect's own fiber metrics are left out: `effect_fiber_active` is a level typed as a counter.
  formatPrometheus(Metric.unsafeSnapshot().filter((p) => !p.metricKey.name.startsWith("effect_fiber_")))

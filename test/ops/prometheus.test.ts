/**
 * The exposition formatter over Effect metrics: counters, gauges and histograms come out as the strict parser
 * reads them, label values with quotes, backslashes and newlines escaped, help text escaped, families sorted.
 */
import { Effect, Metric, MetricBoundaries } from "effect"
import { describe, expect, it } from "vitest"
import { formatValue, prometheusText } from "../../src/ops/Prometheus.js"
import { parsePrometheus, valueOf } from "../support/prometheus.js"

describe("prometheusText", () => {
  it("formats counters, gauges and histograms that the strict parser reads back exactly", async () => {
    const c = Metric.counter("zz_test_requests_total", { description: "Requests\nby path \\ kind", incremental: true })
    const g = Metric.gauge("zz_test_temperature", { description: "A gauge" })
    const h = Metric.histogram("zz_test_duration_seconds", MetricBoundaries.fromIterable([0.1, 1, 10]), "A histogram")
    await Effect.runPromise(
      Effect.all([
        Metric.incrementBy(Metric.tagged(c, "path", 'a "quoted" \\ path\nwith a newline'), 3),
        Metric.incrementBy(Metric.tagged(c, "path", "/plain"), 1),
        Metric.set(g, -2.5),
        Metric.update(h, 0.05),
        Metric.update(h, 0.5),
        Metric.update(h, 5),
        Metric.update(h, 50)
      ])
    )
    const text = prometheusText()
    const families = parsePrometheus(text)
    const names = families.map((f) => f.name)
    expect(names).toEqual([...names].sort())
    const requests = families.find((f) => f.name === "zz_test_requests_total")!
    expect(requests.type).toBe("counter")
    expect(requests.help).toBe("Requests\nby path \\ kind")
    expect(valueOf(families, "zz_test_requests_total", { path: 'a "quoted" \\ path\nwith a newline' })).toBe(3)
    expect(valueOf(families, "zz_test_requests_total", { path: "/plain" })).toBe(1)
    expect(valueOf(families, "zz_test_temperature")).toBe(-2.5)
    expect(families.find((f) => f.name === "zz_test_duration_seconds")!.type).toBe("histogram")
    expect(valueOf(families, "zz_test_duration_seconds_bucket", { le: "0.1" })).toBe(1)
    expect(valueOf(families, "zz_test_duration_seconds_bucket", { le: "1" })).toBe(2)
    expect(valueOf(families, "zz_test_duration_seconds_bucket", { le: "10" })).toBe(3)
    expect(valueOf(families, "zz_test_duration_seconds_bucket", { le: "+Inf" })).toBe(4)
    expect(valueOf(families, "zz_test_duration_seconds_count")).toBe(4)
    expect(valueOf(families, "zz_test_duration_seconds_sum")).toBeCloseTo(55.55)
    // Effect's own fiber metrics (a level typed as a counter) are left out.
    expect(names.some((n) => n.startsWith("effect_fiber_"))).toBe(false)
  })

  it("writes special values as Prometheus does", () => {
    expect([
      formatValue(Infinity),
      formatValue(-Infinity),
      formatValue(NaN),
      formatValue(1e-7),
      formatValue(3n)
    ]).toEqual(["+Inf", "-Inf", "NaN", "1e-7", "3"])
  })
})

/**
 * The strict Prometheus text-format parser the metrics tests rely on (test/support/prometheus.ts): it reads
 * well-formed text exactly, and refuses each kind of malformed text, so a scrape it accepts is one Prometheus
 * accepts.
 */
import { describe, expect, it } from "vitest"
import { parsePrometheus, valueOf } from "../support/prometheus.js"

const good = `# HELP req_total Requests, with a \\\\ and a\\nnewline
# TYPE req_total counter
req_total{path="/a",code="200"} 3
req_total{path="/b\\"q\\"",code="500"} 1.5e3
# a comment
# TYPE temp gauge
temp -2.5
temp_untyped_like 7 1700000000000
# TYPE lat histogram
lat_bucket{le="0.1"} 1
lat_bucket{le="1"} 3
lat_bucket{le="+Inf"} 4
lat_sum 2.25
lat_count 4
`

describe("parsePrometheus", () => {
  it("reads families, types, help, labels with escapes, floats and timestamps", () => {
    const fams = parsePrometheus(good)
    expect(fams.map((f) => [f.name, f.type])).toEqual([
      ["req_total", "counter"],
      ["temp", "gauge"],
      ["temp_untyped_like", "untyped"],
      ["lat", "histogram"]
    ])
    expect(fams[0]!.help).toBe("Requests, with a \\ and a\nnewline")
    expect(valueOf(fams, "req_total", { path: "/a", code: "200" })).toBe(3)
    expect(valueOf(fams, "req_total", { path: '/b"q"', code: "500" })).toBe(1500)
    expect(valueOf(fams, "temp")).toBe(-2.5)
    expect(valueOf(fams, "lat_bucket", { le: "+Inf" })).toBe(4)
    expect(valueOf(fams, "lat_count")).toBe(4)
    expect(valueOf(fams, "missing")).toBeUndefined()
  })

  const bad: ReadonlyArray<readonly [string, string, RegExp]> = [
    ["no final newline", "a 1", /newline/],
    ["bad metric name", "1abc 1\n", /bad metric name|no value/],
    ["bad label name", 'a{1x="v"} 1\n', /bad label name/],
    ["unquoted label", "a{x=v} 1\n", /not quoted/],
    ["bad label escape", 'a{x="\\t"} 1\n', /bad escape/],
    ["not a float", "a one\n", /not a float/],
    ["two values", "a 1 2 3\n", /expected a value/],
    ["bad timestamp", "a 1 1.5\n", /bad timestamp/],
    ["second TYPE", "# TYPE a gauge\n# TYPE a gauge\na 1\n", /second TYPE/],
    ["unknown type", "# TYPE a meter\na 1\n", /bad type/],
    ["TYPE after samples", "a 1\n# TYPE a gauge\n", /after its samples/],
    ["split family", 'a 1\nb 1\na{x="1"} 2\n', /not contiguous/],
    ["duplicate series", 'a{x="1"} 1\na{x="1"} 2\n', /duplicate series/],
    ["negative counter", "# TYPE c counter\nc -1\n", /counter c is -1/],
    ["le outside a histogram", 'a{le="1"} 1\n', /le label outside/],
    ["histogram without +Inf", '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n', /no \+Inf bucket/],
    [
      "histogram not cumulative",
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /not cumulative/
    ],
    [
      "histogram buckets out of order",
      '# TYPE h histogram\nh_bucket{le="2"} 1\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
      /increasing le/
    ],
    ["+Inf bucket differs from count", '# TYPE h histogram\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 3\n', /!= _count/],
    ["histogram without sum", '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 1\n', /without _sum/]
  ]
  for (const [what, text, error] of bad) it(`refuses ${what}`, () => expect(() => parsePrometheus(text)).toThrow(error))
})

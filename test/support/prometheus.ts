/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for checking what /metrics serves. It
 * throws, naming the line, on anything a lenient scraper would let pass: a bad metric or label name, a bad
 * escape, a value that is not a float, a family split in two or typed twice, a TYPE after its samples, a
 * duplicate series, a negative counter, a histogram whose buckets are unordered, not cumulative, without
 * `+Inf`, or whose `+Inf` bucket differs from `_count`, and text not ending in a newline.
 */

export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped"

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

export interface Family {
  readonly name: string
  readonly type: MetricType
  readonly help: string | undefined
  readonly samples: Array<Sample>
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const FLOAT = /^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|Inf|NaN)$/
const TYPES: ReadonlySet<string> = new Set(["counter", "gauge", "histogram", "summary", "untyped"])

const parseValue = (s: string, where: string): number => {
  if (!FLOAT.test(s)) throw new Error(`${where}: not a float: "${s}"`)
  if (s === "+Inf" || s === "Inf") return Infinity
  if (s === "-Inf") return -Infinity
  if (s === "NaN") return NaN
  return Number(s)
}

const unescapeHelp = (s: string, where: string): string =>
  s.replace(/\\(.?)/g, (_, c: string) => {
    if (c === "\\") return "\\"
    if (c === "n") return "\n"
    throw new Error(`${where}: bad escape \\${c} in HELP`)
  })

/** Parses `{a="x",b="y"}` starting at `text[i] === "{"`; returns the labels and the index after `}`. */
const parseLabels = (text: string, i: number, where: string): [Record<string, string>, number] => {
  const labels: Record<string, string> = {}
  i += 1
  while (true) {
    if (text[i] === "}") return [labels, i + 1]
    const eq = text.indexOf("=", i)
    if (eq < 0) throw new Error(`${where}: label without =`)
    const name = text.slice(i, eq)
    if (!LABEL_NAME.test(name)) throw new Error(`${where}: bad label name "${name}"`)
    if (name in labels) throw new Error(`${where}: label ${name} twice`)
    if (text[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`)
    let j = eq + 2
    let value = ""
    for (;;) {
      const c = text[j]
      if (c === undefined) throw new Error(`${where}: unterminated label value`)
      if (c === '"') break
      if (c === "\\") {
        const e = text[j + 1]
        if (e === "\\") value += "\\"
        else if (e === '"') value += '"'
        else if (e === "n") value += "\n"
        else throw new Error(`${where}: bad escape \\${e ?? ""} in label value`)
        j += 2
      } else {
        value += c
        j += 1
      }
    }
    labels[name] = value
    i = j + 1
    if (text[i] === ",") i += 1
    else if (text[i] !== "}") throw new Error(`${where}: expected , or } after a label`)
  }
}

const familyOf = (sampleName: string, types: ReadonlyMap<string, MetricType>): string => {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (sampleName.endsWith(suffix)) {
      const base = sampleName.slice(0, -suffix.length)
      const t = types.get(base)
      if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base
    }
  }
  return sampleName
}

const seriesKey = (s: Sample): string =>
  `${s.name}{${Object.entries(s.labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(",")}}`

const checkHistogram = (f: Family): void => {
  const groups = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number }>()
  for (const s of f.samples) {
    const { le, ...rest } = s.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    let g = groups.get(key)
    if (g === undefined) groups.set(key, (g = { buckets: [] }))
    if (s.name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: bucket without le`)
      g.buckets.push([parseValue(le, `${f.name} le`), s.value])
    } else if (le !== undefined) throw new Error(`${f.name}: le on ${s.name}`)
    else if (s.name === `${f.name}_sum`) g.sum = s.value
    else if (s.name === `${f.name}_count`) g.count = s.value
    else throw new Error(`${f.name}: unexpected sample ${s.name} in a histogram`)
  }
  for (const g of groups.values()) {
    if (g.sum === undefined || g.count === undefined) throw new Error(`${f.name}: histogram without _sum or _count`)
    for (let i = 1; i < g.buckets.length; i++) {
      if (!(g.buckets[i]![0] > g.buckets[i - 1]![0])) throw new Error(`${f.name}: buckets not in increasing le order`)
      if (g.buckets[i]![1] < g.buckets[i - 1]![1]) throw new Error(`${f.name}: bucket counts not cumulative`)
    }
    const last = g.buckets[g.buckets.length - 1]
    if (last === undefined || last[0] !== Infinity) throw new Error(`${f.name}: no +Inf bucket`)
    if (last[1] !== g.count) throw new Error(`${f.name}: +Inf bucket ${last[1]} != _count ${g.count}`)
  }
}

/** Parses exposition text into families, in order; throws on any violation (see the module comment). */
export const parsePrometheus = (text: string): Array<Family> => {
  if (text.length > 0 && !text.endsWith("\n")) throw new Error("the text does not end with a newline")
  const lines = text.split("\n").slice(0, -1)
  const types = new Map<string, MetricType>()
  const helps = new Map<string, string>()
  const families: Array<Family> = []
  const byName = new Map<string, Family>()
  const closed = new Set<string>()
  const series = new Set<string>()
  let current: Family | undefined
  const family = (name: string, where: string): Family => {
    if (current?.name === name) return current
    if (closed.has(name) || byName.has(name)) throw new Error(`${where}: samples of ${name} are not contiguous`)
    if (current !== undefined) closed.add(current.name)
    const f: Family = { name, type: types.get(name) ?? "untyped", help: helps.get(name), samples: [] }
    families.push(f)
    byName.set(name, f)
    current = f
    return f
  }
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`
    if (line === "") return
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line)
      if (m === null) return // a comment
      const [, kind, name, rest] = m as unknown as [string, "HELP" | "TYPE", string, string | undefined]
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`)
      if (byName.has(name)) throw new Error(`${where}: ${kind} for ${name} after its samples`)
      if (kind === "HELP") {
        if (helps.has(name)) throw new Error(`${where}: second HELP for ${name}`)
        helps.set(name, unescapeHelp(rest ?? "", where))
      } else {
        if (types.has(name)) throw new Error(`${where}: second TYPE for ${name}`)
        if (rest === undefined || !TYPES.has(rest)) throw new Error(`${where}: bad type "${rest}"`)
        types.set(name, rest as MetricType)
      }
      return
    }
    const nameEnd = line.search(/[{ ]/)
    if (nameEnd <= 0) throw new Error(`${where}: no value`)
    const name = line.slice(0, nameEnd)
    if (!METRIC_NAME.test(name)) throw new Error(`${where}: bad metric name "${name}"`)
    let labels: Record<string, string> = {}
    let i = nameEnd
    if (line[i] === "{") [labels, i] = parseLabels(line, i, where)
    if (line[i] !== " ") throw new Error(`${where}: expected a space before the value`)
    const parts = line.slice(i + 1).split(" ")
    if (parts.length > 2 || parts[0] === "") throw new Error(`${where}: expected a value and an optional timestamp`)
    const value = parseValue(parts[0]!, where)
    if (parts.length === 2 && !/^-?\d+$/.test(parts[1]!)) throw new Error(`${where}: bad timestamp "${parts[1]}"`)
    const f = family(familyOf(name, types), where)
    const sample: Sample = { name, labels, value }
    const key = seriesKey(sample)
    if (series.has(key)) throw new Error(`${where}: duplicate series ${key}`)
    series.add(key)
    if (f.type === "counter" && !(value >= 0)) throw new Error(`${where}: counter ${name} is ${value}`)
    if (f.type !== "histogram" && "le" in labels) throw new Error(`${where}: le label outside a histogram`)
    f.samples.push(sample)
  })
  for (const f of families) if (f.type === "histogram") checkHistogram(f)
  return families
}

/** The value of the series `name{labels}` (labels must match exactly), or undefined. */
export const valueOf = (
  families: ReadonlyArray<Family>,
  name: string,
  labels: Readonly<Record<string, string>> = {}
): number | undefined => {
  const want = seriesKey({ name, labels, value: 0 })
  for (const f of families) for (const s of f.samples) if (seriesKey(s) === want) return s.value
  return undefined
}

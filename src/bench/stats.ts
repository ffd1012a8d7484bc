/**
 * Statistics for the benchmark: a latency histogram and an error tally, both cheap to record into on the hot
 * path, mergeable (across connections, worker threads and rounds) and serialisable (to cross a worker boundary).
 *
 * The histogram is HDR-like, not exact: values below 2^SUB_BITS (256) are kept exactly; above that, each power
 * of two is split into 256 equal buckets, so a reported value is never below the true one and never more than
 * 1/256 (0.39%) above it (it is the largest value its bucket can hold, clamped to the largest value recorded).
 * Percentiles use the nearest-rank definition: p is the smallest recorded value with at least p% of all values
 * at or below it.
 */

const SUB_BITS = 8
const SUB = 1 << SUB_BITS
/** Values up to 2^MAX_EXP (about 18 minutes in nanoseconds) have their own bucket; larger ones share the last. */
const MAX_EXP = 40
const BUCKETS = (MAX_EXP - SUB_BITS + 2) * SUB

/** Index of the bucket holding the non-negative integer `v`. */
const bucketOf = (v: number): number => {
  if (v < SUB) return v
  const e = v < 0x100000000 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v))
  if (e > MAX_EXP) return BUCKETS - 1
  const shift = e - SUB_BITS
  return (shift + 1) * SUB + (Math.floor(v / 2 ** shift) - SUB)
}

/** The largest value a bucket holds: what a percentile falling in that bucket reports. */
const bucketTop = (i: number): number => {
  if (i < SUB) return i
  const group = Math.floor(i / SUB)
  const shift = group - 1
  return (SUB + (i % SUB) + 1) * 2 ** shift - 1
}

/** The plain-data form of a histogram, for `postMessage` and JSON. */
export interface HistogramData {
  readonly count: number
  readonly sum: number
  readonly min: number
  readonly max: number
  /** Sparse: [bucket index, count] pairs. */
  readonly buckets: ReadonlyArray<readonly [number, number]>
}

/** Latency histogram over non-negative integers (the benchmark records nanoseconds). */
export class Histogram {
  private counts = new Float64Array(BUCKETS)
  count = 0
  sum = 0
  min = Infinity
  max = 0

  /** Records one value; negatives count as 0 and fractions are rounded down. */
  record(value: number): void {
    const v = value > 0 ? Math.floor(value) : 0
    this.counts[bucketOf(v)]!++
    this.count++
    this.sum += v
    if (v < this.min) this.min = v
    if (v > this.max) this.max = v
  }

  /** Adds every value of `other` to this histogram. */
  merge(other: Histogram | HistogramData): void {
    const data = other instanceof Histogram ? other.toData() : other
    for (const [i, c] of data.buckets) this.counts[i]! += c
    this.count += data.count
    this.sum += data.sum
    if (data.count > 0) {
      if (data.min < this.min) this.min = data.min
      if (data.max > this.max) this.max = data.max
    }
  }

  /** The nearest-rank percentile, `p` in [0, 100]; 0 when nothing was recorded. */
  percentile(p: number): number {
    if (this.count === 0) return 0
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, p)) / 100) * this.count))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, bucketTop(i)))
    }
    return this.max
  }

  /** The arithmetic mean (exact); 0 when empty. */
  mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count
  }

  /** A sparse plain copy. */
  toData(): HistogramData {
    const buckets: Array<readonly [number, number]> = []
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i]! > 0) buckets.push([i, this.counts[i]!])
    return { count: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.max, buckets }
  }

  /** Rebuilds a histogram from its plain copy. */
  static fromData(data: HistogramData): Histogram {
    const h = new Histogram()
    h.merge(data)
    return h
  }
}

/** The plain-data form of an error tally. */
export interface ErrorTallyData {
  readonly total: number
  /** Distinct error texts (at most `ErrorTally.maxKinds`, the rest under "(other errors)") and how often each. */
  readonly kinds: ReadonlyArray<{ readonly text: string; readonly count: number }>
}

/**
 * Counts every error. Each error has a short text (what was expected and what came back); the first
 * `maxKinds` distinct texts are kept with their counts as samples, later new texts are counted together, so the
 * tally stays small however many errors a run produces. `total` is always exact.
 */
export class ErrorTally {
  static readonly maxKinds = 20
  static readonly maxTextLength = 200
  total = 0
  private readonly kinds = new Map<string, number>()

  /** Counts `n` errors with this text. */
  add(text: string, n = 1): void {
    if (n <= 0) return
    this.total += n
    const t = text.length > ErrorTally.maxTextLength ? text.slice(0, ErrorTally.maxTextLength) + "..." : text
    const known = this.kinds.get(t)
    if (known !== undefined) this.kinds.set(t, known + n)
    else if (this.kinds.size < ErrorTally.maxKinds) this.kinds.set(t, n)
    else this.kinds.set(OTHER, (this.kinds.get(OTHER) ?? 0) + n)
  }

  /** Adds every error of `other`. */
  merge(other: ErrorTally | ErrorTallyData): void {
    const data = other instanceof ErrorTally ? other.toData() : other
    for (const k of data.kinds) this.add(k.text, k.count)
  }

  /** A plain copy, most frequent texts first. */
  toData(): ErrorTallyData {
    const kinds = [...this.kinds].map(([text, count]) => ({ text, count })).sort((a, b) => b.count - a.count)
    return { total: this.total, kinds }
  }
}

const OTHER = "(other errors)"

/** The median of a list of numbers (the mean of the middle two for an even count); NaN for an empty list. */
export const median = (xs: ReadonlyArray<number>): number => {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

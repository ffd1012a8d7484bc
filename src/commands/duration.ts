/**
 * TTL.EXPIRE's duration argument: `N` (seconds), `Ns`, `Nm`, `Nh` or `Nd`, with an optional sign as Go's
 * `strconv.ParseInt` allows. Like Go's `time.Duration`, a duration must fit in int64 nanoseconds (about 292
 * years); anything else is not a duration.
 */

const DURATION_RE = /^([+-]?\d+)([smhd]?)$/

const UNIT_SECONDS: Record<string, bigint> = { "": 1n, s: 1n, m: 60n, h: 3600n, d: 86400n }

/** The largest duration in whole seconds: int64 nanoseconds, as Go's `time.Duration`. */
export const MAX_DURATION_SECONDS = 9223372036854775807n / 1_000_000_000n

/** The duration in seconds (possibly zero or negative), or undefined when `text` is not a valid duration. */
export const parseDurationSeconds = (text: string): bigint | undefined => {
  // Long enough digit strings are out of range anyway; checking the length first bounds the BigInt work.
  if (text.length > 40) return undefined
  const m = DURATION_RE.exec(text)
  if (m === null) return undefined
  const seconds = BigInt(m[1]!) * UNIT_SECONDS[m[2]!]!
  const magnitude = seconds < 0n ? -seconds : seconds
  return magnitude > MAX_DURATION_SECONDS ? undefined : seconds
}

/**
 * Timestamps as Go's `time.Time` marshals them in UTC: RFC 3339 with up to nine fractional digits, trailing
 * zeros trimmed and no fraction at all when it is zero (`2025-05-01T17:33:15Z`, `2025-05-01T17:33:15.5Z`).
 * Input is nanoseconds since the Unix epoch, as `Clock.currentTimeNanos` gives them.
 */
import * as Effect from "effect/Effect"

const NANOS_PER_SECOND = 1_000_000_000n

const pad = (n: number, width: number): string => n.toString().padStart(width, "0")

// Timestamps come in bursts within the same second: remember the last second's text.
let cachedSecond: bigint | undefined
let cachedSecondText = ""

const secondText = (seconds: bigint): string => {
  if (seconds === cachedSecond) return cachedSecondText
  const d = new Date(Number(seconds) * 1000)
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`
  cachedSecond = seconds
  cachedSecondText = `${date}T${time}`
  return cachedSecondText
}

/** Formats epoch nanoseconds as Go's RFC 3339 nano UTC text. */
export const formatRfc3339Nano = (epochNanos: bigint): string => {
  let seconds = epochNanos / NANOS_PER_SECOND
  let fraction = epochNanos % NANOS_PER_SECOND
  if (fraction < 0n) {
    // BigInt division truncates toward zero; times before 1970 borrow a second.
    fraction += NANOS_PER_SECOND
    seconds -= 1n
  }
  const base = secondText(seconds)
  if (fraction === 0n) return `${base}Z`
  let digits = fraction.toString().padStart(9, "0")
  let end = digits.length
  while (digits.charCodeAt(end - 1) === 48) end--
  digits = digits.slice(0, end)
  return `${base}.${digits}Z`
}

/**
 * The current time in epoch nanoseconds from the Effect `Clock` (so `TestClock` drives it). Uses the clock's
 * synchronous read, which floors `TestClock`'s fractional milliseconds instead of failing on them.
 */
export const nowNanos: Effect.Effect<bigint> = Effect.clockWith((clock) =>
  Effect.sync(() => clock.unsafeCurrentTimeNanos())
)

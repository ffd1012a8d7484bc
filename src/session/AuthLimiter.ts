/**
 * Failed-AUTH rate limiting per remote address (issue 10): each failure from an address makes the next failed
 * answer wait a little longer (100 ms more per recent failure, at most 1 s), and `security.auth_max_failures`
 * failures within `security.auth_lockout_seconds` lock the address out for that long: its AUTHs are then
 * refused at once, without running the password check (so a locked-out flood costs no hashing either).
 * Failures older than the lockout window are forgotten. Plain synchronous state, used only by the connection
 * actor's AUTH step (never per request); times are the Effect Clock's epoch nanoseconds.
 */

/** What one remote address has done lately. */
interface Record {
  failures: number
  lastFailure: bigint
  lockedUntil: bigint
}

/** The outcome of a failure: how long to hold the answer, and whether it started a lockout. */
export interface FailureOutcome {
  readonly failures: number
  readonly delayMillis: number
  readonly lockedOut: boolean
}

/** Extra wait per recent failure, and its cap. */
const DELAY_STEP_MILLIS = 100
const MAX_DELAY_MILLIS = 1000
/** Above this many tracked addresses, stale records are swept on the next failure. */
const SWEEP_ABOVE = 10_000

const NANOS_PER_SECOND = 1_000_000_000

/** The per-address failure book; see the module comment. `lockoutSeconds` 0 turns the limiter off. */
export class AuthLimiter {
  private readonly byAddress = new Map<string, Record>()
  private readonly windowNanos: bigint

  constructor(
    private readonly maxFailures: number,
    lockoutSeconds: number
  ) {
    this.windowNanos = BigInt(Math.round(lockoutSeconds * NANOS_PER_SECOND))
  }

  /** Seconds left of this address's lockout (rounded up), or undefined when it may try. */
  lockedFor(address: string, now: bigint): number | undefined {
    const r = this.byAddress.get(address)
    if (r === undefined || r.lockedUntil <= now) return undefined
    return Math.ceil(Number(r.lockedUntil - now) / NANOS_PER_SECOND)
  }

  /** Records a failed AUTH from `address` at `now`. */
  fail(address: string, now: bigint): FailureOutcome {
    if (this.windowNanos === 0n) return { failures: 1, delayMillis: 0, lockedOut: false }
    if (this.byAddress.size > SWEEP_ABOVE) this.sweep(now)
    let r = this.byAddress.get(address)
    if (r === undefined || now - r.lastFailure > this.windowNanos) {
      r = { failures: 0, lastFailure: now, lockedUntil: 0n }
      this.byAddress.set(address, r)
    }
    r.failures += 1
    r.lastFailure = now
    const failures = r.failures
    const delayMillis = Math.min((failures - 1) * DELAY_STEP_MILLIS, MAX_DELAY_MILLIS)
    if (failures < this.maxFailures) return { failures, delayMillis, lockedOut: false }
    r.lockedUntil = now + this.windowNanos
    r.failures = 0
    return { failures, delayMillis, lockedOut: true }
  }

  /** How many addresses are tracked (for tests). */
  get size(): number {
    return this.byAddress.size
  }

  private sweep(now: bigint): void {
    for (const [address, r] of this.byAddress)
      if (r.lockedUntil <= now && now - r.lastFailure > this.windowNanos) this.byAddress.delete(address)
  }
}

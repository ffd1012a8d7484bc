/**
 * The live connections of one server, by client id: how SESSION.KILL closes another connection, how STATUS
 * counts them and how `misc.max_connections` is enforced. Also issues client ids from a counter that is never
 * reused for the life of the server, and runs the deadline sweep (`sweepDeadlines`) that closes connections
 * that did not authenticate in time (`security.auth_timeout_seconds`) or stayed idle (`misc.timeout_seconds`).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"

/** What the registry can do to a connection, and what the deadline sweep reads of it. */
export interface ConnectionHandle {
  /** Ends the connection once the replies already produced are written. */
  readonly kill: () => void
  /** Closes the connection now, dropping unsent output; `reason` is logged with its client id. */
  readonly close: (reason: string, level?: "info" | "warning") => void
  /** When it was accepted, and when it was last active: input, or progress on a long read (Clock epoch nanos). */
  readonly acceptedAt: bigint
  readonly lastActiveAt: bigint
  /** Has authenticated (AUTH succeeded once, or authentication is off). */
  readonly authenticated: boolean
  /**
   * Has subscribed to a topic: a listen-only subscriber (Fleare's Node pub/sub client sends nothing after
   * SUBSCRIBE) is exempt from the idle timeout, as Redis exempts pub/sub clients from `timeout`.
   */
  readonly subscribed: boolean
}

export class ConnectionRegistry {
  private readonly live = new Map<string, ConnectionHandle>()
  private counter = 0
  /** Wakes the deadline sweep when it sleeps past a new connection's first possible deadline. */
  private onAdd: ((acceptedAt: bigint) => void) | undefined = undefined

  /**
   * `nextNumber`, when given, numbers the client ids instead of the local counter (a shared store numbers them
   * across servers, so an id is unique cluster-wide).
   */
  constructor(private readonly nextNumber?: () => number) {}

  /** A new client id `<n>-<ip>:<port>`; IPv6 peers print as `[addr]:port`. */
  nextClientId(remoteAddress: string, remotePort: number): string {
    this.counter += 1
    const n = this.nextNumber === undefined ? this.counter : this.nextNumber()
    // An IPv4 peer on a dual-stack listener arrives as ::ffff:a.b.c.d; print it as IPv4.
    const address =
      remoteAddress.startsWith("::ffff:") && remoteAddress.includes(".") ? remoteAddress.slice(7) : remoteAddress
    const host = address.includes(":") ? `[${address}]` : address
    return `${n}-${host}:${remotePort}`
  }

  add(clientId: string, handle: ConnectionHandle): void {
    this.live.set(clientId, handle)
    this.onAdd?.(handle.acceptedAt)
  }

  remove(clientId: string): void {
    this.live.delete(clientId)
  }

  get(clientId: string): ConnectionHandle | undefined {
    return this.live.get(clientId)
  }

  get size(): number {
    return this.live.size
  }

  /**
   * Closes, forever, the connections past their deadlines: not authenticated `authTimeoutSeconds` after accept,
   * or inactive (no input, no progress) for `idleTimeoutSeconds` (0 turns either off). It sleeps on the Effect Clock until the
   * earliest deadline (at least `MIN_SWEEP_GAP` after the last sweep, so many staggered deadlines cost a bounded
   * number of wake-ups), and without connections it does not wake at all. Nothing is done per request: a
   * connection's reads only stamp `lastActiveAt`, compared here.
   */
  sweepDeadlines(authTimeoutSeconds: number, idleTimeoutSeconds: number): Effect.Effect<never> {
    const authNanos = BigInt(Math.round(authTimeoutSeconds * 1e9))
    const idleNanos = BigInt(Math.round(idleTimeoutSeconds * 1e9))
    if (authNanos === 0n && idleNanos === 0n) return Effect.never
    const firstDeadline = authNanos === 0n ? idleNanos : idleNanos === 0n ? authNanos : min(authNanos, idleNanos)
    let wakeAt: bigint | undefined = undefined
    let wake: (() => void) | undefined = undefined
    // A connection added while the sweep is between its scan and its sleep: the sleep returns at once.
    let pending = false
    this.onAdd = (acceptedAt) => {
      if (wakeAt !== undefined && acceptedAt + firstDeadline >= wakeAt) return
      if (wake === undefined) pending = true
      else {
        const w = wake
        wake = undefined
        w()
      }
    }
    const sweep = (now: bigint): Effect.Effect<bigint | undefined> => {
      pending = false
      wakeAt = undefined
      let next: bigint | undefined = undefined
      for (const h of this.live.values()) {
        let deadline: bigint | undefined = undefined
        let reason = ""
        if (authNanos > 0n && !h.authenticated) {
          deadline = h.acceptedAt + authNanos
          reason = `closed: not authenticated within security.auth_timeout_seconds (${authTimeoutSeconds} s)`
        }
        if (idleNanos > 0n && !h.subscribed) {
          const idle = h.lastActiveAt + idleNanos
          if (deadline === undefined || idle < deadline) {
            deadline = idle
            reason = `closed: idle for misc.timeout_seconds (${idleTimeoutSeconds} s)`
          }
        }
        if (deadline === undefined) continue
        if (deadline <= now) h.close(reason, "info")
        else if (next === undefined || deadline < next) next = deadline
      }
      return Effect.succeed(next)
    }
    const sleepUntil = (now: bigint, next: bigint | undefined): Effect.Effect<void> => {
      wakeAt = next === undefined ? undefined : max(next, now + MIN_SWEEP_GAP)
      const signal = Effect.async<void>((resume) => {
        if (pending) {
          pending = false
          resume(Effect.void)
        } else wake = () => resume(Effect.void)
      })
      if (wakeAt === undefined) return signal
      return Effect.raceFirst(Effect.sleep(Number(wakeAt - now) / 1e6), signal)
    }
    const loop: Effect.Effect<never> = Effect.flatMap(Clock.currentTimeNanos, (now) =>
      Effect.flatMap(sweep(now), (next) => Effect.zipRight(sleepUntil(now, next), loop))
    )
    return loop
  }
}

/** The least time between two sweeps (nanos): a deadline is met at most this late. */
const MIN_SWEEP_GAP = 250_000_000n

const min = (a: bigint, b: bigint): bigint => (a < b ? a : b)
const max = (a: bigint, b: bigint): bigint => (a > b ? a : b)

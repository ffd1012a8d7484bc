/**
 * A fixed set of pipelined connections. Each request goes to the live connection with the fewest requests in
 * flight. A connection that died is replaced on the next request that needs it, retrying by the reconnect
 * `Schedule` (while the failure is a `ConnectionError`; refused credentials are not retried). A request that
 * was in flight when its connection died fails with `ConnectionError`: it is not re-sent, because it may have
 * run (NUM.INCR twice is not NUM.INCR once).
 */
import * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { type ConnectOptions, open, request, type Reply, type WireConnection } from "./Connection.js"
import { ConnectionError, type Unauthorized } from "./errors.js"

/** A pool of connections, closed with its scope. */
export interface Pool {
  /** Sends a request on some connection and waits for its reply. */
  readonly request: (
    command: string,
    args: ReadonlyArray<string>
  ) => Effect.Effect<Reply, ConnectionError | Unauthorized>
  /** Opens one connection outside the pool (for a subscriber), with the same address and credentials; no retry. */
  readonly openDedicated: Effect.Effect<WireConnection, ConnectionError | Unauthorized>
}

interface Slot {
  conn: WireConnection | undefined
  readonly lock: Effect.Semaphore
}

/**
 * Opens `size` connections at once (failing if any cannot be opened: a wrong password or an unreachable
 * server is reported at start rather than on the first request) and returns the pool.
 */
export const makePool = (
  options: ConnectOptions,
  size: number,
  reconnect: Schedule.Schedule<unknown, unknown>
): Effect.Effect<Pool, ConnectionError | Unauthorized, Scope.Scope> =>
  Effect.gen(function* () {
    const slots: Array<Slot> = []
    for (let i = 0; i < Math.max(1, size); i++) slots.push({ conn: undefined, lock: yield* Effect.makeSemaphore(1) })
    let closed = false
    let next = 0
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        for (const s of slots) s.conn?.close()
      })
    )

    const reopen = open(options).pipe(Effect.retry({ schedule: reconnect, while: (e) => e._tag === "ConnectionError" }))

    /** The slot's connection, reconnecting it (once, whoever asks first) when it is dead. */
    const connectionOf = (slot: Slot): Effect.Effect<WireConnection, ConnectionError | Unauthorized> =>
      slot.conn?.alive
        ? Effect.succeed(slot.conn)
        : slot.lock.withPermits(1)(
            Effect.suspend(() => {
              if (closed) return Effect.fail(new ConnectionError({ reason: "Closed", message: "the client is closed" }))
              if (slot.conn?.alive) return Effect.succeed(slot.conn)
              return Effect.tap(reopen, (conn) =>
                Effect.sync(() => {
                  // The pool may have closed while we were connecting: do not leak the new socket.
                  if (closed) conn.close()
                  else slot.conn = conn
                })
              )
            })
          )

    /** The live connection with the fewest requests in flight, or the next dead slot to revive. */
    const pick = (): Slot => {
      let best: Slot | undefined
      for (const s of slots) {
        if (s.conn?.alive && (best === undefined || s.conn.inFlight < best.conn!.inFlight)) best = s
      }
      if (best !== undefined) return best
      next = (next + 1) % slots.length
      return slots[next]!
    }

    yield* Effect.forEach(
      slots,
      (slot) =>
        Effect.tap(open(options), (conn) =>
          Effect.sync(() => {
            slot.conn = conn
          })
        ),
      { concurrency: "unbounded", discard: true }
    )

    return {
      request: (command, args) =>
        Effect.flatMap(
          Effect.suspend(() => connectionOf(pick())),
          (conn) => request(conn, command, args)
        ),
      openDedicated: open(options)
    }
  })

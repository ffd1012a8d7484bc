/**
 * The transport: a listening socket that hands each accepted connection to a handler running in its own
 * fiber. Only the transport knows about sockets; the connection actor sees `Conn`, a byte pipe with
 * backpressure. `NodeTransport.layer` is the node:net implementation; tests and embedders may provide another.
 */
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** An accepted connection as the connection actor sees it. */
export interface Conn {
  readonly remoteAddress: string
  readonly remotePort: number
  /**
   * Waits for input and returns every chunk received since the last call, in order; `undefined` once the peer
   * has finished sending (FIN), the socket failed, or the connection was killed, and nothing is left.
   */
  readonly read: Effect.Effect<ReadonlyArray<Buffer> | undefined>
  /** Queues bytes for the peer. Reading pauses while too much output waits (the peer is not reading). */
  readonly write: (data: Buffer) => void
  /** Ends the connection after queued output is sent, then discards input until the peer closes. */
  readonly end: () => void
  /**
   * Installs the actor's fast path: the transport calls `handler.fastPath` with input that arrives while the
   * actor is parked in `read` with nothing queued. `"handled"`: the input was fully dealt with; `"wake"`: it was
   * consumed and the actor must be woken (its `read` then returns `[]`); `"decline"`: not consumed, deliver it
   * through `read`. A transport may ignore this (the actor then does everything in its fiber). The handler is
   * the actor itself rather than a closure: one object less per idle connection.
   */
  readonly setFastPath: (handler: FastPathHandler) => void
  /** Ends input now (`read` returns `undefined` once drained); used by SESSION.KILL. */
  readonly kill: () => void
  /**
   * Bytes written to this connection that the peer has not taken yet (queued in user space above the kernel's
   * socket buffer): the measure of a client's unread replies. The connection actor compares it with
   * `misc.max_output_buffer_bytes` after each write and with its soft limit between batches; pub/sub pushes
   * should use the same limit. Cheap (a field read): fine on the hot path.
   */
  readonly pendingOutputBytes: () => number
  /**
   * Waits until the pending output is back under the transport's high-water mark, or the connection is gone
   * (made on demand: an idle connection holds no such Effect).
   */
  readonly drained: () => Effect.Effect<void>
  /** Closes now, dropping queued output (a client over its output limit); `read` then returns `undefined`. */
  readonly abort: () => void
  /**
   * Installs a listener called when output that had backed up has been sent (the socket's `drain`): a pub/sub
   * subscriber resumes writing its queued pushes then. A transport whose writes never back up may ignore it.
   */
  readonly setOnDrain: (listener: () => void) => void
}

/** Who runs input on arrival (see `Conn.setFastPath`). */
export interface FastPathHandler {
  readonly fastPath: (chunk: Buffer) => "handled" | "wake" | "decline"
}

/** Where a transport listens. */
export interface ListenAddress {
  readonly host: string
  readonly port: number
}

/** The listener could not start (address in use, permission, bad host). */
export class TransportError extends Data.TaggedError("TransportError")<{
  readonly message: string
  readonly cause: unknown
}> {}

/** The transport service. */
export interface TransportShape {
  /**
   * Listens on `address` and runs `handler` in a new fiber for every connection until the scope closes; then
   * stops accepting, interrupts the handlers and closes every socket. Returns the bound address (port 0 picks
   * a free port).
   */
  readonly serve: (
    address: ListenAddress,
    handler: (conn: Conn) => Effect.Effect<void>
  ) => Effect.Effect<ListenAddress, TransportError, Scope.Scope>
}

export class Transport extends Context.Tag("fleare/Transport")<Transport, TransportShape>() {}

/** Flow-control thresholds of a connection. */
export interface FlowLimits {
  /** Unprocessed input bytes above which the socket stops reading. */
  readonly inputHighWater: number
  /** Unsent output bytes above which the socket stops reading. */
  readonly outputHighWater: number
  /** How long a closing connection waits for the peer to close before the socket is destroyed. */
  readonly lingerMillis: number
}

export const defaultFlowLimits: FlowLimits = {
  inputHighWater: 1024 * 1024,
  outputHighWater: 1024 * 1024,
  lingerMillis: 2000
}

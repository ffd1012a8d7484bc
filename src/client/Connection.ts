/**
 * One client connection over node:net, pipelined: any number of requests may be in flight, and replies are
 * matched to them in order (the server answers strictly in request order, SPEC A.1). Frames carrying a topic
 * are pub/sub pushes, never replies, so they go to `onPush` and cannot shift the matching.
 *
 * The socket callbacks are plain synchronous code (no Effect per frame); the Effect API on top is `open`
 * (connect and authenticate) and `request`, whose interruption abandons the reply slot without desyncing.
 */
import * as net from "node:net"
import type { Duplex } from "node:stream"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { FrameDecoder } from "../protocol/Frame.js"
import { decodeResponse, FrameWriter } from "../protocol/Message.js"
import { ConnectionError, replyError, type Unauthorized } from "./errors.js"

/** A reply or push frame as the client sees it: the result decoded as UTF-8 text. */
export interface Reply {
  readonly status: "Ok" | "Error"
  readonly result: string
  readonly clientId: string
  readonly topic: string
}

/** What a waiting request is told: its reply, or why it will never come. */
type Waiter = (outcome: Reply | ConnectionError) => void

const abandoned: Waiter = () => {}

/**
 * Opens a byte stream to the server (`label` names it in messages). The default dials TCP to host:port;
 * `FleareServer.layerTest` gives one that connects in memory.
 */
export type Dialer = (label: string) => Effect.Effect<Duplex, ConnectionError>

/** Where to connect and as whom. */
export interface ConnectOptions {
  /** How to open the stream; undefined: TCP to `host`:`port`. */
  readonly dial?: Dialer | undefined
  readonly host: string
  readonly port: number
  readonly user: string
  readonly password: string
  /** How long connecting and authenticating may take. */
  readonly connectTimeout: Duration.DurationInput
  /** Largest reply frame accepted; a bigger one is a protocol error that closes the connection. */
  readonly maxFrameBytes: number
}

/**
 * A live connection. `send` queues a request's frame (frames queued in one tick go out in one write) and its
 * waiter; replies resolve waiters first-in first-out.
 */
export class WireConnection {
  /** The client id the server gave on AUTH (`<n>-<ip>:<port>`); empty before. */
  clientId = ""
  /** Called with every frame that carries a topic (a pub/sub push). */
  onPush: (push: Reply) => void = () => {}
  /** Called once when the connection ends, with why. */
  onClose: (error: ConnectionError) => void = () => {}

  private readonly decoder: FrameDecoder
  private readonly writer = new FrameWriter(1024)
  private flushScheduled = false
  /** Waiters in request order; `head` is the oldest still waiting. Sequence numbers are `base + index`. */
  private waiters: Array<Waiter> = []
  private head = 0
  private base = 0
  private closedBy: ConnectionError | undefined

  constructor(
    private readonly socket: Duplex,
    private readonly label: string,
    maxFrameBytes: number
  ) {
    this.decoder = new FrameDecoder(maxFrameBytes)
    socket.on("data", (chunk: Buffer) => this.onData(chunk))
    socket.on("error", (e) => this.fail("Closed", `connection to ${label} failed: ${e.message}`, e))
    socket.on("close", () => this.fail("Closed", `connection to ${label} closed`))
    // The server half-closing means it will send nothing more: no reply can come.
    socket.on("end", () => this.fail("Closed", `connection to ${label} closed by the server`))
  }

  /** False once the socket has ended for any reason; a dead connection is never reused. */
  get alive(): boolean {
    return this.closedBy === undefined
  }

  /** Requests sent whose replies have not come back yet. */
  get inFlight(): number {
    return this.waiters.length - this.head
  }

  /**
   * Queues one request. The waiter is called exactly once: with the reply, or with the error that ended the
   * connection. Returns the request's sequence number, for `abandon`. With no waiter, no reply is expected
   * (SUBSCRIBE and UNSUBSCRIBE get none).
   */
  send(command: string, args: ReadonlyArray<string>, waiter: Waiter | undefined): number {
    if (this.closedBy !== undefined) {
      waiter?.(this.closedBy)
      return -1
    }
    this.writer.command(command, args)
    if (!this.flushScheduled) {
      this.flushScheduled = true
      process.nextTick(this.flush)
    }
    if (waiter === undefined) return -1
    this.waiters.push(waiter)
    return this.base + this.waiters.length - 1
  }

  /** Forgets the waiter of request `seq`: its reply will still be read (to keep the order) and dropped. */
  abandon(seq: number): void {
    const i = seq - this.base
    if (i >= this.head && i < this.waiters.length) this.waiters[i] = abandoned
  }

  /** Closes the socket; requests still in flight fail with `Closed`. */
  close(): void {
    this.fail("Closed", `connection to ${this.label} closed by the client`)
  }

  private readonly flush = (): void => {
    this.flushScheduled = false
    if (this.closedBy !== undefined || this.writer.length === 0) return
    this.socket.write(this.writer.take())
  }

  private onData(chunk: Buffer): void {
    const { frames, violation } = this.decoder.push(chunk)
    for (const body of frames) {
      const r = decodeResponse(body)
      if (r === undefined) return this.fail("Protocol", `undecodable reply from ${this.label}`)
      const reply: Reply = {
        status: r.status,
        result: typeof r.result === "string" ? r.result : Buffer.from(r.result).toString("utf8"),
        clientId: r.clientId,
        topic: r.topic
      }
      if (reply.topic !== "") this.onPush(reply)
      else if (this.head < this.waiters.length) this.shift()(reply)
      else return this.fail("Protocol", `unexpected reply from ${this.label}: ${reply.status} ${reply.result}`)
      if (this.closedBy !== undefined) return
    }
    if (violation !== undefined) this.fail("Protocol", `reply frame from ${this.label} over the size limit`)
  }

  private shift(): Waiter {
    const w = this.waiters[this.head]!
    this.head++
    // Compact once the consumed prefix dominates, so a long-lived connection's queue stays small.
    if (this.head === this.waiters.length) {
      this.base += this.head
      this.waiters = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.waiters.length) {
      this.base += this.head
      this.waiters = this.waiters.slice(this.head)
      this.head = 0
    }
    return w
  }

  private fail(reason: ConnectionError["reason"], message: string, cause?: unknown): void {
    if (this.closedBy !== undefined) return
    const error = new ConnectionError(cause === undefined ? { reason, message } : { reason, message, cause })
    this.closedBy = error
    this.socket.destroy()
    const pending = this.waiters.slice(this.head)
    this.base += this.waiters.length
    this.waiters = []
    this.head = 0
    for (const w of pending) w(error)
    this.onClose(error)
  }
}

/** Sends one request and waits for its reply. Interrupting it abandons the reply (the connection stays usable). */
export const request = (
  conn: WireConnection,
  command: string,
  args: ReadonlyArray<string>
): Effect.Effect<Reply, ConnectionError> =>
  Effect.async<Reply, ConnectionError>((resume) => {
    const seq = conn.send(command, args, (outcome) =>
      resume(outcome instanceof ConnectionError ? Effect.fail(outcome) : Effect.succeed(outcome))
    )
    return Effect.sync(() => conn.abandon(seq))
  })

/** Opens a TCP connection (no AUTH yet). */
const dialTcp = (options: ConnectOptions, label: string): Effect.Effect<WireConnection, ConnectionError> =>
  Effect.async<WireConnection, ConnectionError>((resume) => {
    const socket = net.connect({ host: options.host, port: options.port, noDelay: true })
    const onError = (e: Error) =>
      resume(
        Effect.fail(
          new ConnectionError({ reason: "Connect", message: `could not connect to ${label}: ${e.message}`, cause: e })
        )
      )
    socket.once("error", onError)
    socket.once("connect", () => {
      socket.off("error", onError)
      resume(Effect.succeed(new WireConnection(socket, label, options.maxFrameBytes)))
    })
    return Effect.sync(() => socket.destroy())
  })

/** `host:port`, with an IPv6 host in brackets. */
export const addressLabel = (host: string, port: number): string =>
  host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`

/**
 * Connects and authenticates (`AUTH user password`, always two arguments as Fleare's clients send). Fails with
 * `Unauthorized` when the server refuses the credentials, `ConnectionError` when it cannot be reached in time.
 * The caller owns the connection and must `close` it.
 */
export const open = (options: ConnectOptions): Effect.Effect<WireConnection, ConnectionError | Unauthorized> => {
  const label = addressLabel(options.host, options.port)
  return Effect.uninterruptibleMask((restore) =>
    Effect.gen(function* () {
      const conn = yield* restore(
        options.dial === undefined
          ? dialTcp(options, label)
          : Effect.map(options.dial(label), (stream) => new WireConnection(stream, label, options.maxFrameBytes))
      )
      const reply = yield* restore(request(conn, "auth", [options.user, options.password])).pipe(
        Effect.onInterrupt(() => Effect.sync(() => conn.close()))
      )
      if (reply.status !== "Ok") {
        conn.close()
        const error = replyError(reply.result)
        // An AUTH refusal is always an Unauthorized; anything else here means the peer is not a Fleare server.
        return yield* error._tag === "Unauthorized"
          ? Effect.fail(error)
          : Effect.fail(new ConnectionError({ reason: "Protocol", message: `AUTH answered: ${reply.result}` }))
      }
      conn.clientId = reply.clientId
      return conn
    })
  ).pipe(
    Effect.timeoutFail({
      duration: options.connectTimeout,
      onTimeout: () =>
        new ConnectionError({
          reason: "Timeout",
          message: `could not connect to ${label}: no answer within ${Duration.format(options.connectTimeout)}`
        })
    })
  )
}

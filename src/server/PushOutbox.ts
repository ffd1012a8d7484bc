/**
 * A connection's pub/sub side: the `Subscriber` the broker delivers to. Pushes go through the connection's one
 * write path (`Conn.write`, whole frames), in order with its replies:
 *
 * - while the connection is producing replies (a read's replies are being encoded, wait for the fiber or for
 *   durability: the actor says its output is `held`), a push waits in the queue and is written right after
 *   those replies, so it never overtakes the reply to a request the connection had already received (a
 *   publisher subscribed to its own topic gets the PUBLISH reply first, then its message);
 * - pushes delivered in one synchronous run are written together, in one write per `PUSH_BATCH_BYTES`, when the
 *   run ends (a microtask) or the batch is full: one write per publish per subscriber would cost a system call
 *   each;
 * - while the socket's unsent output is above a low-water mark (the peer reads slowly), pushes wait in the queue
 *   too, and the socket's `drain` writes them;
 * - a subscriber with more than `pubsub.subscriber_queue` pushes waiting, or more than
 *   `pubsub.subscriber_max_output_bytes` unsent (queue plus socket buffer), is slow: the broker disconnects it.
 */
import { type Delivery, Delivered, Gone, type Subscriber } from "../pubsub/Broker.js"
import { clientIdField, framePush } from "../protocol/Push.js"
import type { Conn } from "./Transport.js"

/** Unsent socket output below which queued pushes are written (above it, they wait for `drain`). */
export const PUSH_LOW_WATER = 64 * 1024
/**
 * Pushes are written in batches: those delivered in one synchronous run (a publisher's read of many PUBLISH
 * frames) go out in one write at its end (a microtask), or as soon as this many bytes are waiting.
 */
export const PUSH_BATCH_BYTES = 64 * 1024

/** How far a subscriber may fall behind (`pubsub` in the configuration). */
export interface PushLimits {
  /** Pushes that may wait in the queue. */
  readonly queue: number
  /** Unsent bytes (queued pushes plus the socket's output buffer). */
  readonly maxOutputBytes: number
}

/** What the outbox asks of its connection actor. */
export interface PushOwner {
  /** True while the connection has replies encoded but not yet written. */
  readonly outputHeld: () => boolean
  /** True while the connection's session is live at `now` (an expired session receives nothing more). */
  readonly sessionLive: (now: bigint) => boolean
}

/** The subscriber side of one connection; made on its first SUBSCRIBE. */
export class PushOutbox implements Subscriber {
  private readonly idField: Buffer
  /** Framed pushes waiting, oldest at `head`. */
  private queue: Array<Buffer> = []
  private head = 0
  private queuedBytes = 0
  private closed = false
  private flushScheduled = false
  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false
    this.flush()
  }

  constructor(
    readonly clientId: string,
    private readonly conn: Conn,
    private readonly owner: PushOwner,
    private readonly limits: PushLimits
  ) {
    this.idField = clientIdField(clientId)
    conn.setOnDrain(() => this.flush())
  }

  /** Pushes waiting in the queue. */
  get waiting(): number {
    return this.queue.length - this.head
  }

  deliver(body: Buffer, now: bigint): Delivery {
    if (this.closed || !this.owner.sessionLive(now)) return Gone
    const frame = framePush(this.idField, body)
    this.queue.push(frame)
    this.queuedBytes += frame.length
    if (this.queuedBytes >= PUSH_BATCH_BYTES) this.flush()
    else if (!this.flushScheduled) {
      this.flushScheduled = true
      queueMicrotask(this.scheduledFlush)
    }
    const conn = this.conn
    if (this.waiting > this.limits.queue)
      return {
        _tag: "Slow",
        reason: `${this.waiting} pushes waiting, over pubsub.subscriber_queue (${this.limits.queue})`
      }
    const unsent = this.queuedBytes + conn.pendingOutputBytes()
    return unsent > this.limits.maxOutputBytes ? this.slowBytes(unsent) : Delivered
  }

  private slowBytes(unsent: number): Delivery {
    return {
      _tag: "Slow",
      reason: `${unsent} bytes unsent, over pubsub.subscriber_max_output_bytes (${this.limits.maxOutputBytes})`
    }
  }

  /**
   * Writes the waiting pushes while the connection's output is free and the socket keeps up, up to
   * `PUSH_BATCH_BYTES` per write.
   */
  flush(): void {
    if (this.closed || this.owner.outputHeld()) return
    const conn = this.conn
    const queue = this.queue
    while (this.head < queue.length && conn.pendingOutputBytes() < PUSH_LOW_WATER) {
      const start = this.head
      let bytes = queue[start]!.length
      let end = start + 1
      while (end < queue.length && bytes + queue[end]!.length <= PUSH_BATCH_BYTES) bytes += queue[end++]!.length
      const out = end === start + 1 ? queue[start]! : Buffer.concat(queue.slice(start, end), bytes)
      for (let i = start; i < end; i++) queue[i] = EMPTY
      this.head = end
      this.queuedBytes -= bytes
      conn.write(out)
    }
    if (this.head === this.queue.length) {
      this.queue = []
      this.head = 0
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head)
      this.head = 0
    }
  }

  /** Drops the queue; later deliveries answer `Gone`. */
  close(): void {
    this.closed = true
    this.queue = []
    this.head = 0
    this.queuedBytes = 0
  }

  disconnect(): void {
    this.close()
    this.conn.kill()
  }
}

const EMPTY = Buffer.alloc(0)

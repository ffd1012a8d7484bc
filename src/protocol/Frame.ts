/**
 * Length-prefixed framing: every message is a 4-byte unsigned big-endian length, then that many bytes.
 *
 * `FrameDecoder` is fed TCP chunks as they arrive, in any split, and hands back whole frame bodies. It is
 * synchronous and bounded: a frame over the limit is rejected as soon as its header is read, before its body
 * is buffered, and a frame split over many chunks is assembled into one buffer of its exact size (no
 * quadratic re-concatenation).
 */

/** Why a frame header was refused; the connection is closed after the error reply. */
export type FrameViolation =
  | { readonly _tag: "EmptyFrame" }
  | { readonly _tag: "FrameTooLarge"; readonly size: number; readonly limit: number }

/** Result of feeding one chunk: the complete bodies in order, and a violation that stops decoding. */
export interface DecodeResult {
  readonly frames: Array<Buffer>
  readonly violation: FrameViolation | undefined
}

const HEADER = 4

/**
 * Complete frame bodies as spans: frame `i` is `bufs[i][starts[i], ends[i])`. A body that arrived whole in one
 * chunk is a span of that chunk (no view object is made per frame: the server's per-request path); one
 * assembled from several chunks is its own buffer.
 */
export class FrameSpans {
  /** How many frames the list holds (the arrays may be longer: a reused list keeps its capacity). */
  length = 0
  bufs: Array<Buffer> = []
  starts: Array<number> = []
  ends: Array<number> = []

  add(buf: Buffer, start: number, end: number): void {
    const i = this.length++
    this.bufs[i] = buf
    this.starts[i] = start
    this.ends[i] = end
  }

  /** Empties the list, to be filled again (a scratch list reused across reads); it lets go of the buffers. */
  clear(): void {
    for (let i = 0; i < this.length; i++) this.bufs[i] = NO_BUFFER
    this.length = 0
  }

  /** A copy that does not change when this list is cleared and reused. */
  copy(): FrameSpans {
    const c = new FrameSpans()
    c.length = this.length
    c.bufs = this.bufs.slice(0, this.length)
    c.starts = this.starts.slice(0, this.length)
    c.ends = this.ends.slice(0, this.length)
    return c
  }
}

const NO_BUFFER = Buffer.alloc(0)

export class FrameDecoder {
  /** A header split across chunks: its value so far and how many of its bytes have arrived. */
  private header = 0
  private headerFilled = 0
  /** The body being assembled across chunks, or undefined between frames. */
  private body: Buffer | undefined = undefined
  private bodyFilled = 0
  private stopped = false

  /**
   * The largest frame accepted. Writable: the server starts a connection at the small pre-AUTH limit and raises
   * it once the client has authenticated (frames whose header was already read keep the limit they met).
   */
  constructor(public maxFrameBytes: number) {}

  /** Bytes held for an incomplete frame: what this connection costs while a frame is in transit. */
  get bufferedBytes(): number {
    return this.headerFilled + this.bodyFilled
  }

  /** Feeds one chunk. After a violation the decoder stays stopped and ignores further input. */
  push(chunk: Buffer): DecodeResult {
    const spans = new FrameSpans()
    const violation = this.pushSpans(chunk, spans)
    const frames: Array<Buffer> = []
    for (let i = 0; i < spans.length; i++) frames.push(spans.bufs[i]!.subarray(spans.starts[i], spans.ends[i]))
    return { frames, violation }
  }

  /**
   * Feeds one chunk, adding its complete frames to `frames`; returns the violation that stopped decoding, if
   * any. After a violation the decoder stays stopped and ignores further input.
   */
  pushSpans(chunk: Buffer, frames: FrameSpans): FrameViolation | undefined {
    if (this.stopped) return undefined
    let pos = 0
    const end = chunk.length
    while (pos < end) {
      if (this.body !== undefined) {
        const need = this.body.length - this.bodyFilled
        const take = Math.min(need, end - pos)
        chunk.copy(this.body, this.bodyFilled, pos, pos + take)
        this.bodyFilled += take
        pos += take
        if (this.bodyFilled === this.body.length) {
          frames.add(this.body, 0, this.body.length)
          this.body = undefined
          this.bodyFilled = 0
        }
        continue
      }
      let size: number
      if (this.headerFilled === 0 && end - pos >= HEADER) {
        size = chunk.readUInt32BE(pos)
        pos += HEADER
      } else {
        while (this.headerFilled < HEADER && pos < end) {
          this.header = this.header * 256 + chunk[pos++]!
          this.headerFilled++
        }
        if (this.headerFilled < HEADER) break
        size = this.header
        this.header = 0
        this.headerFilled = 0
      }
      const violation = this.check(size)
      if (violation !== undefined) {
        this.stopped = true
        return violation
      }
      if (end - pos >= size) {
        // The whole body is in this chunk: a span of it, no copy.
        frames.add(chunk, pos, pos + size)
        pos += size
      } else {
        this.body = Buffer.allocUnsafe(size)
        this.bodyFilled = 0
      }
    }
    return undefined
  }

  private check(size: number): FrameViolation | undefined {
    if (size === 0) return { _tag: "EmptyFrame" }
    if (size > this.maxFrameBytes) return { _tag: "FrameTooLarge", size, limit: this.maxFrameBytes }
    return undefined
  }
}

/** The text of the `ProtocolError` reply for a refused frame. */
export const violationMessage = (v: FrameViolation): string =>
  v._tag === "EmptyFrame"
    ? "frame of length 0 is not allowed"
    : `frame of ${v.size} bytes exceeds the limit of ${v.limit} bytes`

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

export class FrameDecoder {
  /** A header split across chunks: its value so far and how many of its bytes have arrived. */
  private header = 0
  private headerFilled = 0
  /** The body being assembled across chunks, or undefined between frames. */
  private body: Buffer | undefined = undefined
  private bodyFilled = 0
  private stopped = false

  constructor(readonly maxFrameBytes: number) {}

  /** Bytes held for an incomplete frame: what this connection costs while a frame is in transit. */
  get bufferedBytes(): number {
    return this.headerFilled + this.bodyFilled
  }

  /** Feeds one chunk. After a violation the decoder stays stopped and ignores further input. */
  push(chunk: Buffer): DecodeResult {
    const frames: Array<Buffer> = []
    if (this.stopped) return { frames, violation: undefined }
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
          frames.push(this.body)
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
        return { frames, violation }
      }
      if (end - pos >= size) {
        // The whole body is in this chunk: hand out a view, no copy.
        frames.push(chunk.subarray(pos, pos + size))
        pos += size
      } else {
        this.body = Buffer.allocUnsafe(size)
        this.bodyFilled = 0
      }
    }
    return { frames, violation: undefined }
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

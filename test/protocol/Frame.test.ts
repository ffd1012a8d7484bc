import { describe, expect, it } from "@effect/vitest"
import { FrameDecoder, FrameSpans, violationMessage } from "../../src/protocol/Frame.js"

const frame = (body: Buffer): Buffer => {
  const h = Buffer.alloc(4)
  h.writeUInt32BE(body.length)
  return Buffer.concat([h, body])
}

const bodies = [Buffer.from("a"), Buffer.from("hello world"), Buffer.alloc(300, 7), Buffer.from([0, 1, 2, 3, 4])]
const stream = Buffer.concat(bodies.map(frame))

describe("FrameDecoder", () => {
  it("decodes many frames from one chunk", () => {
    const d = new FrameDecoder(1024)
    const r = d.push(stream)
    expect(r.violation).toBeUndefined()
    expect(r.frames.map((f) => f.toString("hex"))).toEqual(bodies.map((b) => b.toString("hex")))
    expect(d.bufferedBytes).toBe(0)
  })

  it("pushSpans gives frames whole in a chunk as spans of it, split ones as their own buffer; copy() is independent", () => {
    const d = new FrameDecoder(1024)
    const spans = new FrameSpans()
    const chunk = Buffer.concat([
      frame(Buffer.from("ab")),
      frame(Buffer.from("cde")),
      frame(Buffer.from("fgh")).subarray(0, 5)
    ])
    expect(d.pushSpans(chunk, spans)).toBeUndefined()
    expect([spans.length, spans.bufs[0], spans.bufs[1]]).toEqual([2, chunk, chunk])
    expect([spans.starts, spans.ends]).toEqual([
      [4, 10],
      [6, 13]
    ])
    const kept = spans.copy()
    spans.clear()
    expect(d.pushSpans(frame(Buffer.from("fgh")).subarray(5), spans)).toBeUndefined()
    expect(spans.length).toBe(1)
    expect(spans.bufs[0]!.toString("latin1", spans.starts[0], spans.ends[0])).toBe("fgh")
    expect(kept.bufs.map((b, i) => b.toString("latin1", kept.starts[i], kept.ends[i]))).toEqual(["ab", "cde"])
  })

  it("decodes the same frames whatever the chunking: every split point, and byte by byte", () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder(1024)
      const got = [...d.push(stream.subarray(0, cut)).frames, ...d.push(stream.subarray(cut)).frames]
      expect(got.map((f) => f.toString("hex"))).toEqual(bodies.map((b) => b.toString("hex")))
    }
    const d = new FrameDecoder(1024)
    const got: Array<Buffer> = []
    for (let i = 0; i < stream.length; i++) got.push(...d.push(stream.subarray(i, i + 1)).frames)
    expect(Buffer.concat(got).equals(Buffer.concat(bodies))).toBe(true)
  })

  it("copies split bodies, so a later chunk's reuse does not corrupt an earlier frame", () => {
    const d = new FrameDecoder(1024)
    const f = frame(Buffer.from("abcdef"))
    const chunk = Buffer.from(f.subarray(0, 7))
    expect(d.push(chunk).frames).toEqual([])
    chunk.fill(0)
    const [body] = d.push(Buffer.from(f.subarray(7))).frames
    expect(body!.toString()).toBe("abcdef")
  })

  it("refuses an oversized frame as soon as its header arrives, naming size and limit", () => {
    const d = new FrameDecoder(100)
    const h = Buffer.alloc(4)
    h.writeUInt32BE(101)
    const r = d.push(h)
    expect(r.violation).toEqual({ _tag: "FrameTooLarge", size: 101, limit: 100 })
    expect(violationMessage(r.violation!)).toBe("frame of 101 bytes exceeds the limit of 100 bytes")
    // Stopped: nothing more is decoded or buffered.
    expect(d.push(stream).frames).toEqual([])
    expect(d.bufferedBytes).toBe(0)
  })

  it("accepts a frame exactly at the limit", () => {
    const d = new FrameDecoder(300)
    expect(d.push(frame(Buffer.alloc(300))).frames).toHaveLength(1)
  })

  it("refuses a zero-length frame after the frames before it", () => {
    const d = new FrameDecoder(100)
    const r = d.push(Buffer.concat([frame(Buffer.from("x")), Buffer.alloc(4), frame(Buffer.from("y"))]))
    expect(r.frames.map(String)).toEqual(["x"])
    expect(r.violation).toEqual({ _tag: "EmptyFrame" })
    expect(violationMessage(r.violation!)).toBe("frame of length 0 is not allowed")
  })

  it("assembles a large frame from many chunks into one buffer", () => {
    const body = Buffer.alloc(5 * 1024 * 1024, 0xab)
    const d = new FrameDecoder(10 * 1024 * 1024)
    const wire = frame(body)
    const frames: Array<Buffer> = []
    for (let i = 0; i < wire.length; i += 65536) frames.push(...d.push(wire.subarray(i, i + 65536)).frames)
    expect(frames).toHaveLength(1)
    expect(frames[0]!.equals(body)).toBe(true)
  })
})

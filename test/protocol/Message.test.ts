import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire"
import { describe, expect, it } from "@effect/vitest"
import { FrameDecoder } from "../../src/protocol/Frame.js"
import {
  decodeCommand,
  decodeCommandInto,
  decodeResponse,
  encodeCommand,
  encodeResponse,
  FrameWriter,
  MAX_FRAME_BODY,
  type NameSpan,
  TOO_MANY_ARGS
} from "../../src/protocol/Message.js"

const unframe = (hex: string): Buffer => {
  const frames = new FrameDecoder(1 << 20).push(Buffer.from(hex, "hex")).frames
  expect(frames).toHaveLength(1)
  return frames[0]!
}

/** The oracle: @bufbuild/protobuf's writer, field by field as protoc-generated code would write them. */
const oracleCommand = (command: string, args: ReadonlyArray<string>): Buffer => {
  const w = new BinaryWriter()
  if (command !== "") w.tag(1, WireType.LengthDelimited).string(command)
  for (const a of args) w.tag(2, WireType.LengthDelimited).string(a)
  return Buffer.from(w.finish())
}

const oracleResponse = (clientId: string, topic: string, status: string, result: Uint8Array): Buffer => {
  const w = new BinaryWriter()
  if (clientId !== "") w.tag(1, WireType.LengthDelimited).string(clientId)
  if (topic !== "") w.tag(2, WireType.LengthDelimited).string(topic)
  if (status !== "") w.tag(3, WireType.LengthDelimited).string(status)
  if (result.length) w.tag(4, WireType.LengthDelimited).bytes(result)
  return Buffer.from(w.finish())
}

// A deterministic generator of awkward strings: empty, ASCII, multi-byte, astral, a lone surrogate, long (multi-byte
// varints), and ASCII just at and over the writer's short-text limit.
let seed = 42
const rand = (n: number) => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed % n
}
const pieces = [
  "",
  "a",
  "key:1",
  "é",
  "日本",
  "😀",
  "\ud800",
  "\u0000",
  " ",
  "x".repeat(64),
  "x".repeat(200),
  "y".repeat(20000)
]
const randomString = () => Array.from({ length: rand(4) }, () => pieces[rand(pieces.length)]).join("")

describe("Command codec", () => {
  it("decodes the frame captured from the real Fleare client: auth root root", () => {
    expect(decodeCommand(unframe("000000120a04617574681204726f6f741204726f6f74"))).toEqual({
      command: "auth",
      args: ["root", "root"]
    })
    expect(encodeCommand("auth", ["root", "root"]).toString("hex")).toBe("000000120a04617574681204726f6f741204726f6f74")
  })

  it("decodeCommandInto leaves the name as bytes: the last name field wins, an invalid UTF-8 name is refused", () => {
    const name = { start: -1, end: -1 }
    const frame = unframe("000000060a0450494e47")
    expect(decodeCommandInto(frame, name)).toEqual([])
    expect(frame.toString("utf8", name.start, name.end)).toBe("PING")
    // command "GET", args ["k"], command "SET" again: proto3 keeps the last occurrence of a singular field.
    const twice = Buffer.from("0a034745541201 6b0a03534554".replace(/ /g, ""), "hex")
    expect(decodeCommandInto(twice, name)).toEqual(["k"])
    expect(twice.toString("utf8", name.start, name.end)).toBe("SET")
    expect(decodeCommandInto(Buffer.from("0a02c328", "hex"), name)).toBeUndefined()
    expect(decodeCommand(Buffer.from("0a02c3a9", "hex"))).toEqual({ command: "é", args: [] })
    // No name at all: an empty name, as proto3 reads a missing string.
    expect(decodeCommandInto(Buffer.from("1201 78".replace(/ /g, ""), "hex"), name)).toEqual(["x"])
    expect([name.start, name.end]).toEqual([0, 0])
  })

  it("decodes PING with no args", () => {
    expect(decodeCommand(unframe("000000060a0450494e47"))).toEqual({ command: "PING", args: [] })
  })

  it("agrees with @bufbuild/protobuf byte for byte on generated messages", () => {
    for (let i = 0; i < 300; i++) {
      const command = randomString()
      const args = Array.from({ length: rand(6) }, randomString)
      const oracle = oracleCommand(command, args)
      const ours = encodeCommand(command, args)
      expect(ours.subarray(4).equals(oracle)).toBe(true)
      expect(ours.readUInt32BE(0)).toBe(oracle.length)
      expect(decodeCommand(oracle)).toEqual({ command, args })
    }
  })

  it("skips unknown fields of every wire type", () => {
    const w = new BinaryWriter()
    w.tag(1, WireType.LengthDelimited).string("GET")
    w.tag(7, WireType.Varint).uint32(300)
    w.tag(8, WireType.Bit64).fixed64(1n)
    w.tag(9, WireType.Bit32).fixed32(5)
    w.tag(10, WireType.LengthDelimited).string("ignored")
    w.tag(2, WireType.LengthDelimited).string("k")
    expect(decodeCommand(Buffer.from(w.finish()))).toEqual({ command: "GET", args: ["k"] })
  })

  it("rejects what is not a Command: garbage, truncation, bad UTF-8, group wire types", () => {
    expect(decodeCommand(Buffer.from("hello world"))).toBeUndefined()
    expect(decodeCommand(Buffer.from([0x0a, 0x05, 0x41]))).toBeUndefined()
    expect(decodeCommand(Buffer.from([0x0a, 0x02, 0xc3, 0x28]))).toBeUndefined()
    expect(decodeCommand(Buffer.from([0x0b]))).toBeUndefined()
    expect(
      decodeCommand(Buffer.from([0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]))
    ).toBeUndefined()
    expect(decodeCommand(Buffer.from([0x00, 0x01]))).toBeUndefined()
  })
})

describe("Response codec", () => {
  it("encodes Fleare's observed PING reply", () => {
    const body = encodeResponse({ clientId: "11-127.0.0.1:40216", topic: "", status: "Ok", result: "PONG " }).subarray(
      4
    )
    expect(body.toString("hex")).toBe(
      "0a12" +
        Buffer.from("11-127.0.0.1:40216").toString("hex") +
        "1a024f6b" +
        "2205" +
        Buffer.from("PONG ").toString("hex")
    )
  })

  it("writes a bare Ok as just the status field", () => {
    expect(encodeResponse({ clientId: "", topic: "", status: "Ok", result: "" }).toString("hex")).toBe(
      "000000041a024f6b"
    )
  })

  it("encodes Fleare's observed Connected reply", () => {
    const body = encodeResponse({ clientId: "11-127.0.0.1:40216", topic: "", status: "Ok", result: "Connected" })
    expect(body.subarray(4).toString("hex")).toBe(
      "0a1231312d3132372e302e302e313a34303231361a024f6b2209436f6e6e6563746564"
    )
  })

  it("agrees with @bufbuild/protobuf on generated responses, several per writer", () => {
    const w = new FrameWriter(16)
    const expected: Array<Buffer> = []
    for (let i = 0; i < 200; i++) {
      const clientId = randomString()
      const topic = randomString()
      const status = rand(2) ? "Ok" : "Error"
      const result = randomString()
      w.response(clientId, topic, status, rand(2) ? result : Buffer.from(result))
      const body = oracleResponse(clientId, topic, status, Buffer.from(result))
      const h = Buffer.alloc(4)
      h.writeUInt32BE(body.length)
      expected.push(h, body)
      const decoded = decodeResponse(body)
      expect(decoded?.clientId).toBe(clientId)
      expect(decoded?.topic).toBe(topic)
      expect(decoded?.status).toBe(status)
      expect(Buffer.from(decoded!.result).toString()).toBe(result)
    }
    expect(w.take().equals(Buffer.concat(expected))).toBe(true)
    expect(w.length).toBe(0)
  })

  it("FrameWriter.ok with a connection's okPrefix writes the bytes response writes for an Ok reply", () => {
    const viaOk = new FrameWriter(16)
    const viaResponse = new FrameWriter(16)
    for (let i = 0; i < 200; i++) {
      // Ids with non-ASCII text and long ids (a 2-byte length varint) as well as the usual short ones.
      const clientId = i % 50 === 0 ? "7-[::1]:1".repeat(20) : randomString()
      const result = i % 3 === 0 ? "" : randomString()
      const asBytes = rand(2) === 1
      expect(viaOk.ok(FrameWriter.okPrefix(clientId), asBytes ? Buffer.from(result) : result)).toBe(true)
      viaResponse.response(clientId, "", "Ok", asBytes ? Buffer.from(result) : result)
    }
    expect(viaOk.take().toString("hex")).toBe(viaResponse.take().toString("hex"))
  })

  it("take() hands out views of one slab for small replies, and a large reply without its buffer's spare room", () => {
    const w = new FrameWriter()
    w.response("1-127.0.0.1:1", "", "Ok", "a")
    const first = w.take()
    w.response("1-127.0.0.1:1", "", "Ok", "b")
    const second = w.take()
    // Views of the same slab, one after the other: the first is not overwritten by the second reply.
    expect(second.buffer).toBe(first.buffer)
    expect(decodeResponse(first.subarray(4))?.result).toEqual(Buffer.from("a"))
    expect(decodeResponse(second.subarray(4))?.result).toEqual(Buffer.from("b"))
    // A 1 MiB reply grows the writer to twice what it needs; what is handed out keeps only its own bytes.
    const big = Buffer.alloc(1 << 20, 7)
    expect(w.response("1-127.0.0.1:1", "", "Ok", big)).toBe(true)
    const out = w.take()
    expect(out.length).toBeGreaterThan(1 << 20)
    expect(out.buffer.byteLength).toBeLessThan(out.length + 4096)
    expect(Buffer.compare(decodeResponse(out.subarray(4))!.result as Buffer, big)).toBe(0)
    // The writer goes on in a fresh slab.
    w.response("1-127.0.0.1:1", "", "Ok", "c")
    expect(decodeResponse(w.take().subarray(4))?.result).toEqual(Buffer.from("c"))
  })

  it("decodes ASCII and multi-byte arguments to the same strings as UTF-8 decoding", () => {
    const args = ["key:000000012345", "abc", "", "héllo", "日本", "\u{1F600}", "x".repeat(300)]
    const name: NameSpan = { start: 0, end: 0 }
    const frame = encodeCommand("SET", args)
    expect(decodeCommandInto(frame, name, 4, frame.length)).toEqual(args)
  })
})

describe("bounds (issue 10)", () => {
  it("decodeCommandInto stops at the first argument past maxArgs and says so", () => {
    const frame = encodeCommand("PING", ["a", "b", "c", "d"])
    const name: NameSpan = { start: 0, end: 0 }
    expect(decodeCommandInto(frame, name, 4, frame.length, 4)).toEqual(["a", "b", "c", "d"])
    expect(decodeCommandInto(frame, name, 4, frame.length, 3)).toBe(TOO_MANY_ARGS)
  })

  it("FrameWriter.response refuses a reply too big for one frame instead of throwing, and stays usable", () => {
    const w = new FrameWriter(64)
    // A result whose length claims more than a 4-byte frame length can carry (never read: refused up front).
    const huge = { length: MAX_FRAME_BODY + 1 } as unknown as Uint8Array
    expect(w.response("1-127.0.0.1:1", "", "Ok", huge)).toBe(false)
    expect(w.length).toBe(0)
    expect(w.response("1-127.0.0.1:1", "", "Ok", "fine")).toBe(true)
    expect(decodeResponse(w.take().subarray(4))?.result).toEqual(Buffer.from("fine"))
  })
})

/**
 * Push frames encoded once per publish (src/protocol/Push.ts): a subscriber's frame, its client-id field plus the
 * shared body, is byte for byte the `Response` that @bufbuild/protobuf writes for the same fields.
 */
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire"
import { describe, expect, it } from "@effect/vitest"
import { FrameDecoder } from "../../src/protocol/Frame.js"
import { clientIdField, encodePushBody, framePush } from "../../src/protocol/Push.js"

const oracle = (clientId: string, topic: string, result: string): Buffer => {
  const w = new BinaryWriter()
  if (clientId !== "") w.tag(1, WireType.LengthDelimited).string(clientId)
  if (topic !== "") w.tag(2, WireType.LengthDelimited).string(topic)
  w.tag(3, WireType.LengthDelimited).string("Ok")
  const bytes = Buffer.from(result, "utf8")
  if (bytes.length) w.tag(4, WireType.LengthDelimited).bytes(bytes)
  return Buffer.from(w.finish())
}

const cases: ReadonlyArray<readonly [string, string, string]> = [
  ["1-127.0.0.1:5000", "news", '{"a":1}'],
  ["12345-[::1]:65535", "tópico ✓ 😀", '"héllo"'],
  ["7-127.0.0.1:1", "t", "x".repeat(127)],
  ["7-127.0.0.1:1", "t".repeat(128), "y".repeat(128)],
  ["7-127.0.0.1:1", "big", "z".repeat(70_000)],
  ["7-127.0.0.1:1", "empty", ""]
]

describe("push frames", () => {
  for (const [clientId, topic, result] of cases) {
    it(`frame = length + client-id field + shared body, as protobuf writes it (topic ${topic.length} chars, result ${result.length})`, () => {
      const body = encodePushBody(topic, result)
      const frame = framePush(clientIdField(clientId), body)
      const frames = new FrameDecoder(1 << 20).push(frame).frames
      expect(frames).toHaveLength(1)
      expect(Buffer.from(frames[0]!)).toEqual(oracle(clientId, topic, result))
    })
  }

  it("one body serves every subscriber: only the client-id field differs", () => {
    const body = encodePushBody("shared", '{"n":1}')
    const a = framePush(clientIdField("1-127.0.0.1:1000"), body)
    const b = framePush(clientIdField("22-127.0.0.1:2000"), body)
    expect(a.subarray(a.length - body.length)).toEqual(body)
    expect(b.subarray(b.length - body.length)).toEqual(body)
    expect(Buffer.from(new FrameDecoder(1 << 20).push(b).frames[0]!)).toEqual(
      oracle("22-127.0.0.1:2000", "shared", '{"n":1}')
    )
  })
})

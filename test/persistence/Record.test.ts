import { describe, expect, it } from "@effect/vitest"
import { crc32c } from "../../src/persistence/Crc32c.js"
import {
  decodeRecord,
  encodeRecords,
  HEADER_BYTES,
  MAGIC,
  RecordWriter,
  type WalRecord
} from "../../src/persistence/Record.js"

const records: ReadonlyArray<WalRecord> = [
  { op: "set", key: "plain", value: { kind: "Default", value: "hello world" }, expiresAt: 0n },
  { op: "set", key: "s", value: { kind: "String", value: "" }, expiresAt: 1_700_000_000_123_456_789n },
  { op: "set", key: "n", value: { kind: "Number", value: -0 }, expiresAt: 0n },
  { op: "set", key: "n2", value: { kind: "Number", value: 1e21 }, expiresAt: 0n },
  { op: "set", key: "m", value: { kind: "Map", value: { b: [1, "x"], a: { z: null } } }, expiresAt: 5n },
  { op: "set", key: "l", value: { kind: "List", value: [1.5, true, "two", { k: "v" }] }, expiresAt: 0n },
  { op: "set", key: "j", value: { kind: "JSON", text: '{ "b": 1, "ref": "$ref:user:1" }' }, expiresAt: 0n },
  { op: "set", key: "ключ 🔑", value: { kind: "Default", value: "значение 🌍\u0000\n" }, expiresAt: 0n },
  // An expiry far in the future (now + 2^63 ns) still fits.
  { op: "expire", key: "s", expiresAt: 1_700_000_000_000_000_000n + 2n ** 63n },
  { op: "expire", key: "m", expiresAt: 0n },
  { op: "delete", key: "plain" },
  { op: "delete", key: "k".repeat(200) }
]

/** Decodes every record of `bytes` from `offset`; stops at the first thing that is not a whole record. */
const decodeAll = (bytes: Buffer, offset = 0) => {
  const out: Array<WalRecord> = []
  let at = offset
  while (at < bytes.length) {
    const d = decodeRecord(bytes, at, bytes.length)
    if (d._tag !== "Record") return { records: out, stop: d, at }
    out.push(d.record)
    at += d.size
  }
  return { records: out, stop: undefined, at }
}

describe("CRC-32C", () => {
  it("matches the standard check values", () => {
    expect(crc32c(Buffer.from("123456789"))).toBe(0xe3069283)
    expect(crc32c(Buffer.alloc(32))).toBe(0x8a9136aa)
    expect(crc32c(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43)
    expect(crc32c(Buffer.alloc(0))).toBe(0)
  })

  it("agrees with the bit-by-bit definition on every length and offset", () => {
    const slow = (b: Uint8Array) => {
      let c = ~0
      for (const byte of b) {
        c ^= byte
        for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1
      }
      return ~c >>> 0
    }
    const data = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 37 + 11) & 0xff))
    for (let start = 0; start < 9; start++)
      for (let end = start; end <= data.length; end += 7)
        expect(crc32c(data, start, end)).toBe(slow(data.subarray(start, end)))
  })
})

describe("record codec", () => {
  it("round-trips every kind of record", () => {
    const bytes = encodeRecords(records)
    const { records: back, stop } = decodeAll(bytes)
    expect(stop).toBeUndefined()
    expect(back).toEqual(records)
    expect(Object.is((back[2] as { value: { value: number } }).value.value, -0)).toBe(true)
  })

  it("lays a record out as documented", () => {
    const bytes = encodeRecords([{ op: "delete", key: "ab" }])
    expect(bytes.length).toBe(HEADER_BYTES + 3)
    expect(bytes.readUInt32LE(0)).toBe(3)
    expect(bytes.readUInt32LE(4)).toBe(crc32c(bytes, 0, 4))
    expect(bytes.readUInt32LE(8)).toBe(crc32c(bytes, 12, 15))
    expect([...bytes.subarray(12)]).toEqual([2, 0x61, 0x62])
  })

  it("a writer's buffer grows for large values and take() starts over", () => {
    const w = new RecordWriter(16)
    const big = "x".repeat(100_000)
    w.set("big", { kind: "String", value: big }, 0n)
    w.delete("big")
    const first = Buffer.from(w.take())
    expect(w.length).toBe(0)
    w.expire("e", 7n)
    const second = Buffer.from(w.take())
    expect(decodeAll(first).records).toEqual([
      { op: "set", key: "big", value: { kind: "String", value: big }, expiresAt: 0n },
      { op: "delete", key: "big" }
    ])
    expect(decodeAll(second).records).toEqual([{ op: "expire", key: "e", expiresAt: 7n }])
  })

  it("a record cut anywhere is Incomplete, never a wrong record", () => {
    const bytes = encodeRecords(records.slice(0, 3))
    const lastStart = encodeRecords(records.slice(0, 2)).length
    for (let cut = lastStart + 1; cut < bytes.length; cut++) {
      const torn = bytes.subarray(0, cut)
      const { records: back, stop, at } = decodeAll(torn)
      expect(back).toEqual(records.slice(0, 2))
      expect(at).toBe(lastStart)
      expect(stop?._tag).toBe("Incomplete")
      // Once the header is whole, it tells how many bytes the record needs.
      if (cut - lastStart >= HEADER_BYTES)
        expect(stop).toEqual({ _tag: "Incomplete", needed: bytes.length - lastStart })
    }
  })

  it("any flipped byte is detected: a header flip as BadHeader, a payload flip as BadChecksum", () => {
    const bytes = encodeRecords(records.slice(0, 3))
    const secondStart = encodeRecords(records.slice(0, 1)).length
    const secondEnd = encodeRecords(records.slice(0, 2)).length
    for (let i = secondStart; i < secondEnd; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const damaged = Buffer.from(bytes)
        damaged[i]! ^= mask
        const { records: back, stop, at } = decodeAll(damaged)
        expect(back).toEqual(records.slice(0, 1))
        expect(at).toBe(secondStart)
        const rel = i - secondStart
        if (rel < 8) expect(stop?._tag).toBe("BadHeader")
        else expect(stop).toEqual({ _tag: "BadChecksum", size: secondEnd - secondStart })
      }
    }
  })

  it("a payload with a valid checksum but an unknown op is BadPayload", () => {
    const bytes = encodeRecords([{ op: "delete", key: "k" }])
    bytes[HEADER_BYTES] = 9
    bytes.writeUInt32LE(crc32c(bytes, HEADER_BYTES, bytes.length), 8)
    expect(decodeRecord(bytes, 0, bytes.length)).toEqual({
      _tag: "BadPayload",
      size: bytes.length,
      detail: "unknown operation 9"
    })
  })

  it("the magic is 8 bytes", () => {
    expect(MAGIC.toString("latin1")).toBe("FLRWAL01")
  })
})

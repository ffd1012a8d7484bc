import { describe, expect, it } from "@effect/vitest"
import * as zlib from "node:zlib"
import { crc32, shardOf } from "../../src/store/Shards.js"

describe("Fleare's shard mapping", () => {
  it("CRC-32 matches the spec's constants and zlib on ASCII and non-ASCII keys", () => {
    expect(crc32("0")).toBe(0xf4dbdf21)
    expect(crc32("1")).toBe(0x83dcefb7)
    for (const k of ["", "a", "key:000000000001", "héllo", "日本語", "😀 emoji", "x".repeat(200)])
      expect(crc32(k)).toBe(zlib.crc32(Buffer.from(k)))
  })

  it("with 2 shards: h <= crc32('1') or h > crc32('0') goes to shard 1, else shard 0", () => {
    for (let i = 0; i < 2000; i++) {
      const key = `k${i}`
      const h = crc32(key)
      expect(shardOf(key, 2)).toBe(h <= 0x83dcefb7 || h > 0xf4dbdf21 ? 1 : 0)
    }
  })

  it("every key maps into range for any shard count, and one shard takes everything", () => {
    for (const n of [1, 3, 7, 16]) for (let i = 0; i < 200; i++) expect(shardOf(`key${i}`, n)).toBeLessThan(n)
    expect(shardOf("anything", 1)).toBe(0)
  })
})

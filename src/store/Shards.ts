/**
 * Fleare's key-to-shard mapping: a consistent-hash ring without virtual nodes. A key's hash is CRC-32 (IEEE)
 * of its UTF-8 bytes; shard `i` sits at CRC-32 of its id text `"i"`; the owner is the first shard whose point
 * is at or after the key's hash, wrapping to the lowest point.
 */

const table = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

/** CRC-32 (IEEE 802.3, as Go's `crc32.ChecksumIEEE`) of a string's UTF-8 bytes. */
export const crc32 = (s: string): number => {
  let c = 0xffffffff
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i)
    // ASCII (the common key) hashes straight from the string; anything else takes the UTF-8 bytes.
    if (code >= 0x80) return crc32Bytes(Buffer.from(s, "utf8"))
    c = table[(c ^ code) & 0xff]! ^ (c >>> 8)
  }
  return (c ^ 0xffffffff) >>> 0
}

const crc32Bytes = (bytes: Uint8Array): number => {
  let c = 0xffffffff
  for (let i = 0; i < bytes.length; i++) c = table[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

const rings = new Map<number, ReadonlyArray<{ readonly point: number; readonly shard: number }>>()

const ring = (shardCount: number) => {
  let r = rings.get(shardCount)
  if (r === undefined) {
    r = Array.from({ length: shardCount }, (_, i) => ({ point: crc32(String(i)), shard: i })).sort(
      (a, b) => a.point - b.point
    )
    rings.set(shardCount, r)
  }
  return r
}

/** The shard index owning `key` among `shardCount` shards. */
export const shardOf = (key: string, shardCount: number): number => {
  if (shardCount <= 1) return 0
  const h = crc32(key)
  const r = ring(shardCount)
  for (const node of r) if (node.point >= h) return node.shard
  return r[0]!.shard
}

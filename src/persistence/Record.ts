/**
 * The log's byte format. A log file (and a snapshot or backup, which are logs holding only SET records) starts
 * with the 8-byte magic `FLRWAL01`, then records:
 *
 *   u32 LE payload length · u32 LE CRC-32C of those 4 length bytes · u32 LE CRC-32C of the payload · payload
 *
 *   payload = u8 op, then
 *     SET    (1): u8 kind (Fleare's number), u64 LE expiresAt (epoch ns, 0 = none), u32 LE key bytes, key, value
 *     DELETE (2): key
 *     EXPIRE (3): u64 LE expiresAt, key
 *   and the changes in place (`Mutation.ts`), each with the key's expiry afterwards:
 *     LIST_PUSH  (4): u64 LE expiresAt, u32 LE key bytes, key, the pushed values as one JSON array
 *     LIST_POP   (5): u64 LE expiresAt, key
 *     MAP_SET    (6): u64 LE expiresAt, u32 LE key bytes, key, u32 LE field bytes, field, the value as JSON
 *     MAP_DEL    (7): u64 LE expiresAt, u32 LE key bytes, key, field
 *     STR_APPEND (8): u64 LE expiresAt, u32 LE key bytes, key, the appended text
 *   (keys and values UTF-8; the last field runs to the end of the payload)
 *
 * A record carries an operation's full effect: absolute expiry times (so a replay never revives an expired key)
 * and the whole value as stored (JSON.SETREF's references included), or for a change in place the change itself
 * (a 1-byte push onto a big list logs the byte, not the list). Logs written before the change records existed
 * hold only ops 1-3 and read as before. The length has its own checksum so a
 * damaged length is told apart from a record cut short by a crash.
 *
 * `RecordWriter` encodes into a growing buffer with no allocation per record; `decodeRecord` reads one record.
 */
import type { Json } from "../protocol/gojson/Json.js"
import { marshal } from "../protocol/gojson/Marshal.js"
import { parse } from "../protocol/gojson/Parse.js"
import type { Mutation } from "../store/Mutation.js"
import { KindNumber, NULL_LIST, storedText, type Value } from "../store/Value.js"
import { crc32c } from "./Crc32c.js"

/** The first bytes of every log, snapshot and backup file. */
export const MAGIC = Buffer.from("FLRWAL01", "latin1")

/** Bytes before a record's payload: length, length checksum, payload checksum. */
export const HEADER_BYTES = 12

const OP_SET = 1
const OP_DELETE = 2
const OP_EXPIRE = 3
const OP_LIST_PUSH = 4
const OP_LIST_POP = 5
const OP_MAP_SET = 6
const OP_MAP_DEL = 7
const OP_STR_APPEND = 8

const MAX_U64 = 0xffff_ffff_ffff_ffffn

// A working buffer that grew beyond this (a burst, a big value) is not kept after `take`.
const MAX_KEPT_BYTES = 4 * 1024 * 1024

/** One logged change. */
export type WalRecord =
  | { readonly op: "set"; readonly key: string; readonly value: Value; readonly expiresAt: bigint }
  | { readonly op: "delete"; readonly key: string }
  | { readonly op: "expire"; readonly key: string; readonly expiresAt: bigint }
  | { readonly op: "mutate"; readonly key: string; readonly change: Mutation; readonly expiresAt: bigint }

/** Appends encoded records to an in-memory buffer that `take` hands over whole. */
export class RecordWriter {
  private buf: Buffer
  private len = 0

  constructor(private readonly initialBytes = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialBytes)
  }

  /** Bytes encoded and not yet taken. */
  get length(): number {
    return this.len
  }

  /** Appends a SET record. */
  set(key: string, value: Value, expiresAt: bigint): void {
    const text = storedText(value)
    const start = this.begin(1 + 1 + 8 + 4 + 3 * (key.length + text.length))
    const buf = this.buf
    let p = start + HEADER_BYTES
    buf[p++] = OP_SET
    buf[p++] = KindNumber[value.kind]
    buf.writeBigUInt64LE(clampU64(expiresAt), p)
    p += 8
    const keyBytes = buf.write(key, p + 4, "utf8")
    buf.writeUInt32LE(keyBytes, p)
    p += 4 + keyBytes
    p += buf.write(text, p, "utf8")
    this.finish(start, p)
  }

  /** Appends a DELETE record. */
  delete(key: string): void {
    const start = this.begin(1 + 3 * key.length)
    let p = start + HEADER_BYTES
    this.buf[p++] = OP_DELETE
    p += this.buf.write(key, p, "utf8")
    this.finish(start, p)
  }

  /** Appends an EXPIRE record. */
  expire(key: string, expiresAt: bigint): void {
    const start = this.begin(1 + 8 + 3 * key.length)
    let p = start + HEADER_BYTES
    this.buf[p++] = OP_EXPIRE
    this.buf.writeBigUInt64LE(clampU64(expiresAt), p)
    p += 8
    p += this.buf.write(key, p, "utf8")
    this.finish(start, p)
  }

  /** Appends the record of a change in place (LIST_PUSH, LIST_POP, MAP_SET, MAP_DEL or STR_APPEND). */
  mutate(key: string, change: Mutation, expiresAt: bigint): void {
    switch (change.op) {
      case "push":
        return this.keyed(OP_LIST_PUSH, key, expiresAt, undefined, marshal(change.values as Array<Json>))
      case "pop": {
        const start = this.begin(1 + 8 + 3 * key.length)
        let p = start + HEADER_BYTES
        this.buf[p++] = OP_LIST_POP
        this.buf.writeBigUInt64LE(clampU64(expiresAt), p)
        p += 8
        p += this.buf.write(key, p, "utf8")
        return this.finish(start, p)
      }
      case "mapSet":
        return this.keyed(OP_MAP_SET, key, expiresAt, change.field, marshal(change.value))
      case "mapDel":
        return this.keyed(OP_MAP_DEL, key, expiresAt, undefined, change.field)
      case "append":
        return this.keyed(OP_STR_APPEND, key, expiresAt, undefined, change.text)
    }
  }

  // op, expiresAt, u32 key bytes, key, [u32 field bytes, field,] rest.
  private keyed(op: number, key: string, expiresAt: bigint, field: string | undefined, rest: string): void {
    const fieldMax = field === undefined ? 0 : 4 + 3 * field.length
    const start = this.begin(1 + 8 + 4 + 3 * key.length + fieldMax + 3 * rest.length)
    const buf = this.buf
    let p = start + HEADER_BYTES
    buf[p++] = op
    buf.writeBigUInt64LE(clampU64(expiresAt), p)
    p += 8
    const keyBytes = buf.write(key, p + 4, "utf8")
    buf.writeUInt32LE(keyBytes, p)
    p += 4 + keyBytes
    if (field !== undefined) {
      const fieldBytes = buf.write(field, p + 4, "utf8")
      buf.writeUInt32LE(fieldBytes, p)
      p += 4 + fieldBytes
    }
    p += buf.write(rest, p, "utf8")
    this.finish(start, p)
  }

  /** The bytes encoded from offset `start` on (a view, valid until the next write or `take`). */
  from(start: number): Buffer {
    return this.buf.subarray(start, this.len)
  }

  /** Appends already encoded bytes (records, or a file's magic). */
  append(bytes: Uint8Array): void {
    const start = this.reserve(bytes.length)
    this.buf.set(bytes, start)
    this.len = start + bytes.length
  }

  /** Appends one record. */
  write(record: WalRecord): void {
    if (record.op === "set") this.set(record.key, record.value, record.expiresAt)
    else if (record.op === "delete") this.delete(record.key)
    else if (record.op === "mutate") this.mutate(record.key, record.change, record.expiresAt)
    else this.expire(record.key, record.expiresAt)
  }

  /** The bytes encoded since the last `take`, as a buffer of their own; the writer starts over. */
  take(): Buffer {
    // A copy (small ones come from Node's shared pool) lets the working buffer be reused: allocating a fresh
    // 64 KiB buffer per batch would make the garbage collector run far more often.
    const out = Buffer.allocUnsafe(this.len)
    this.buf.copy(out, 0, 0, this.len)
    this.len = 0
    if (this.buf.length > MAX_KEPT_BYTES) this.buf = Buffer.allocUnsafe(this.initialBytes)
    return out
  }

  // Makes room for a header and up to `maxPayload` bytes; returns where the record starts.
  private begin(maxPayload: number): number {
    return this.reserve(HEADER_BYTES + maxPayload)
  }

  // Makes room for `bytes` more bytes; returns where they go.
  private reserve(bytes: number): number {
    const need = this.len + bytes
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, 2 * this.buf.length))
      this.buf.copy(next, 0, 0, this.len)
      this.buf = next
    }
    return this.len
  }

  private finish(start: number, end: number): void {
    const buf = this.buf
    const payloadStart = start + HEADER_BYTES
    buf.writeUInt32LE(end - payloadStart, start)
    buf.writeUInt32LE(crc32c(buf, start, start + 4), start + 4)
    buf.writeUInt32LE(crc32c(buf, payloadStart, end), start + 8)
    this.len = end
  }
}

// Expiry times fit in 64 bits for the next few centuries (now + 2^63 ns at most); saturate rather than wrap.
const clampU64 = (n: bigint): bigint => (n < 0n ? 0n : n > MAX_U64 ? MAX_U64 : n)

/** Encodes records into one buffer (for tests and small files). */
export const encodeRecords = (records: Iterable<WalRecord>): Buffer => {
  const w = new RecordWriter(1024)
  for (const r of records) w.write(r)
  return Buffer.from(w.take())
}

/** What `decodeRecord` found at an offset. */
export type Decoded =
  /** A whole, valid record of `size` bytes (header included). */
  | { readonly _tag: "Record"; readonly record: WalRecord; readonly size: number }
  /**
   * The bytes end before the record does: `needed` bytes from the offset would hold it (the header's length is
   * checked, so `needed` is trustworthy when it is more than the header).
   */
  | { readonly _tag: "Incomplete"; readonly needed: number }
  /** The length's checksum fails: the header itself is damaged. */
  | { readonly _tag: "BadHeader" }
  /** The header is sound but the payload's checksum fails; the record would be `size` bytes. */
  | { readonly _tag: "BadChecksum"; readonly size: number }
  /** Checksums match but the payload is not a record (unknown op or kind, malformed value). */
  | { readonly _tag: "BadPayload"; readonly size: number; readonly detail: string }

const kindByNumber = new Map<number, Value["kind"]>(
  Object.entries(KindNumber).map(([kind, n]) => [n, kind as Value["kind"]])
)

const utf8 = new TextDecoder("utf-8", { fatal: false })

/** Decodes the record at `bytes[offset]`, looking no further than `end`. */
export const decodeRecord = (view: Buffer, offset: number, end: number): Decoded => {
  if (end - offset < HEADER_BYTES) return { _tag: "Incomplete", needed: HEADER_BYTES }
  const length = view.readUInt32LE(offset)
  if (crc32c(view, offset, offset + 4) !== view.readUInt32LE(offset + 4)) return { _tag: "BadHeader" }
  const size = HEADER_BYTES + length
  if (end - offset < size) return { _tag: "Incomplete", needed: size }
  const payloadStart = offset + HEADER_BYTES
  const payloadEnd = offset + size
  if (crc32c(view, payloadStart, payloadEnd) !== view.readUInt32LE(offset + 8)) return { _tag: "BadChecksum", size }
  const record = decodePayload(view, payloadStart, payloadEnd)
  return typeof record === "string" ? { _tag: "BadPayload", size, detail: record } : { _tag: "Record", record, size }
}

// The record in `view[start, end)`, or what is wrong with it.
const decodePayload = (view: Buffer, start: number, end: number): WalRecord | string => {
  if (end - start < 1) return "empty payload"
  const op = view[start]!
  if (op === OP_DELETE) return { op: "delete", key: utf8.decode(view.subarray(start + 1, end)) }
  if (op === OP_EXPIRE) {
    if (end - start < 9) return "EXPIRE record too short"
    return {
      op: "expire",
      expiresAt: view.readBigUInt64LE(start + 1),
      key: utf8.decode(view.subarray(start + 9, end))
    }
  }
  if (op >= OP_LIST_PUSH && op <= OP_STR_APPEND) return decodeMutation(op, view, start, end)
  if (op !== OP_SET) return `unknown operation ${op}`
  if (end - start < 14) return "SET record too short"
  const kind = kindByNumber.get(view[start + 1]!)
  if (kind === undefined) return `unknown value kind ${view[start + 1]}`
  const expiresAt = view.readBigUInt64LE(start + 2)
  const keyBytes = view.readUInt32LE(start + 10)
  const keyEnd = start + 14 + keyBytes
  if (keyEnd > end) return "key runs past the record"
  const key = utf8.decode(view.subarray(start + 14, keyEnd))
  const value = decodeValue(kind, utf8.decode(view.subarray(keyEnd, end)))
  return typeof value === "string" ? value : { op: "set", key, value, expiresAt }
}

/** The inverse of `storedText`: a value from its kind and stored text, or what is wrong with the text. */
export const decodeValue = (kind: Value["kind"], text: string): Value | string => {
  switch (kind) {
    case "Default":
    case "String":
      return { kind, value: text }
    case "JSON":
      return { kind, text }
    case "Number": {
      const n = Number(text)
      return text.length > 0 && !Number.isNaN(n) ? { kind, value: n } : `bad number "${text.slice(0, 40)}"`
    }
    case "Map": {
      const r = parse(text)
      if (!r.ok || typeof r.value !== "object" || r.value === null || Array.isArray(r.value)) return "bad map value"
      return { kind, value: r.value }
    }
    case "List": {
      const r = parse(text)
      if (r.ok && r.value === null) return { kind, value: NULL_LIST }
      return r.ok && Array.isArray(r.value) ? { kind, value: r.value } : "bad list value"
    }
  }
}

// A change record (ops 4-8) in `view[start, end)`, or what is wrong with it.
const decodeMutation = (op: number, view: Buffer, start: number, end: number): WalRecord | string => {
  if (end - start < 9) return "change record too short"
  const expiresAt = view.readBigUInt64LE(start + 1)
  let p = start + 9
  if (op === OP_LIST_POP)
    return { op: "mutate", key: utf8.decode(view.subarray(p, end)), change: { op: "pop" }, expiresAt }
  // The length-prefixed string at `p`, moving past it.
  const prefixed = (): string | undefined => {
    if (end - p < 4) return undefined
    const n = view.readUInt32LE(p)
    if (p + 4 + n > end) return undefined
    const s = utf8.decode(view.subarray(p + 4, p + 4 + n))
    p += 4 + n
    return s
  }
  const key = prefixed()
  if (key === undefined) return "key runs past the record"
  if (op === OP_MAP_SET) {
    const field = prefixed()
    if (field === undefined) return "field runs past the record"
    const r = parse(utf8.decode(view.subarray(p, end)))
    if (!r.ok) return "bad map field value"
    return { op: "mutate", key, change: { op: "mapSet", field, value: r.value }, expiresAt }
  }
  const rest = utf8.decode(view.subarray(p, end))
  switch (op) {
    case OP_LIST_PUSH: {
      const r = parse(rest)
      if (!r.ok || !Array.isArray(r.value)) return "bad pushed values"
      return { op: "mutate", key, change: { op: "push", values: r.value }, expiresAt }
    }
    case OP_MAP_DEL:
      return { op: "mutate", key, change: { op: "mapDel", field: rest }, expiresAt }
    default:
      return { op: "mutate", key, change: { op: "append", text: rest }, expiresAt }
  }
}

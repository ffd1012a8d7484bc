/**
 * The two protobuf messages of the Fleare wire, hand-coded for the hot path (the schema is tiny and fixed):
 *
 *   message Command  { string command = 1; repeated string args = 2; }
 *   message Response { string client_id = 1; string topic = 2; string status = 3; bytes result = 4; }
 *
 * proto3 rules: empty strings and bytes are not written; unknown fields are skipped by wire type; strings must
 * be valid UTF-8. `test/protocol/Message.test.ts` checks these codecs byte for byte against @bufbuild/protobuf.
 */
import { isUtf8, kMaxLength } from "node:buffer"
import { hasNonAscii, SHORT_ASCII, SHORT_TEXT, shortAscii, utf8Length } from "./Utf8.js"

/** A request: the command name as sent, and its arguments. */
export interface Command {
  readonly command: string
  readonly args: Array<string>
}

/** A reply or push frame. `result` is text (encoded as UTF-8) or raw bytes. */
export interface Response {
  readonly clientId: string
  readonly topic: string
  readonly status: "Ok" | "Error"
  readonly result: string | Uint8Array
}

const WIRE_VARINT = 0
const WIRE_I64 = 1
const WIRE_LEN = 2
const WIRE_I32 = 5

/** Thrown (and caught at the codec boundary) when bytes are not a valid message. */
class WireError extends Error {}

const readVarint = (buf: Buffer, pos: number, end: number): [value: number, next: number] => {
  let result = 0
  let shift = 0
  while (pos < end) {
    const b = buf[pos++]!
    if (shift < 28) result |= (b & 0x7f) << shift
    else result += (b & 0x7f) * 2 ** shift
    if (b < 0x80) return [result, pos]
    shift += 7
    if (shift > 63) break
  }
  throw new WireError("truncated or overlong varint")
}

/** A byte range holds valid UTF-8 (checked only when it has a non-ASCII byte: ASCII is the common case). */
const isUtf8Range = (buf: Buffer, start: number, end: number): boolean =>
  !hasNonAscii(buf, start, end) || isUtf8(buf.subarray(start, end))

/**
 * Node's Buffer has had `latin1Slice` since its first releases (undocumented: `toString("latin1")` calls it after
 * checking its arguments and looking up the encoding). Called directly it makes a string about 20 ns sooner; it
 * makes the ASCII arguments longer than `SHORT_ASCII` (shorter ones are made in JavaScript, `shortAscii`).
 */
interface Latin1Slice {
  latin1Slice(start: number, end: number): string
}

const readString = (buf: Buffer, start: number, end: number): string => {
  // ASCII (the common case, scanned once): its Latin-1 and UTF-8 readings are the same string.
  if (!hasNonAscii(buf, start, end)) {
    const length = end - start
    return length <= SHORT_ASCII
      ? shortAscii(buf, start, length)
      : (buf as Buffer & Latin1Slice).latin1Slice(start, end)
  }
  // proto3 strings must be valid UTF-8.
  if (!isUtf8(buf.subarray(start, end))) throw new WireError("string field is not valid UTF-8")
  return buf.toString("utf8", start, end)
}

const skipField = (buf: Buffer, wireType: number, pos: number, end: number): number => {
  switch (wireType) {
    case WIRE_VARINT:
      return readVarint(buf, pos, end)[1]
    case WIRE_I64:
      if (pos + 8 > end) throw new WireError("truncated fixed64")
      return pos + 8
    case WIRE_LEN: {
      const [len, next] = readVarint(buf, pos, end)
      if (next + len > end) throw new WireError("truncated length-delimited field")
      return next + len
    }
    case WIRE_I32:
      if (pos + 4 > end) throw new WireError("truncated fixed32")
      return pos + 4
    default:
      throw new WireError(`unsupported wire type ${wireType}`)
  }
}

/** Walks the fields of a message body, calling `onLen` for each length-delimited field (others are skipped). */
const walk = (buf: Buffer, onLen: (field: number, start: number, end: number) => void): void => {
  let pos = 0
  const end = buf.length
  while (pos < end) {
    const [key, afterKey] = readVarint(buf, pos, end)
    const field = Math.floor(key / 8)
    const wireType = key & 7
    if (field === 0) throw new WireError("field number 0")
    if (wireType === WIRE_LEN) {
      const [len, start] = readVarint(buf, afterKey, end)
      if (start + len > end) throw new WireError("truncated length-delimited field")
      onLen(field, start, start + len)
      pos = start + len
    } else {
      pos = skipField(buf, wireType, afterKey, end)
    }
  }
}

/** Where a decoded Command's name lies in its frame: `buf[start, end)` (both 0 when it has none). */
export interface NameSpan {
  start: number
  end: number
}

/**
 * What `decodeCommandInto` returns for a Command with more than `maxArgs` arguments: one shared array, told
 * apart by identity (the decoder stopped at the first argument past the cap, so this costs no more work).
 */
export const TOO_MANY_ARGS: Array<string> = Object.freeze([]) as unknown as Array<string>

/**
 * Decodes a `Command` body (`buf[start, end)`), leaving its name as bytes: fills `name` with where the name lies
 * and returns the arguments; `undefined` when the bytes are not a valid Command, `TOO_MANY_ARGS` (by identity)
 * when it has more than `maxArgs` arguments. This is the per-request hot path, so it walks
 * the fields inline, with a one-byte fast path for tags and lengths below 128 (no tuple or closure allocated per
 * field), and makes no string of the name (the dispatcher matches its bytes; see `lookupCommandBytes`).
 */
export const decodeCommandInto = (
  buf: Buffer,
  name: NameSpan,
  start = 0,
  end = buf.length,
  maxArgs = Number.MAX_SAFE_INTEGER
): Array<string> | undefined => {
  let nameStart = 0
  let nameEnd = 0
  const args: Array<string> = []
  let pos = start
  try {
    while (pos < end) {
      let key = buf[pos]!
      if (key < 0x80) pos++
      else [key, pos] = readVarint(buf, pos, end)
      const field = Math.floor(key / 8)
      const wireType = key & 7
      if (field === 0) throw new WireError("field number 0")
      if (wireType !== WIRE_LEN) {
        pos = skipField(buf, wireType, pos, end)
        continue
      }
      let len = buf[pos]
      if (len !== undefined && len < 0x80) pos++
      else [len, pos] = readVarint(buf, pos, end)
      const stop = pos + len
      if (stop > end) throw new WireError("truncated length-delimited field")
      if (field === 1) {
        // proto3: the last occurrence of a singular field wins.
        nameStart = pos
        nameEnd = stop
      } else if (field === 2) {
        // Bounded work: a frame of millions of tiny arguments is refused at the first one past the cap.
        if (args.length >= maxArgs) return TOO_MANY_ARGS
        args.push(readString(buf, pos, stop))
      }
      pos = stop
    }
  } catch (e) {
    if (e instanceof WireError) return undefined
    throw e
  }
  if (!isUtf8Range(buf, nameStart, nameEnd)) return undefined
  name.start = nameStart
  name.end = nameEnd
  return args
}

/** Decodes a `Command` body; `undefined` when the bytes are not a valid Command. */
export const decodeCommand = (buf: Buffer): Command | undefined => {
  const name: NameSpan = { start: 0, end: 0 }
  const args = decodeCommandInto(buf, name)
  return args === undefined ? undefined : { command: buf.toString("utf8", name.start, name.end), args }
}

/** Decodes a `Response` body (the client side); `undefined` when invalid. */
export const decodeResponse = (buf: Buffer): Response | undefined => {
  let clientId = ""
  let topic = ""
  let status = ""
  let result: Uint8Array = new Uint8Array(0)
  try {
    walk(buf, (field, start, end) => {
      if (field === 1) clientId = readString(buf, start, end)
      else if (field === 2) topic = readString(buf, start, end)
      else if (field === 3) status = readString(buf, start, end)
      else if (field === 4) result = buf.subarray(start, end)
    })
  } catch (e) {
    if (e instanceof WireError) return undefined
    throw e
  }
  return { clientId, topic, status: status === "Error" ? "Error" : "Ok", result }
}

/**
 * The largest frame body the 4-byte length prefix can carry. A reply over it (or over what one Buffer can hold)
 * is not written: `FrameWriter.response` reports it, and the connection answers an error instead.
 */
export const MAX_FRAME_BODY = Math.min(0xffffffff, kMaxLength - 16)

const varintSize = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5)

/** The size of the buffers a FrameWriter writes into and hands out views of (see `take`): Node's own pool size. */
const SLAB_BYTES = 8 * 1024

/**
 * A growable output buffer that frames and encodes messages. One is shared by all connections of a process:
 * a connection encodes its whole batch of replies synchronously and `take()`s them, so idle connections hold no
 * output buffer at all.
 */
export class FrameWriter {
  private buf: Buffer
  /** Where the bytes not yet taken start: those before it were handed out by `take` and are never written again. */
  private start = 0
  private len = 0

  constructor(initialBytes = SLAB_BYTES) {
    this.buf = Buffer.allocUnsafe(initialBytes)
  }

  /** Bytes written since the last `take`. */
  get length(): number {
    return this.len - this.start
  }

  /** Room for `n` more bytes; false (nothing changed) when that would pass what one Buffer can hold. */
  private ensure(n: number): boolean {
    if (this.len + n <= this.buf.length) return true
    const pending = this.len - this.start
    const need = pending + n
    if (need > kMaxLength) return false
    // A new buffer for what is pending and what comes: a slab, or twice the need for a growing batch (so the
    // copies of a batch stay linear in its size), capped at the largest Buffer.
    const next = Buffer.allocUnsafe(Math.min(Math.max(SLAB_BYTES, 2 * need), kMaxLength))
    this.buf.copy(next, 0, this.start, this.len)
    this.buf = next
    this.start = 0
    this.len = pending
    return true
  }

  /** The 4-byte big-endian length of a frame (byte by byte: `writeUInt32BE` checks its arguments first). */
  private header(body: number): void {
    const b = this.buf
    const at = this.len
    b[at] = body >>> 24
    b[at + 1] = (body >>> 16) & 0xff
    b[at + 2] = (body >>> 8) & 0xff
    b[at + 3] = body & 0xff
    this.len = at + 4
  }

  private varint(n: number): void {
    const b = this.buf
    while (n >= 0x80) {
      b[this.len++] = (n & 0x7f) | 0x80
      n >>>= 7
    }
    b[this.len++] = n
  }

  private field(tag: number, value: string | Uint8Array, byteLength: number): void {
    if (byteLength === 0) return
    const b = this.buf
    b[this.len++] = tag
    this.varint(byteLength)
    if (typeof value === "string") {
      // A short ASCII string (a UTF-8 length equal to its length) is copied here: cheaper than a call into C++.
      if (byteLength === value.length && byteLength <= SHORT_TEXT) {
        let at = this.len
        for (let i = 0; i < byteLength; i++) b[at++] = value.charCodeAt(i)
        this.len = at
      } else this.len += b.write(value, this.len, "utf8")
    } else {
      this.buf.set(value, this.len)
      this.len += byteLength
    }
  }

  /**
   * Appends one framed `Response`; false (nothing written) when it is too big for one frame or for the buffer
   * (`MAX_FRAME_BODY`): the caller answers an error instead. The server takes the buffer out between replies
   * once it passes its output budget, so only a single huge reply can get here.
   */
  response(clientId: string, topic: string, status: string, result: string | Uint8Array): boolean {
    const cidLen = utf8Length(clientId)
    const topicLen = utf8Length(topic)
    const statusLen = status.length // "Ok" | "Error": ASCII
    const resLen = typeof result === "string" ? utf8Length(result) : result.length
    let body = 0
    if (cidLen) body += 1 + varintSize(cidLen) + cidLen
    if (topicLen) body += 1 + varintSize(topicLen) + topicLen
    if (statusLen) body += 1 + varintSize(statusLen) + statusLen
    if (resLen) body += 1 + varintSize(resLen) + resLen
    if (body > MAX_FRAME_BODY || !this.ensure(4 + body)) return false
    this.header(body)
    this.field(0x0a, clientId, cidLen)
    this.field(0x12, topic, topicLen)
    this.field(0x1a, status, statusLen)
    this.field(0x22, result, resLen)
    return true
  }

  /**
   * The fields an `Ok` reply to `clientId` starts with (client_id, then status; no topic), encoded once per
   * connection for `ok`: a reply then copies them instead of measuring and encoding the id again. The bytes are
   * kept as a latin1 string, one character per byte: a heap string of about 48 B. A Buffer would cost a 96 B
   * object, and as a slice of Node's shared pool it would keep its whole 8 KiB slab alive (the other slices are
   * replies that are gone), about 300 B per idle connection.
   */
  static okPrefix(clientId: string): string {
    const w = new FrameWriter(64 + 3 * clientId.length)
    w.field(0x0a, clientId, utf8Length(clientId))
    w.field(0x1a, "Ok", 2)
    return w.take().toString("latin1")
  }

  /**
   * Appends one framed `Ok` Response whose client_id and status fields are `prefix` (from `okPrefix`): the same
   * bytes as `response(clientId, "", "Ok", result)`. False (nothing written) when it is too big for one frame.
   */
  ok(prefix: string, result: string | Uint8Array): boolean {
    const resLen = typeof result === "string" ? utf8Length(result) : result.length
    const body = prefix.length + (resLen ? 1 + varintSize(resLen) + resLen : 0)
    if (body > MAX_FRAME_BODY || !this.ensure(4 + body)) return false
    this.header(body)
    const b = this.buf
    let at = this.len
    for (let i = 0; i < prefix.length; i++) b[at++] = prefix.charCodeAt(i)
    this.len = at
    this.field(0x22, result, resLen)
    return true
  }

  /** Appends one framed `Command` (the client side). */
  command(name: string, args: ReadonlyArray<string>): void {
    const nameLen = Buffer.byteLength(name)
    let body = nameLen ? 1 + varintSize(nameLen) + nameLen : 0
    const argLens = args.map((a) => Buffer.byteLength(a))
    for (const l of argLens) body += 1 + varintSize(l) + l
    if (body > MAX_FRAME_BODY || !this.ensure(4 + body))
      throw new RangeError(`a command of ${body} bytes is too big for one frame`)
    this.buf.writeUInt32BE(body, this.len)
    this.len += 4
    this.field(0x0a, name, nameLen)
    for (let i = 0; i < args.length; i++) {
      // A repeated string keeps empty elements: each is written as a zero-length field.
      const l = argLens[i]!
      this.buf[this.len++] = 0x12
      this.varint(l)
      if (l) this.len += this.buf.write(args[i]!, this.len, "utf8")
    }
  }

  /**
   * Hands out everything written since the last take as a view of the writer's buffer, without copying it
   * (a copy of a read's replies cost more than encoding them). The writer never writes those bytes again, so
   * the view stays valid for as long as it is held; it keeps its buffer alive that long, as a Buffer from Node's
   * pool keeps the pool's 8 KiB.
   */
  take(): Buffer {
    const view = this.buf.subarray(this.start, this.len)
    if (this.buf.length <= SLAB_BYTES) {
      this.start = this.len
      return view
    }
    // A buffer grown for a large batch is not written on: the next replies start a new slab. What it holds is
    // handed out as a copy unless it fills most of it, so that a large reply waiting in a slow client's queue
    // does not keep up to twice its size alive (the growth doubles).
    const out = 4 * view.length < 3 * this.buf.length ? Buffer.from(view) : view
    this.buf = Buffer.allocUnsafe(SLAB_BYTES)
    this.start = this.len = 0
    return out
  }
}

/** Encodes one framed Command: what a client sends. */
export const encodeCommand = (name: string, args: ReadonlyArray<string>): Buffer => {
  const w = new FrameWriter(256)
  w.command(name, args)
  return w.take()
}

/** Encodes one framed Response. */
export const encodeResponse = (r: Response): Buffer => {
  const w = new FrameWriter(256)
  w.response(r.clientId, r.topic, r.status, r.result)
  return w.take()
}

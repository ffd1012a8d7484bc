/**
 * A zero-copy view of a `Response` body for the benchmark's reply checks. `decodeResponse` (src/protocol) is
 * the server's client-side codec and maps any status other than "Error" to "Ok"; a benchmark must see the raw
 * status so that a wrong one is counted as an error, and must not allocate strings for every reply, so it reads
 * the field positions itself.
 *
 *   message Response { string client_id = 1; string topic = 2; string status = 3; bytes result = 4; }
 */

/** Where the status and result of one reply are in its body; reused across replies. */
export interface ReplyView {
  statusStart: number
  statusEnd: number
  resultStart: number
  resultEnd: number
}

/** A fresh, empty view. */
export const makeReplyView = (): ReplyView => ({ statusStart: 0, statusEnd: 0, resultStart: 0, resultEnd: 0 })

const varint = (buf: Buffer, pos: number, end: number, out: [number, number]): boolean => {
  let value = 0
  let mul = 1
  while (pos < end) {
    const b = buf[pos++]!
    value += (b & 0x7f) * mul
    if (b < 0x80) {
      out[0] = value
      out[1] = pos
      return true
    }
    mul *= 128
    if (mul > 2 ** 63) return false
  }
  return false
}

const scratch: [number, number] = [0, 0]

/** Fills `view` from a reply body; false when the body is not a valid Response. Missing fields are empty. */
export const readReply = (body: Buffer, view: ReplyView): boolean => {
  view.statusStart = view.statusEnd = view.resultStart = view.resultEnd = 0
  let pos = 0
  const end = body.length
  while (pos < end) {
    if (!varint(body, pos, end, scratch)) return false
    const key = scratch[0]
    pos = scratch[1]
    const field = Math.floor(key / 8)
    const wire = key & 7
    if (field === 0) return false
    if (wire === 2) {
      if (!varint(body, pos, end, scratch)) return false
      const start = scratch[1]
      const stop = start + scratch[0]
      if (stop > end) return false
      if (field === 3) {
        view.statusStart = start
        view.statusEnd = stop
      } else if (field === 4) {
        view.resultStart = start
        view.resultEnd = stop
      }
      pos = stop
    } else if (wire === 0) {
      if (!varint(body, pos, end, scratch)) return false
      pos = scratch[1]
    } else if (wire === 1) pos += 8
    else if (wire === 5) pos += 4
    else return false
    if (pos > end) return false
  }
  return true
}

/** True when the status field is exactly "Ok". */
export const statusIsOk = (body: Buffer, v: ReplyView): boolean =>
  v.statusEnd - v.statusStart === 2 && body[v.statusStart] === 0x4f && body[v.statusStart + 1] === 0x6b

/** The status as text (for error reports). */
export const statusText = (body: Buffer, v: ReplyView): string => body.toString("utf8", v.statusStart, v.statusEnd)

/** The result as text (for checks and error reports). */
export const resultText = (body: Buffer, v: ReplyView): string => body.toString("utf8", v.resultStart, v.resultEnd)

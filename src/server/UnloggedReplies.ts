/**
 * Answering writes the log could not take. A read's replies are encoded, one framed `Response` per request
 * frame and in the same order, before the log says whether its writes are durable; when it says they are not,
 * the replies to those writes are swapped for an `Error` reply (the other replies, reads and PINGs, stand).
 * This runs only when the log fails, never on the hot path.
 */
import { FrameWriter } from "../protocol/Message.js"

/**
 * `out` (a read's encoded replies, reply `k` answering the read's frame `k`) with the replies at `indices`
 * (ascending frame indices) replaced by `Error` replies carrying `text`.
 */
export const replaceReplies = (
  out: Buffer | undefined,
  clientId: string,
  indices: ReadonlyArray<number>,
  text: string
): Buffer | undefined => {
  if (out === undefined || indices.length === 0) return out
  const w = new FrameWriter(256 + text.length * 3)
  w.response(clientId, "", "Error", text)
  const error = w.take()
  const parts: Array<Buffer> = []
  let at = 0
  let k = 0
  let next = 0
  while (at + 4 <= out.length) {
    const end = at + 4 + out.readUInt32BE(at)
    if (next < indices.length && indices[next] === k) {
      parts.push(error)
      next += 1
    } else parts.push(out.subarray(at, end))
    at = end
    k += 1
  }
  return Buffer.concat(parts)
}

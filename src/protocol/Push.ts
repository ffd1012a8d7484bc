/**
 * Pub/sub push frames, encoded so that publishing to N subscribers costs one encode. A push is the `Response`
 * `{client_id: <subscriber>, topic, status: "Ok", result: <message>}`; protobuf writes fields in number order,
 * so everything after the client id (topic, status, result) is the same for every subscriber. That part, the
 * push body, is encoded once per publish; each subscriber's frame is its length prefix and its own client-id
 * field (made once per subscriber) followed by those shared bytes.
 */
import { utf8Length } from "./Utf8.js"

const varintSize = (n: number): number => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5)

const writeVarint = (buf: Buffer, at: number, n: number): number => {
  while (n >= 0x80) {
    buf[at++] = (n & 0x7f) | 0x80
    n >>>= 7
  }
  buf[at++] = n
  return at
}

/** Writes a length-delimited field (tag, length, UTF-8 text); proto3 leaves an empty one out. */
const writeField = (buf: Buffer, at: number, tag: number, text: string, length: number): number => {
  if (length === 0) return at
  buf[at++] = tag
  at = writeVarint(buf, at, length)
  return at + buf.write(text, at, "utf8")
}

const fieldSize = (length: number): number => (length === 0 ? 0 : 1 + varintSize(length) + length)

/** The shared part of a push: fields 2 (topic), 3 (status `Ok`) and 4 (the message as Go marshals it). */
export const encodePushBody = (topic: string, result: string): Buffer => {
  const topicLen = utf8Length(topic)
  const resultLen = utf8Length(result)
  const body = Buffer.allocUnsafe(fieldSize(topicLen) + fieldSize(2) + fieldSize(resultLen))
  let at = writeField(body, 0, 0x12, topic, topicLen)
  at = writeField(body, at, 0x1a, "Ok", 2)
  writeField(body, at, 0x22, result, resultLen)
  return body
}

/** A subscriber's client-id field (field 1), made once per subscriber. */
export const clientIdField = (clientId: string): Buffer => {
  const length = utf8Length(clientId)
  const field = Buffer.allocUnsafe(fieldSize(length))
  writeField(field, 0, 0x0a, clientId, length)
  return field
}

/** One subscriber's framed push: the length prefix, its client-id field, then the shared body (copied). */
export const framePush = (idField: Buffer, body: Buffer): Buffer => {
  const length = idField.length + body.length
  const frame = Buffer.allocUnsafe(4 + length)
  frame.writeUInt32BE(length, 0)
  idField.copy(frame, 4)
  body.copy(frame, 4 + idField.length)
  return frame
}

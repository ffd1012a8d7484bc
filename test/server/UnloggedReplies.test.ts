import { describe, expect, it } from "vitest"
import { decodeResponse, FrameWriter } from "../../src/protocol/Message.js"
import { replaceReplies } from "../../src/server/UnloggedReplies.js"

/** The replies in `out`, as `status result` strings. */
const replies = (out: Buffer | undefined): Array<string> => {
  const all: Array<string> = []
  let at = 0
  while (out !== undefined && at < out.length) {
    const len = out.readUInt32BE(at)
    const r = decodeResponse(out.subarray(at + 4, at + 4 + len))!
    all.push(`${r.clientId} ${r.status} ${Buffer.from(r.result).toString("utf8")}`)
    at += 4 + len
  }
  return all
}

describe("replaceReplies", () => {
  const w = new FrameWriter(64)
  w.response("c1", "", "Ok", "v0")
  w.response("c1", "", "Ok", "")
  w.response("c1", "", "Ok", "PONG ")
  w.response("c1", "", "Ok", "x".repeat(70_000))
  const out = w.take()

  it("swaps the replies at the given frame indices for Error replies and keeps the others, in order", () => {
    expect(replies(replaceReplies(out, "c1", [1, 3], "PersistenceError: no"))).toEqual([
      "c1 Ok v0",
      "c1 Error PersistenceError: no",
      "c1 Ok PONG ",
      "c1 Error PersistenceError: no"
    ])
  })

  it("leaves the replies alone when no write is to be answered", () => {
    expect(replaceReplies(out, "c1", [], "e")).toBe(out)
    expect(replaceReplies(undefined, "c1", [0], "e")).toBeUndefined()
  })
})

/**
 * A bounded fuzz of the frame decoder and every command's argument parser (issue 10), against the real server
 * program as a child process: random frame bodies, mutated valid frames, and random arguments to every
 * command of the registry (AUTH included), sent pipelined on many connections. The server must answer every
 * frame, or close the connection right after an error (a refused AUTH or a fatal ProtocolError); it must not
 * crash, and a bystander must be served throughout. Seeded: a failure prints its seed.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { allCommands } from "../../src/commands/registry.js"
import { encodeCommand } from "../../src/protocol/Message.js"
import { startBystander } from "../support/bystander.js"
import { type ServerProcess, spawnServer } from "../support/process.js"
import { type WireReply, WireClient } from "../support/wire.js"

let server: ServerProcess
beforeAll(async () => {
  // No AUTH rate limit here (lockout 0 turns it off): random AUTHs fail by the hundred from one address.
  server = await spawnServer(["--config", "security: {auth_lockout_seconds: 0}"])
}, 60_000)
afterAll(() => server.stop())

/** mulberry32: a small seeded PRNG. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const SAMPLES = [
  "",
  "0",
  "-1",
  "1",
  "2147483648",
  "99999999999999999999",
  "1e308",
  "NaN",
  "Infinity",
  "-0",
  "0.5",
  "key",
  "$",
  "$.a",
  "a.b.c",
  "[0]",
  "a[-1]",
  "{}",
  "[]",
  '{"a":1}',
  '{"$ref":"k"}',
  "null",
  "true",
  "é",
  "\u{1F600}",
  "a b",
  "*",
  "name == 'x'",
  "1s",
  "-5m"
]

const header = (n: number): Buffer => {
  const h = Buffer.alloc(4)
  h.writeUInt32BE(n)
  return h
}

/**
 * The commands that answer every frame: a successful SUBSCRIBE or UNSUBSCRIBE sends no reply (SPEC §4.9), so
 * they would break the count of replies; test/pubsub covers them.
 */
const answered = allCommands.filter((c) => c.name !== "SUBSCRIBE" && c.name !== "UNSUBSCRIBE")

const frameOf = (body: Buffer): Buffer => Buffer.concat([header(body.length), body])

class Gen {
  constructor(readonly rand: () => number) {}
  int(n: number): number {
    return Math.floor(this.rand() * n)
  }
  pick<A>(xs: ReadonlyArray<A>): A {
    return xs[this.int(xs.length)]!
  }
  arg(): string {
    if (this.rand() < 0.6) return this.pick(SAMPLES)
    const alphabet = "abcxyz0123456789-.$[]{}\":,' é"
    let s = ""
    const n = this.int(24)
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)]
    return s
  }
  /** A valid Command frame: a registry command (or AUTH) with random arguments. */
  command(): Buffer {
    const name = this.rand() < 0.02 ? "AUTH" : this.pick(answered).name
    const cased = this.rand() < 0.2 ? name.toLowerCase() : name
    return encodeCommand(
      cased,
      Array.from({ length: this.int(6) }, () => this.arg())
    )
  }
  /** One frame of the fuzz, with a valid length header (so that it is one frame, answered once). */
  frame(): Buffer {
    const kind = this.rand()
    if (kind < 0.5) return this.command()
    if (kind < 0.8) {
      // A valid command with a few bytes of its body changed.
      const f = Buffer.from(this.command())
      for (let i = 0, n = 1 + this.int(3); i < n && f.length > 4; i++) f[4 + this.int(f.length - 4)] = this.int(256)
      return f
    }
    const body = Buffer.alloc(1 + this.int(64))
    for (let i = 0; i < body.length; i++) body[i] = this.int(256)
    return frameOf(body)
  }
}

/** Sends `frames` pipelined then half-closes; collects every reply until the server closes. */
const exchange = async (
  frames: ReadonlyArray<Buffer>,
  authenticate: boolean
): Promise<{ replies: Array<WireReply>; timedOut: boolean }> => {
  const c = authenticate ? await WireClient.authed(server.port) : await WireClient.connect(server.port)
  c.write(Buffer.concat(frames))
  c.end()
  const replies: Array<WireReply> = []
  let timedOut = false
  for (;;) {
    try {
      replies.push(await c.next(5000))
    } catch (e) {
      timedOut = !(e as Error).message.includes("closed")
      break
    }
  }
  c.destroy()
  return { replies, timedOut }
}

describe("fuzz", () => {
  it("random and mutated frames and random arguments to every command: every frame answered or an error then close", async () => {
    const seed = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000)
    const gen = new Gen(prng(seed))
    const bystander = await startBystander(server.port)
    const deadline = Date.now() + 4000
    let rounds = 0
    let frames = 0
    try {
      while (Date.now() < deadline) {
        const batch = Array.from({ length: 20 + gen.int(60) }, () => gen.frame())
        const authenticate = gen.rand() < 0.8
        const { replies, timedOut } = await exchange(batch, authenticate)
        expect(timedOut, `seed ${seed}, round ${rounds}: no reply and no close`).toBe(false)
        if (replies.length < batch.length) {
          // Closed early: only right after a refused AUTH or a fatal protocol error.
          const last = replies[replies.length - 1]
          expect(last?.status, `seed ${seed}, round ${rounds}`).toBe("Error")
          expect(last?.result, `seed ${seed}, round ${rounds}`).toMatch(/^(ConnectionFailed|ProtocolError): /)
        } else expect(replies.length, `seed ${seed}, round ${rounds}`).toBe(batch.length)
        rounds++
        frames += batch.length
      }
    } finally {
      const report = await bystander.stop()
      console.log(
        `fuzz seed ${seed}: ${rounds} connections, ${frames} frames; bystander ${report.count} PINGs, worst ${report.worstMs.toFixed(1)} ms`
      )
      expect(report.failures).toBe(0)
    }
    expect(server.child.exitCode).toBe(null)
    const after = await WireClient.authed(server.port)
    expect(await after.ok("PING", "alive")).toBe("PONG alive")
    after.destroy()
  }, 30_000)
})

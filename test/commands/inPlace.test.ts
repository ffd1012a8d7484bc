/**
 * Issue 10's O(size of the value) writes, over TCP against a real server: a push onto a 100k-element list, a
 * field set on a 15k-field map and an append to a 1 MB string cost about what they cost on a tiny value (the
 * value is changed in place, not copied), and with persistence on, the log grows by the change, not by the
 * value. Costs are compared within one test (pipelined batches, best of three), never against fixed times.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { mkdtempSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { encodeCommand } from "../../src/protocol/Message.js"
import { ok } from "../support/commandTests.js"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"

let server: TestServer
let c: WireClient
let dir: string

beforeAll(async () => {
  dir = mkdtempSync(nodePath.join(tmpdir(), "fleare-inplace-"))
  // LIST.SET of the key and 100k values is one argument over the default server.max_args_per_command.
  server = await startServer({
    server: { max_args_per_command: 200_000 },
    persistence: { enable: true, path: dir, fsync: "no" }
  })
  c = await WireClient.authed(server.port)
})

afterAll(async () => {
  c.destroy()
  await server.close()
  rmSync(dir, { recursive: true, force: true })
})

/** LIST.SET of `n` numbers, sent without spreading them into arguments (100k would overflow the stack). */
const listSet = async (key: string, n: number) => {
  c.write(encodeCommand("LIST.SET", [key, ...Array.from({ length: n }, (_, i) => String(i))]))
  ok(await c.next(30_000), String(n))
}

const logBytes = () => statSync(nodePath.join(dir, "fleare.wal")).size

/** Milliseconds for `n` pipelined copies of a command to be answered (best of three). */
const batch = async (n: number, command: string, args: (i: number) => Array<string>): Promise<number> => {
  let best = Infinity
  for (let round = 0; round < 3; round++) {
    const t = performance.now()
    for (let i = 0; i < n; i++) c.send(command, ...args(i))
    for (let i = 0; i < n; i++) {
      const r = await c.next(30_000)
      if (r.status !== "Ok") throw new Error(r.result)
    }
    best = Math.min(best, performance.now() - t)
  }
  return best
}

describe("writes that used to copy the whole value", () => {
  it("LIST.PUSH / LIST.POP on a 100k list cost about what they cost on a 10-element list", async () => {
    await listSet("small", 10)
    await listSet("big", 100_000)
    const small = await batch(500, "LIST.PUSH", () => ["small", "x"])
    const big = await batch(500, "LIST.PUSH", () => ["big", "x"])
    // Copying was ~100k element copies plus a walk of the list for its size per push: 20-100× the small cost.
    expect(big).toBeLessThan(4 * small + 50)
    const popSmall = await batch(500, "LIST.GPOP", () => ["small"])
    const popBig = await batch(500, "LIST.GPOP", () => ["big"])
    expect(popBig).toBeLessThan(4 * popSmall + 50)
    ok(await c.call("LIST.LEN", "big"), "100000")
    ok(await c.call("LIST.GET", "big", "99999"), "99999")
  }, 120_000)

  it("MAP.SET / MAP.DEL on a 15k-field map and STR.APPEND to a 1 MB string likewise", async () => {
    // Filled field by field in one pipelined batch (15k pushes of a copy each took seconds before).
    ok(await c.call("MAP.CSET", "bigmap", "f0", "0"), "")
    await batch(1, "MAP.SET", () => ["smallmap", "a", "1"])
    for (let i = 1; i < 15_000; i++) c.send("MAP.SET", "bigmap", `f${i}`, String(i))
    for (let i = 1; i < 15_000; i++) await c.next(30_000)
    const small = await batch(500, "MAP.SET", (i) => ["smallmap", `g${i % 5}`, "v"])
    const big = await batch(500, "MAP.SET", (i) => ["bigmap", `g${i % 5}`, "v"])
    expect(big).toBeLessThan(4 * small + 50)
    const delBig = await batch(1, "MAP.DEL", () => ["bigmap", "f1"])
    expect(delBig).toBeLessThan(4 * small + 50)
    ok(await c.call("MAP.GET", "bigmap", "f14999"), "14999")
    ok(await c.call("MAP.GET", "bigmap", "f1"), "")

    ok(await c.call("STR.SET", "smallstr", "a"), "")
    ok(await c.call("STR.SET", "bigstr", "s".repeat(1 << 20)), "")
    const appendSmall = await batch(500, "STR.APPEND", () => ["smallstr", "x"])
    const appendBig = await batch(500, "STR.APPEND", () => ["bigstr", "x"])
    expect(appendBig).toBeLessThan(4 * appendSmall + 50)
    ok(await c.call("STR.LENGTH", "bigstr"), String((1 << 20) + 1500))
  }, 120_000)
})

describe("the log records the change", () => {
  it("a 1-byte push onto a 100k list, a field set on a big map and an append to 1 MB each log bytes, not the value", async () => {
    await listSet("logged", 100_000)
    ok(await c.call("STR.SET", "loggedstr", "s".repeat(1 << 20)), "")
    ok(await c.call("MAP.CSET", "loggedmap", "a", "x".repeat(100_000)), "")
    ok(await c.call("MAP.SET", "loggedmap", "b", "1"), "")
    const grew = async (command: string, ...args: Array<string>): Promise<number> => {
      const before = logBytes()
      const r = await c.call(command, ...args)
      expect(r.status).toBe("Ok")
      return logBytes() - before
    }
    // Header 12, op 1, expiry 8, key length 4, key, then the change (before: 267 KB per push onto 100k).
    expect(await grew("LIST.PUSH", "logged", "x")).toBe(12 + 1 + 8 + 4 + 6 + 5)
    expect(await grew("LIST.POP", "logged")).toBe(12 + 1 + 8 + 6)
    expect(await grew("MAP.SET", "loggedmap", "c", "2")).toBe(12 + 1 + 8 + 4 + 9 + 4 + 1 + 1)
    expect(await grew("MAP.DEL", "loggedmap", "c")).toBe(12 + 1 + 8 + 4 + 9 + 1)
    expect(await grew("STR.APPEND", "loggedstr", "!")).toBe(12 + 1 + 8 + 4 + 9 + 1)
  })
})

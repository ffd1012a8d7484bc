/**
 * Issue 10's per-command work attacks, over TCP against a real server: each request that used to run for seconds
 * (or grow the heap by a gigabyte) is either refused up front with an `InvalidArgumentError` naming its
 * `limits.*` key, or now runs in time linear in its input. The timing checks compare two requests measured in
 * the same test (or use a bound far above the fixed cost and far below the old cost), because the machine is
 * shared and absolute times vary.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { err, ok } from "../support/commandTests.js"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"

let server: TestServer
let c: WireClient

beforeAll(async () => {
  // The ref-path cap is raised so the resolution itself can be measured with many refs.
  server = await startServer({ limits: { max_ref_paths: 1000 } })
  c = await WireClient.authed(server.port)
})

afterAll(async () => {
  c.destroy()
  await server.close()
})

const timed = async (f: () => Promise<unknown>): Promise<number> => {
  const t = performance.now()
  await f()
  return performance.now() - t
}

describe("JSON.GET with many ref paths", () => {
  it("resolves 1000 refs of a 20k-key self-referencing document in about the time of one", async () => {
    const doc: Record<string, string> = {}
    for (let i = 0; i < 20_000; i++) doc[`k${i}`] = "$ref:selfref"
    ok(await c.call("JSON.SET", "selfref", JSON.stringify(doc)), "")
    const refs = Array.from({ length: 1000 }, (_, i) => `k${i}`)
    // Each call parses the document once; before, each ref parsed the target again and copied the root (25 s).
    ok(await c.call("JSON.GET", "selfref", "k1", "k0"), '"$ref:selfref"')
    const one = Math.min(
      await timed(() => c.call("JSON.GET", "selfref", "k1", "k0")),
      await timed(() => c.call("JSON.GET", "selfref", "k1", "k0"))
    )
    const many = await timed(async () => ok(await c.call("JSON.GET", "selfref", "k1", ...refs), '"$ref:selfref"'))
    // Linear resolution: about the cost of one (the document is parsed once); quadratic was ~1000× (25 s).
    expect(many).toBeLessThan(Math.max(20 * one, 1000))
    // The resolved refs are there: `_k0` holds the whole target document.
    const r = await c.call("JSON.GET", "selfref", "_k0.k19999", "k0")
    ok(r, '"$ref:selfref"')
  }, 60_000)

  it("a ref path through a resolved target copies it first: two refs to one key stay independent", async () => {
    ok(await c.call("JSON.SET", "tgt", '{"x":"$ref:leaf","y":1}'), "")
    ok(await c.call("JSON.SET", "leaf", '{"z":2}'), "")
    ok(await c.call("JSON.SET", "src", '{"a":"$ref:tgt","b":"$ref:tgt"}'), "")
    ok(
      await c.call("JSON.GET", "src", "", "a", "b", "_a.x"),
      '{"_a":{"_x":{"z":2},"x":"$ref:leaf","y":1},"_b":{"x":"$ref:leaf","y":1},"a":"$ref:tgt","b":"$ref:tgt"}'
    )
    // The stored target is untouched.
    ok(await c.call("JSON.GET", "tgt", ""), '{"x":"$ref:leaf","y":1}')
  })

  it("more than limits.max_ref_paths refs are refused, naming the limit", async () => {
    const s = await startServer()
    const d = await WireClient.authed(s.port)
    try {
      ok(await d.call("JSON.SET", "j", '{"a":"$ref:j"}'), "")
      const refs = Array.from({ length: 101 }, () => "a")
      err(
        await d.call("JSON.GET", "j", "a", ...refs),
        "InvalidArgumentError: more than 100 ref paths (limits.max_ref_paths)"
      )
      ok(await d.call("JSON.GET", "j", "a", ...refs.slice(1)), '"$ref:j"')
      err(
        await d.call("JSON.GET", "j", "a", "a" + ".a".repeat(1000)),
        "InvalidArgumentError: path has more than 1000 segments (limits.max_path_segments)"
      )
    } finally {
      d.destroy()
      await s.close()
    }
  })
})

describe("path segments", () => {
  const DEEP = "InvalidArgumentError: path has more than 1000 segments (limits.max_path_segments)"

  it("JSON.ADD with a path of 1M segments is refused at once (it took 2.8 s and +1 GB)", async () => {
    const path = Array.from({ length: 1_000_000 }, () => "a").join(".")
    const before = process.memoryUsage().heapUsed
    err(await c.call("JSON.ADD", "deep", path, "1"), DEEP)
    // Nothing was built: no million nested objects in this process's heap (the server runs in it).
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(200 * 1024 * 1024)
    ok(await c.call("JSON.GET", "deep"), "")
  }, 30_000)

  it("1000 segments are allowed, 1001 are not; JSON.REMOVE and JSON.SETREF paths too", async () => {
    const path = (n: number) => Array.from({ length: n }, () => "a").join(".")
    const r = await c.call("JSON.ADD", "deep2", path(1000), "1")
    expect(r.status).toBe("Ok")
    err(await c.call("JSON.ADD", "deep2", path(1001), "1"), DEEP)
    err(await c.call("JSON.REMOVE", "deep2", path(1001)), DEEP)
    err(await c.call("JSON.SETREF", "deep3", "{}", JSON.stringify({ [path(1001)]: "x" })), DEEP)
    ok(await c.call("JSON.GET", "deep3"), "")
  })
})

describe("LIST.FIND and LIST.UPDATE expressions", () => {
  const LONG = "InvalidArgumentError: expression longer than 65536 bytes (limits.max_expression_bytes)"

  it("a 60 KB expression over a list of 200 runs in linear time (it was quadratic per element)", async () => {
    const values = Array.from({ length: 200 }, (_, i) => String(i))
    ok(await c.call("LIST.SET", "lf", ...values), "200")
    // A long run of digits that fails at its end: Go's float syntax used to backtrack quadratically on it, and
    // it was re-parsed for every element (200 × ~1.5 s).
    const expr = ":" + "1".repeat(60_000) + "x"
    const t = await timed(async () => ok(await c.call("LIST.FIND", "lf", expr), "null"))
    expect(t).toBeLessThan(5000)
    ok(await c.call("LIST.UPDATE", "lf", expr, "0"), "0")
    ok(await c.call("LIST.FIND", "lf", "$" + "a".repeat(60_000) + ":1"), "null")
    ok(await c.call("LIST.FIND", "lf", ">=198"), "[198,199]")
  }, 30_000)

  it("an expression over limits.max_expression_bytes is refused, naming the limit", async () => {
    ok(await c.call("LIST.SET", "lf2", "1"), "1")
    err(await c.call("LIST.FIND", "lf2", ":" + "1".repeat(65_536)), LONG)
    err(await c.call("LIST.UPDATE", "lf2", ":" + "1".repeat(65_536), "2"), LONG)
    // Counted in UTF-8 bytes: "~" and 21,846 three-byte characters are 65,539 bytes.
    err(await c.call("LIST.FIND", "lf2", "~" + "€".repeat(21_846)), LONG)
    ok(await c.call("LIST.FIND", "lf2", ":" + "1".repeat(65_535)), "null")
  })
})

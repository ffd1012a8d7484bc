/**
 * The keyspace a command runs against on the Redis backend follows the in-memory keyspace's rules exactly: the
 * same answers to get/set/delete/expire on random sequences (with expiries past and future), and the writes it
 * records are the final state the memory keyspace reaches. Keys never fetched are reported, not guessed.
 */
import { describe, expect, it } from "@effect/vitest"
import { Keyspace } from "../../../src/store/Keyspace.js"
import { type Fetched, Scratch } from "../../../src/store/redis/Scratch.js"
import type { Value } from "../../../src/store/Value.js"

/** A small deterministic random source. */
const rng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff
  return seed / 0x7fffffff
}

describe("Scratch", () => {
  it("answers like the memory keyspace and records its final state as writes", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = rng(seed)
      const pick = <A>(xs: ReadonlyArray<A>): A => xs[Math.floor(random() * xs.length)]!
      const keys = ["a", "b", "c"]
      const now = 1_000_000n
      const memory = Keyspace.makeMemory({ shardCount: 1 })
      // The fetched state: some keys present (some with an expiry, some already expired), some absent.
      const fetched = new Map<string, Fetched>()
      for (const k of keys) {
        if (random() < 0.3) {
          fetched.set(k, { entry: undefined, version: "" })
          continue
        }
        const value: Value = { kind: "String", value: `v-${k}` }
        const expiresAt = pick([0n, now + 500n, now])
        fetched.set(k, { entry: { value, expiresAt }, version: `ver-${k}` })
        memory.restore(k, value, expiresAt, now - 1n)
      }
      const scratch = new Scratch(fetched)
      for (let step = 0; step < 8; step++) {
        const k = pick(keys)
        const op = pick(["get", "set", "setExpiring", "setPast", "setNow", "delete", "expire", "persist", "expirePast"])
        const value: Value = { kind: "Number", value: step }
        const run = (ks: Keyspace["Type"]) => {
          switch (op) {
            case "get":
              return ks.get(k, now)
            case "set":
              return ks.set(k, value, now)
            case "setExpiring":
              return ks.set(k, value, now, now + 100n)
            case "setPast":
              return ks.set(k, value, now, now - 1n)
            case "setNow":
              return ks.set(k, value, now, now)
            case "delete":
              return ks.delete(k, now)
            case "expire":
              return ks.expire(k, now + 50n, now)
            case "persist":
              return ks.expire(k, 0n, now)
            default:
              return ks.expire(k, now, now)
          }
        }
        const want = run(memory)
        const got = run(scratch)
        const norm = (r: unknown) =>
          typeof r === "object" && r !== null && "value" in r
            ? { value: (r as { value: unknown }).value, expiresAt: (r as unknown as { expiresAt: unknown }).expiresAt }
            : r
        expect(norm(got), `seed ${seed} step ${step}: ${op} ${k}`).toEqual(norm(want))
      }
      expect(scratch.missing).toEqual([])
      // Applying the recorded writes to the fetched state gives the memory keyspace's final state.
      for (const k of keys) {
        const w = scratch.writes.get(k)
        const before = fetched.get(k)!.entry
        const after =
          w === undefined ? before : w.op === "delete" ? undefined : { value: w.value, expiresAt: w.expiresAt }
        const live = after !== undefined && (after.expiresAt === 0n || now < after.expiresAt) ? after : undefined
        const mem = memory.get(k, now)
        expect(live && { value: live.value, expiresAt: live.expiresAt }, `seed ${seed} key ${k}`).toEqual(
          mem && { value: mem.value, expiresAt: mem.expiresAt }
        )
        if (w !== undefined) expect(w.expected).toBe(fetched.get(k)!.version)
      }
    }
  })

  it("reports a key read without being fetched, and writes blindly to a key never fetched", () => {
    const scratch = new Scratch(new Map())
    expect(scratch.get("x", 0n)).toBeUndefined()
    expect(scratch.delete("y", 0n)).toBe(false)
    expect(scratch.missing).toEqual(["x", "y"])
    scratch.set("z", { kind: "Default", value: "1" }, 0n)
    expect(scratch.writes.get("z")).toEqual({
      op: "set",
      value: { kind: "Default", value: "1" },
      expiresAt: 0n,
      expected: "*"
    })
    // A value the command wrote is read back by the same command.
    expect(scratch.get("z", 0n)?.value).toEqual({ kind: "Default", value: "1" })
  })
})

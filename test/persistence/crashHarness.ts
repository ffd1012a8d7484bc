/**
 * The crash test: the real server (a child process, `fsync: always`) takes writes from several connections and
 * is killed with SIGKILL at a random moment, round after round. Each restart must show, for every connection,
 * exactly the state after some prefix of the operations it sent that includes every acknowledged one: nothing
 * acknowledged is lost, and nothing half-written (a torn value, a later write without an earlier one) appears.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { expect } from "vitest"
import { type ServerProcess, spawnServer } from "../support/process.js"
import { WireClient } from "../support/wire.js"

const CONNECTIONS = 4
const KEYS_PER_CONNECTION = 40
const PIPELINE = 8

/** A small seeded PRNG (mulberry32), so a failing run can be told apart by its seed. */
const prng = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

type Op =
  | { readonly kind: "set"; readonly key: string; readonly value: string }
  | { readonly kind: "delete"; readonly key: string }
  | { readonly kind: "incr"; readonly key: string }

type State = Map<string, string>

const apply = (state: State, op: Op): void => {
  if (op.kind === "set") state.set(op.key, op.value)
  else if (op.kind === "delete") state.delete(op.key)
  else state.set(op.key, String(Number(state.get(op.key) ?? "0") + 1))
}

/** One connection's history: what the last restart showed, then the operations sent since and how many got Ok. */
class Writer {
  base: State = new Map()
  ops: Array<Op> = []
  acked = 0
  constructor(readonly id: number) {}

  keys(): Array<string> {
    return [...Array.from({ length: KEYS_PER_CONNECTION }, (_, i) => `c${this.id}:k${i}`), `c${this.id}:n`]
  }

  next(random: () => number, round: number): Op {
    const r = random()
    const key = `c${this.id}:k${Math.floor(random() * KEYS_PER_CONNECTION)}`
    const seq = this.ops.length
    const op: Op =
      r < 0.1
        ? { kind: "delete", key }
        : r < 0.2
          ? { kind: "incr", key: `c${this.id}:n` }
          : { kind: "set", key, value: `${round}:${this.id}:${seq}:` + "x".repeat(Math.floor(random() * 3000)) }
    this.ops.push(op)
    return op
  }

  /**
   * Checks that `observed` is the state after some prefix of `ops` at least `acked` long; returns that prefix's
   * length, or undefined.
   */
  matchPrefix(observed: State): number | undefined {
    const state = new Map(this.base)
    const same = () => state.size === observed.size && [...state].every(([k, v]) => observed.get(k) === v)
    for (let i = 0; i < this.acked; i++) apply(state, this.ops[i]!)
    for (let m = this.acked; ; m++) {
      if (same()) return m
      if (m === this.ops.length) return undefined
      apply(state, this.ops[m]!)
    }
  }
}

const send = (c: WireClient, op: Op) => {
  if (op.kind === "set") c.send("SET", op.key, op.value)
  else if (op.kind === "delete") c.send("DELETE", op.key)
  else c.send("NUM.INCR", op.key)
}

/** Keeps PIPELINE operations in flight on `c` until the connection dies; counts the Ok replies. */
const drive = async (c: WireClient, w: Writer, random: () => number, round: number): Promise<void> => {
  let inflight = 0
  const pump = () => {
    for (; inflight < PIPELINE && !c.isClosed; inflight++) send(c, w.next(random, round))
  }
  pump()
  for (;;) {
    let reply
    try {
      reply = await c.next(15_000)
    } catch {
      return // killed
    }
    if (reply.status !== "Ok") throw new Error(`writer ${w.id}: unexpected reply ${reply.result.slice(0, 200)}`)
    w.acked += 1
    inflight -= 1
    pump()
  }
}

/** Reads every key of every writer and checks it against the writer's history. */
const verify = async (port: number, writers: ReadonlyArray<Writer>, context: string): Promise<void> => {
  const c = await WireClient.authed(port)
  try {
    for (const w of writers) {
      const keys = w.keys()
      for (const k of keys) c.send("GET", k)
      const observed: State = new Map()
      for (const k of keys) {
        const r = await c.next(15_000)
        expect(r.status).toBe("Ok")
        if (r.result !== "") observed.set(k, r.result)
      }
      const m = w.matchPrefix(observed)
      if (m === undefined) {
        const diffs = keys
          .filter((k) => observed.get(k) !== w.base.get(k))
          .map((k) => `${k}=${(observed.get(k) ?? "<none>").slice(0, 30)}`)
        throw new Error(
          `${context}: writer ${w.id} shows no prefix of its ${w.ops.length} operations that includes the ` +
            `${w.acked} acknowledged ones; changed keys: ${diffs.join(", ")}`
        )
      }
      w.base = observed
      w.ops = []
      w.acked = 0
    }
  } finally {
    c.destroy()
  }
}

const killed = (server: ServerProcess): Promise<void> =>
  new Promise((resolve) => {
    if (server.child.exitCode !== null || server.child.signalCode !== null) return resolve()
    server.child.once("exit", () => resolve())
    server.child.kill("SIGKILL")
  })

/** What the rounds saw, for assertions beyond the per-round checks. */
export interface CrashReport {
  readonly acknowledged: number
  readonly compactions: number
  readonly outputs: ReadonlyArray<string>
}

/** Runs `rounds` kill-and-restart rounds with the given extra persistence settings. */
export const crashRounds = async (rounds: number, persistence: string): Promise<CrashReport> => {
  const dir = mkdtempSync(nodePath.join(tmpdir(), "fleare-crash-"))
  const seed = Math.floor(Math.random() * 2 ** 31)
  const random = prng(seed)
  const writers = Array.from({ length: CONNECTIONS }, (_, i) => new Writer(i))
  const config = `{persistence: {enable: true, path: "${dir}", fsync: always${persistence}}}`
  const outputs: Array<string> = []
  let acknowledged = 0
  let server: ServerProcess | undefined
  try {
    for (let round = 0; round <= rounds; round++) {
      server = await spawnServer(["--config", config])
      await verify(server.port, writers, `seed ${seed}, after round ${round - 1}`)
      if (round === rounds) break
      const clients = await Promise.all(writers.map(() => WireClient.authed(server!.port)))
      const driving = clients.map((c, i) => drive(c, writers[i]!, random, round))
      await new Promise((r) => setTimeout(r, 150 + Math.floor(random() * 750)))
      await killed(server)
      await Promise.all(driving)
      for (const c of clients) c.destroy()
      outputs.push(server.output())
      acknowledged += writers.reduce((n, w) => n + w.acked, 0)
    }
    const code = await server!.stop()
    outputs.push(server!.output())
    expect(code).toBe(0)
    for (const out of outputs) expect(out).not.toMatch(/corrupt|ERROR/)
    // The clean shutdown leaves just the log behind.
    expect(readdirSync(dir)).toEqual(["fleare.wal"])
    const compactions = outputs.reduce((n, out) => n + (out.match(/INFO.*compacted /g)?.length ?? 0), 0)
    return { acknowledged, compactions, outputs }
  } finally {
    if (server !== undefined) await killed(server)
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The load loop of the benchmark: N connections, each authenticated, each keeping up to P requests in flight
 * (refilled as replies arrive, all refills of one TCP read sent in one write), every reply checked, latencies
 * recorded in nanoseconds.
 *
 * Plain Node (sockets and callbacks), not Effect: the load generator shares the CPU with the server it
 * measures, so it must cost as little as possible per request. Time here is wall time from
 * `process.hrtime.bigint()`, read once per TCP read (a benchmark measures real elapsed time; nothing in the
 * server depends on it). A reply is timed from the read in which its request was sent to the read that
 * delivered it.
 *
 * Bounded: a run stops after its request budget or its duration, and in any case after `maxTimeS`; then it
 * waits at most `drainTimeoutS` for replies still in flight, counting each one missing as an error.
 */
import type * as net from "node:net"
import { FrameDecoder } from "../protocol/Frame.js"
import { connectAll, type ConnectOptions } from "./connect.js"
import { ErrorTally, type ErrorTallyData, Histogram, type HistogramData } from "./stats.js"
import { makeWorkload, type TestName, type Workload, writeKey } from "./workload.js"

/** One load run: a test, its shape and its bounds. */
export interface LoadOptions extends ConnectOptions {
  readonly test: TestName
  readonly connections: number
  readonly pipeline: number
  /** Requests to send in all (warm-up included); undefined when the run is bounded by `durationS`. */
  readonly requests: number | undefined
  /** Seconds to measure (after the warm-up); undefined when the run is bounded by `requests`. */
  readonly durationS: number | undefined
  /** Seconds of load at the start whose replies are checked but not timed. */
  readonly warmupS: number
  /** SET value size in bytes (and the value GET expects). */
  readonly dataSize: number
  /** Keys are numbered 0 .. keyspace-1 (at most 2^32 distinct keys with the random pattern). */
  readonly keyspace: number
  /** random: uniform keys; sequential: keyStart, keyStart+1, ... (wrapping at keyspace), each key once. */
  readonly keyPattern: "random" | "sequential"
  readonly keyStart: number
  readonly seed: number
  readonly maxTimeS: number
  readonly drainTimeoutS: number
}

/** Defaults for everything but the target and the test. */
export const defaultLoadOptions = {
  host: "127.0.0.1",
  port: 9219,
  user: "root" as string | undefined,
  password: "root",
  connectTimeoutS: 10,
  connections: 50,
  pipeline: 1,
  requests: undefined as number | undefined,
  durationS: undefined as number | undefined,
  warmupS: 0,
  dataSize: 3,
  keyspace: 100_000,
  keyPattern: "random" as "random" | "sequential",
  keyStart: 0,
  seed: 1,
  maxTimeS: 300,
  drainTimeoutS: 5
}

/** Why a run ended. */
export type StopReason = "requests" | "duration" | "max-time" | "connections-lost"

/** What a run measured. Latencies are in nanoseconds. */
export interface LoadResult {
  readonly test: TestName
  readonly label: string
  readonly connections: number
  readonly pipeline: number
  readonly dataSize: number
  /** Requests written, replies read, and replies in the measured window (after the warm-up). */
  readonly sent: number
  readonly received: number
  readonly measured: number
  /** The measured window: from the end of the warm-up to the last reply. */
  readonly elapsedS: number
  /** Measured replies per second. */
  readonly opsPerSec: number
  readonly latencyNs: HistogramData
  readonly errors: ErrorTallyData
  readonly stopReason: StopReason
}

/** Wall-clock nanoseconds for latency measurement (see the module comment). */
const nowNs = (): number => Number(process.hrtime.bigint())

/** A small fast PRNG (mulberry32): the same seed gives the same keys. */
const prng = (seed: number): (() => number) => {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** One connection's state during a run: its socket, its decoder and the send times of its requests in flight. */
class Conn {
  readonly decoder = new FrameDecoder(64 * 1024 * 1024)
  /** Ring of send times, oldest at `head`. */
  readonly times: Float64Array
  head = 0
  inFlight = 0
  alive = true
  lastError = ""

  constructor(
    readonly sock: net.Socket,
    pipeline: number,
    readonly rand: () => number
  ) {
    this.times = new Float64Array(pipeline)
  }
}

/**
 * A prepared run: `connect()` opens and authenticates the connections, `run()` drives the load once and
 * closes them. Split in two so worker threads can all connect before any starts sending.
 */
export class LoadRun {
  private readonly workload: Workload
  private readonly frameLen: number
  /** The constant request repeated `pipeline` times, for tests whose requests have no key. */
  private readonly constBatch: Buffer
  private readonly hist = new Histogram()
  private readonly errors = new ErrorTally()
  private conns: Array<Conn> = []
  private sent = 0
  private received = 0
  private lost = 0
  private measured = 0
  private seq = 0
  private budget: number
  private measureFrom = 0
  private lastReply = 0
  private stopping = false
  private alive = 0
  private stopReason: StopReason = "requests"
  private finish: (() => void) | undefined

  constructor(readonly opts: LoadOptions) {
    this.workload = makeWorkload(opts.test, opts.dataSize)
    this.frameLen = this.workload.frame.length
    this.constBatch = Buffer.concat(Array.from({ length: opts.pipeline }, () => this.workload.frame))
    this.budget = opts.requests ?? Infinity
  }

  /** Opens and authenticates every connection. */
  async connect(): Promise<void> {
    const sockets = await connectAll(this.opts, this.opts.connections)
    this.conns = sockets.map((s, i) => new Conn(s, this.opts.pipeline, prng(this.opts.seed * 7919 + i)))
  }

  /** Drives the load until a bound is reached, then closes the connections and reports. */
  run(): Promise<LoadResult> {
    const o = this.opts
    return new Promise((resolve) => {
      const timers: Array<NodeJS.Timeout> = []
      const start = nowNs()
      this.measureFrom = start + o.warmupS * 1e9
      this.lastReply = this.measureFrom
      this.alive = this.conns.length
      const stop = (reason: StopReason) => {
        if (this.stopping) return
        this.stopping = true
        this.stopReason = reason
        timers.push(setTimeout(() => this.abandonInFlight(), o.drainTimeoutS * 1000))
        this.maybeFinish()
      }
      this.finish = () => {
        this.finish = undefined
        for (const t of timers) clearTimeout(t)
        for (const c of this.conns) {
          c.alive = false
          c.sock.removeAllListeners()
          c.sock.on("error", () => {})
          c.sock.destroy()
        }
        resolve(this.result())
      }
      if (o.durationS !== undefined) timers.push(setTimeout(() => stop("duration"), (o.warmupS + o.durationS) * 1000))
      timers.push(setTimeout(() => stop("max-time"), o.maxTimeS * 1000))
      for (const c of this.conns) {
        c.sock.on("data", (chunk: Buffer) => this.onData(c, chunk))
        c.sock.on("error", (e) => (c.lastError = e.message))
        c.sock.on("close", () => this.onClose(c))
      }
      for (const c of this.conns) this.refill(c, start)
      this.maybeFinish()
    })
  }

  private onData(c: Conn, chunk: Buffer): void {
    const now = nowNs()
    const { frames, violation } = c.decoder.push(chunk)
    const check = this.workload.check
    for (let i = 0; i < frames.length; i++) {
      const body = frames[i]!
      if (c.inFlight === 0) {
        this.errors.add(`${this.workload.label}: a reply with no request in flight`)
        continue
      }
      const t0 = c.times[c.head]!
      c.head = c.head + 1 === c.times.length ? 0 : c.head + 1
      c.inFlight--
      this.received++
      const err = check(body)
      if (err !== undefined) this.errors.add(err)
      if (t0 >= this.measureFrom) {
        this.measured++
        this.hist.record(now - t0)
        this.lastReply = now
      }
    }
    if (violation !== undefined) {
      this.errors.add(`${this.workload.label}: reply frame refused by the decoder (${violation._tag})`)
      c.sock.destroy()
      return
    }
    this.refill(c, now)
    this.maybeFinish()
  }

  private onClose(c: Conn): void {
    if (!c.alive) return
    c.alive = false
    this.alive--
    const why = c.lastError ? ` (${c.lastError})` : ""
    this.errors.add(`${this.workload.label}: connection lost${why} before the reply`, Math.max(1, c.inFlight))
    this.lost += c.inFlight
    c.inFlight = 0
    if (this.alive === 0 && !this.stopping) {
      this.stopping = true
      this.stopReason = "connections-lost"
    }
    this.maybeFinish()
  }

  /** After the drain timeout: every request still unanswered is an error. */
  private abandonInFlight(): void {
    for (const c of this.conns) {
      if (c.inFlight === 0) continue
      this.errors.add(`${this.workload.label}: no reply within the drain timeout`, c.inFlight)
      this.lost += c.inFlight
      c.inFlight = 0
    }
    this.finish?.()
  }

  private maybeFinish(): void {
    if (this.finish === undefined) return
    const inFlight = this.sent - this.received - this.lost
    if (inFlight > 0) return
    if (this.stopping || this.sent >= this.budget || this.alive === 0) this.finish()
  }

  private nextKey(c: Conn): number {
    const o = this.opts
    if (o.keyPattern === "sequential") return (o.keyStart + this.seq++) % o.keyspace
    return Math.floor(c.rand() * o.keyspace)
  }

  /** Tops the connection up to `pipeline` requests in flight, in one write. */
  private refill(c: Conn, now: number): void {
    if (this.stopping || !c.alive) return
    const p = this.opts.pipeline
    const m = Math.min(p - c.inFlight, this.budget - this.sent)
    if (m <= 0) return
    const w = this.workload
    const len = this.frameLen
    let buf: Buffer
    if (w.keyOffset < 0) buf = m === p ? this.constBatch : this.constBatch.subarray(0, m * len)
    else {
      buf = Buffer.allocUnsafe(m * len)
      for (let i = 0; i < m; i++) {
        w.frame.copy(buf, i * len)
        writeKey(buf, i * len + w.keyOffset, this.nextKey(c))
      }
    }
    let slot = c.head + c.inFlight
    for (let i = 0; i < m; i++, slot++) c.times[slot % p] = now
    c.inFlight += m
    this.sent += m
    c.sock.write(buf)
  }

  private result(): LoadResult {
    const o = this.opts
    const elapsedS = this.measured > 0 ? (this.lastReply - this.measureFrom) / 1e9 : 0
    return {
      test: o.test,
      label: this.workload.label,
      connections: o.connections,
      pipeline: o.pipeline,
      dataSize: o.dataSize,
      sent: this.sent,
      received: this.received,
      measured: this.measured,
      elapsedS,
      opsPerSec: elapsedS > 0 ? this.measured / elapsedS : 0,
      latencyNs: this.hist.toData(),
      errors: this.errors.toData(),
      stopReason: this.stopReason
    }
  }
}

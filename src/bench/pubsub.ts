/**
 * The pub/sub row of `npm run bench`: 1 publisher and 100 subscribers on one topic, messages delivered per
 * second. The publisher keeps `pipeline` PUBLISH requests in flight (a new one per reply); every subscriber
 * checks every push byte for byte (after its own client id: the topic, `Ok` and the message as the server must
 * re-encode it), and a wrong frame, an `Error` reply or a lost connection is counted as an error. Only
 * deliveries of messages published inside the measured window count. The baseline mock server has no pub/sub,
 * so this row measures fleare-ts alone.
 *
 * Standalone: `tsx src/bench/pubsub.ts [--seconds S] [--subscribers N] [--pipeline P] [--tsx]` starts fleare-ts
 * as the harness does and prints the row.
 */
import type * as net from "node:net"
import { fileURLToPath } from "node:url"
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { parseArgs } from "node:util"
import { FrameDecoder } from "../protocol/Frame.js"
import { encodeCommand } from "../protocol/Message.js"
import { connectAll, type ConnectOptions } from "./connect.js"
import { makeReplyView, readReply, resultText, statusIsOk } from "./reply.js"
import { fmtInt } from "./report.js"
import { ErrorTally } from "./stats.js"
import { oursSpec, packageRoot, startTarget, type Target } from "./target.js"

/** What one pub/sub run measures. */
export interface PubSubOptions {
  readonly subscribers: number
  /** PUBLISH requests in flight. */
  readonly pipeline: number
  readonly warmupS: number
  readonly seconds: number
}

/** The figures of one run. */
export interface PubSubResult {
  readonly subscribers: number
  readonly published: number
  readonly delivered: number
  readonly seconds: number
  readonly publishedPerSec: number
  readonly deliveredPerSec: number
  readonly errors: ErrorTally
}

export const PUBSUB_TOPIC = "bench:pubsub"
/** The message: JSON whose keys the server must sort, so every push proves the re-encoding. */
export const PUBSUB_MESSAGE = '{"v":1,"text":"hello subscribers","n":[1,2,3]}'
const PUSHED = '{"n":[1,2,3],"text":"hello subscribers","v":1}'

/** A push body without its client-id field: topic, status `Ok`, result. */
const pushTail = (): Buffer => {
  const topic = Buffer.from(PUBSUB_TOPIC)
  const result = Buffer.from(PUSHED)
  return Buffer.concat([
    Buffer.from([0x12, topic.length]),
    topic,
    Buffer.from([0x1a, 2]),
    Buffer.from("Ok"),
    Buffer.from([0x22, result.length]),
    result
  ])
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Subscribes every socket: SUBSCRIBE then PING, and waits for each PONG (SUBSCRIBE answers nothing). */
const subscribeAll = (sockets: ReadonlyArray<net.Socket>): Promise<void> =>
  Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((resolve, reject) => {
          const decoder = new FrameDecoder(1024 * 1024)
          const onData = (chunk: Buffer) => {
            const body = decoder.push(chunk).frames[0]
            if (body === undefined) return
            s.off("data", onData)
            const v = makeReplyView()
            if (readReply(body, v) && statusIsOk(body, v) && resultText(body, v) === "PONG ") resolve()
            else reject(new Error(`SUBSCRIBE/PING answered ${JSON.stringify(resultText(body, v))}`))
          }
          s.on("data", onData)
          s.write(Buffer.concat([encodeCommand("SUBSCRIBE", [PUBSUB_TOPIC]), encodeCommand("PING", [])]))
        })
    )
  ).then(() => undefined)

/** Runs the pub/sub load against a server that is already listening. */
export const runPubSub = async (connect: ConnectOptions, o: PubSubOptions): Promise<PubSubResult> => {
  const errors = new ErrorTally()
  const subs = await connectAll(connect, o.subscribers)
  const [pub] = await connectAll(connect, 1)
  try {
    await subscribeAll(subs)
    const tail = pushTail()
    let counting = false
    let delivered = 0
    for (const s of subs) {
      const decoder = new FrameDecoder(1024 * 1024)
      s.on("data", (chunk: Buffer) => {
        for (const body of decoder.push(chunk).frames) {
          // Skip the subscriber's own client-id field (tag, one-byte length, id), then compare the rest.
          const idEnd = body[0] === 0x0a ? 2 + body[1]! : 0
          if (body.length - idEnd !== tail.length || body.compare(tail, 0, tail.length, idEnd) !== 0)
            errors.add(`push: unexpected frame ${JSON.stringify(body.toString("utf8").slice(0, 80))}`)
          else if (counting) delivered++
        }
      })
      s.on("close", () => errors.add("a subscriber's connection closed"))
    }
    const request = encodeCommand("PUBLISH", [PUBSUB_TOPIC, PUBSUB_MESSAGE])
    const view = makeReplyView()
    const decoder = new FrameDecoder(1024 * 1024)
    let running = true
    let published = 0
    pub!.on("data", (chunk: Buffer) => {
      const frames = decoder.push(chunk).frames
      for (const body of frames) {
        if (!readReply(body, view) || !statusIsOk(body, view) || view.resultEnd !== view.resultStart)
          errors.add(`PUBLISH: ${JSON.stringify(resultText(body, view))}`)
        else if (counting) published++
      }
      if (running && frames.length > 0)
        pub!.write(frames.length === 1 ? request : Buffer.concat(frames.map(() => request)))
    })
    pub!.on("close", () => errors.add("the publisher's connection closed"))
    pub!.write(Buffer.concat(Array.from({ length: o.pipeline }, () => request)))
    await sleep(o.warmupS * 1000)
    counting = true
    const t0 = process.hrtime.bigint()
    await sleep(o.seconds * 1000)
    counting = false
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9
    running = false
    await sleep(200) // let what is in flight arrive (not counted)
    return {
      subscribers: o.subscribers,
      published,
      delivered,
      seconds,
      publishedPerSec: published / seconds,
      deliveredPerSec: delivered / seconds,
      errors
    }
  } finally {
    for (const s of [...subs, pub!]) {
      s.removeAllListeners("close")
      s.destroy()
    }
  }
}

/** The markdown of the pub/sub row (no target: the baseline has no pub/sub to compare with). */
export const renderPubSub = (r: PubSubResult, pipeline: number, cpuUsPerDelivery: number): string =>
  [
    "",
    `Pub/sub: 1 publisher (${pipeline} PUBLISH in flight) and ${r.subscribers} subscribers on one topic, ` +
      `${r.seconds.toFixed(1)} s; every push checked byte for byte. fleare-ts alone (the baseline has no pub/sub).`,
    "",
    "| subscribers | PUBLISH/s | messages delivered/s | server CPU us/delivery | errors |",
    "| --: | --: | --: | --: | --: |",
    `| ${r.subscribers} | ${fmtInt(r.publishedPerSec)} | ${fmtInt(r.deliveredPerSec)} | ${cpuUsPerDelivery.toFixed(2)} | ${r.errors.total} |`,
    ...r.errors.toData().kinds.map((k) => `\n- ${k.count} x ${k.text}`),
    ""
  ].join("\n")

/** Measures the pub/sub row against `target` (fleare-ts) and returns its markdown and whether it had errors. */
export const measurePubSub = async (
  target: Target,
  o: PubSubOptions,
  log: (s: string) => void
): Promise<{ readonly markdown: string; readonly failures: number }> => {
  const connect: ConnectOptions = {
    host: "127.0.0.1",
    port: target.port,
    user: "root",
    password: "root",
    connectTimeoutS: 30
  }
  const cpu0 = target.cpuSeconds()
  const r = await runPubSub(connect, o)
  const cpu = target.cpuSeconds() - cpu0
  // CPU over warm-up and window, per delivery over the same span (deliveries scale with time).
  const span = (o.warmupS + r.seconds) / r.seconds
  const cpuUs = r.delivered > 0 ? (cpu * 1e6) / (r.delivered * span) : NaN
  log(
    `pub/sub: ${r.subscribers} subscribers: ${fmtInt(r.publishedPerSec)} PUBLISH/s, ` +
      `${fmtInt(r.deliveredPerSec)} messages delivered/s, ${r.errors.total} errors`
  )
  return { markdown: renderPubSub(r, o.pipeline, cpuUs), failures: r.errors.total === 0 ? 0 : 1 }
}

const main = async (): Promise<void> => {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string" },
      warmup: { type: "string" },
      subscribers: { type: "string" },
      pipeline: { type: "string" },
      tsx: { type: "boolean" }
    }
  })
  const compiled = !(values.tsx ?? false)
  if (compiled) execFileSync(process.execPath, [join(packageRoot, "scripts/transpile.mjs")], { stdio: "inherit" })
  const target = await startTarget(oursSpec(compiled))
  try {
    const pipeline = Number(values.pipeline ?? 16)
    const { markdown, failures } = await measurePubSub(
      target,
      {
        subscribers: Number(values.subscribers ?? 100),
        pipeline,
        warmupS: Number(values.warmup ?? 0.5),
        seconds: Number(values.seconds ?? 3)
      },
      (s) => console.error(s)
    )
    console.log(markdown)
    process.exitCode = failures === 0 ? 0 : 1
  } finally {
    await target.stop()
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) void main()

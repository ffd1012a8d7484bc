/**
 * Opening benchmark connections: TCP connect plus AUTH, bounded in time, a limited number at a time.
 */
import * as net from "node:net"
import { FrameDecoder } from "../protocol/Frame.js"
import { encodeCommand } from "../protocol/Message.js"
import { makeReplyView, readReply, resultText, statusIsOk, statusText } from "./reply.js"

/** Where to connect and how to authenticate. */
export interface ConnectOptions {
  readonly host: string
  readonly port: number
  /** The AUTH user; undefined sends no AUTH (a server with `enable_auth: false`). */
  readonly user: string | undefined
  readonly password: string
  readonly connectTimeoutS: number
}

/** The benchmark could not start (connect or AUTH failed); a run's own failures are counted as errors instead. */
export class LoadSetupError extends Error {
  override readonly name = "LoadSetupError"
}

/** Loopback addresses: the only targets allowed unless the caller opts out. */
export const isLoopback = (host: string): boolean =>
  /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "::1" || host === "localhost"

/**
 * Opens `n` connections and authenticates each (at most `concurrency` handshakes at a time, so a burst of
 * connects does not overflow the listen backlog). On any failure every socket opened so far is closed.
 */
export const connectAll = async (opts: ConnectOptions, n: number, concurrency = 100): Promise<Array<net.Socket>> => {
  const sockets: Array<net.Socket> = []
  let next = 0
  let failure: Error | undefined
  const lane = async () => {
    while (next < n && failure === undefined) {
      next++
      try {
        sockets.push(await connectOne(opts))
      } catch (e) {
        failure ??= e instanceof Error ? e : new Error(String(e))
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, lane))
  if (failure !== undefined) {
    for (const s of sockets) s.destroy()
    throw failure
  }
  return sockets
}

const connectOne = (opts: ConnectOptions): Promise<net.Socket> =>
  new Promise((resolve, reject) => {
    const target = `${opts.host}:${opts.port}`
    const sock = net.connect({ host: opts.host, port: opts.port, noDelay: true })
    const fail = (why: string) => {
      clearTimeout(timer)
      sock.destroy()
      reject(new LoadSetupError(why))
    }
    const timer = setTimeout(
      () => fail(`connect+auth to ${target} timed out after ${opts.connectTimeoutS}s`),
      opts.connectTimeoutS * 1000
    )
    sock.once("error", (e) => fail(`cannot connect to ${target}: ${e.message}`))
    sock.once("close", () => fail(`${target} closed the connection during connect+auth`))
    const done = () => {
      clearTimeout(timer)
      sock.removeAllListeners()
      // An idle connection may still be reset; without a listener that would be an uncaught exception.
      sock.on("error", () => {})
      resolve(sock)
    }
    sock.once("connect", () => {
      if (opts.user === undefined) return done()
      const decoder = new FrameDecoder(1024 * 1024)
      sock.on("data", (chunk: Buffer) => {
        const body = decoder.push(chunk).frames[0]
        if (body === undefined) return
        const v = makeReplyView()
        if (readReply(body, v) && statusIsOk(body, v)) return done()
        fail(`AUTH as ${opts.user} failed: ${statusText(body, v)} ${JSON.stringify(resultText(body, v))}`)
      })
      sock.write(encodeCommand("AUTH", [opts.user, opts.password]))
    })
  })

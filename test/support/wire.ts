/**
 * A raw Fleare-protocol test client over a real TCP socket: send frames (or any bytes), read reply frames in
 * order. It uses the project's frame decoder and Response codec, which `test/protocol` checks against
 * literal bytes and against @bufbuild/protobuf.
 */
import * as net from "node:net"
import { FrameDecoder } from "../../src/protocol/Frame.js"
import { decodeResponse, encodeCommand } from "../../src/protocol/Message.js"

export interface WireReply {
  readonly status: "Ok" | "Error"
  readonly result: string
  readonly clientId: string
  readonly topic: string
  /** The raw frame body, for byte-level assertions. */
  readonly body: Buffer
}

export class WireClient {
  private readonly decoder = new FrameDecoder(64 * 1024 * 1024)
  private readonly replies: Array<WireReply> = []
  private readonly waiters: Array<(r: WireReply | undefined) => void> = []
  private ended = false
  /** Resolves when the server closes (or resets) the connection. */
  readonly closed: Promise<void>

  private constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      for (const body of this.decoder.push(chunk).frames) {
        const r = decodeResponse(body)
        if (r === undefined) throw new Error("undecodable reply frame")
        const reply: WireReply = {
          status: r.status,
          result: Buffer.from(r.result).toString("utf8"),
          clientId: r.clientId,
          topic: r.topic,
          body: Buffer.from(body)
        }
        const w = this.waiters.shift()
        if (w) w(reply)
        else this.replies.push(reply)
      }
    })
    this.closed = new Promise((resolve) => {
      const done = () => {
        if (this.ended) return
        this.ended = true
        for (const w of this.waiters.splice(0)) w(undefined)
        resolve()
      }
      // The server ending its side (FIN) is the server closing the connection.
      socket.on("end", done)
      socket.on("close", done)
      socket.on("error", () => {})
    })
  }

  static connect(port: number, host = "127.0.0.1"): Promise<WireClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ port, host, allowHalfOpen: true, noDelay: true })
      socket.once("connect", () => resolve(new WireClient(socket)))
      socket.once("error", reject)
    })
  }

  /** Connects and authenticates; throws if AUTH does not answer Connected. */
  static async authed(port: number, user = "root", password = "root"): Promise<WireClient> {
    const c = await WireClient.connect(port)
    const r = await c.call("AUTH", user, password)
    if (r.status !== "Ok" || r.result !== "Connected") throw new Error(`auth failed: ${r.result}`)
    return c
  }

  /** Writes raw bytes. */
  write(bytes: Buffer | Uint8Array): void {
    this.socket.write(bytes)
  }

  /** Sends one command frame without waiting. */
  send(command: string, ...args: Array<string>): void {
    this.socket.write(encodeCommand(command, args))
  }

  /** The next reply; rejects if the connection closes first or nothing comes within `timeoutMs`. */
  next(timeoutMs = 5000): Promise<WireReply> {
    const ready = this.replies.shift()
    if (ready) return Promise.resolve(ready)
    if (this.ended) return Promise.reject(new Error("connection closed"))
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w)
        if (i >= 0) this.waiters.splice(i, 1)
        reject(new Error(`no reply within ${timeoutMs} ms`))
      }, timeoutMs)
      const w = (r: WireReply | undefined) => {
        clearTimeout(timer)
        if (r) resolve(r)
        else reject(new Error("connection closed"))
      }
      this.waiters.push(w)
    })
  }

  /** Sends a command and waits for its reply. */
  call(command: string, ...args: Array<string>): Promise<WireReply> {
    this.send(command, ...args)
    return this.next()
  }

  /** Sends a command and returns its result text, throwing on an `Error` status. */
  async ok(command: string, ...args: Array<string>): Promise<string> {
    const r = await this.call(command, ...args)
    if (r.status !== "Ok") throw new Error(`${command} ${args.join(" ")} failed: ${r.result}`)
    return r.result
  }

  /** Half-closes: no more requests, replies still arrive. */
  end(): void {
    this.socket.end()
  }

  destroy(): void {
    this.socket.destroy()
  }

  /** True once the server closed the connection. */
  get isClosed(): boolean {
    return this.ended
  }
}

/**
 * A tiny scripted Fleare server on loopback port 0, for what the real server cannot show yet (pub/sub) or
 * cannot show on purpose (holding replies back, never answering). It speaks the real framing and codec and
 * answers AUTH with `Connected`, PING with PONG, SUBSCRIBE with nothing (as Fleare does), PUBLISH by pushing
 * to the subscribers; `onCommand` can take over any command.
 */
import * as net from "node:net"
import { FrameDecoder } from "../../src/protocol/Frame.js"
import { decodeCommand, encodeResponse, type Command } from "../../src/protocol/Message.js"

export interface FakeConnection {
  readonly id: string
  readonly socket: net.Socket
  readonly topics: Set<string>
  /** Every command received, in order. */
  readonly received: Array<Command>
  reply(status: "Ok" | "Error", result: string): void
  push(topic: string, payload: string): void
}

export interface FakeServer {
  readonly port: number
  readonly connections: Array<FakeConnection>
  /** Every command received on any connection, in order. */
  readonly received: Array<Command>
  /** Pushes to every connection subscribed to `topic`. */
  publish(topic: string, payload: string): void
  close(): Promise<void>
}

/** `onCommand` returns true when it handled the command itself. */
export type CommandHandler = (conn: FakeConnection, command: Command) => boolean

/** Fleare re-encodes a published message as JSON: JSON stays (compact), anything else becomes a JSON string. */
const pushPayload = (message: string): string => {
  try {
    return JSON.stringify(JSON.parse(message))
  } catch {
    return JSON.stringify(message)
  }
}

export const startFakeServer = (onCommand: CommandHandler = () => false, port = 0): Promise<FakeServer> =>
  new Promise((resolve, reject) => {
    const connections: Array<FakeConnection> = []
    const received: Array<Command> = []
    const sockets = new Set<net.Socket>()
    let n = 0
    const publish = (topic: string, payload: string) => {
      for (const c of connections) if (c.topics.has(topic) && !c.socket.destroyed) c.push(topic, payload)
    }
    const server = net.createServer((socket) => {
      sockets.add(socket)
      socket.on("close", () => sockets.delete(socket))
      socket.on("error", () => {})
      const id = `${++n}-127.0.0.1:${socket.remotePort}`
      const conn: FakeConnection = {
        id,
        socket,
        topics: new Set(),
        received: [],
        reply: (status, result) => {
          if (!socket.destroyed) socket.write(encodeResponse({ clientId: id, topic: "", status, result }))
        },
        push: (topic, payload) => {
          if (!socket.destroyed) socket.write(encodeResponse({ clientId: id, topic, status: "Ok", result: payload }))
        }
      }
      connections.push(conn)
      const decoder = new FrameDecoder(10 * 1024 * 1024)
      socket.on("data", (chunk: Buffer) => {
        for (const body of decoder.push(chunk).frames) {
          const command = decodeCommand(body)!
          conn.received.push(command)
          received.push(command)
          if (onCommand(conn, command)) continue
          const name = command.command.toUpperCase()
          const [a0 = "", a1 = ""] = command.args
          if (name === "AUTH") conn.reply("Ok", "Connected")
          else if (name === "PING") conn.reply("Ok", "PONG " + command.args.join(" "))
          else if (name === "SUBSCRIBE") {
            if (a0 === "") conn.reply("Error", "missing topic for subscribe")
            else conn.topics.add(a0)
          } else if (name === "UNSUBSCRIBE") conn.topics.delete(a0)
          else if (name === "PUBLISH") {
            publish(a0, pushPayload(a1))
            conn.reply("Ok", "")
          } else conn.reply("Error", `InvalidCommandError: unknown to the fake server -> "${command.command}"`)
        }
      })
    })
    server.once("error", reject)
    server.listen({ host: "127.0.0.1", port }, () => {
      resolve({
        port: (server.address() as net.AddressInfo).port,
        connections,
        received,
        publish,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      })
    })
  })

/** Resolves when `check` holds, polling every 10 ms; rejects after `ms`. */
export const eventually = async (check: () => boolean, ms = 5_000): Promise<void> => {
  const start = performance.now()
  while (!check()) {
    if (performance.now() - start > ms) throw new Error("condition not reached in time")
    await new Promise((r) => setTimeout(r, 10))
  }
}

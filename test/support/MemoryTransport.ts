/**
 * An in-memory Transport: the whole server (connection actors, sessions, commands) runs without sockets, in the
 * test's own runtime, so `TestClock` drives every timestamp and timeout. `connect` opens a connection whose
 * actor is forked in the caller's scope; the client sends frames and takes replies.
 */
import { Effect, Layer, Queue, type Scope } from "effect"
import { type DeepPartial, ServerConfig, type ServerConfigShape } from "../../src/config/ServerConfig.js"
import { Durability } from "../../src/persistence/Durability.js"
import { FrameDecoder } from "../../src/protocol/Frame.js"
import { decodeResponse, encodeCommand } from "../../src/protocol/Message.js"
import { Broker } from "../../src/pubsub/Broker.js"
import { FleareServer } from "../../src/server/Server.js"
import { type Conn, Transport } from "../../src/server/Transport.js"
import { Accounts } from "../../src/session/Accounts.js"
import { SessionStore } from "../../src/session/SessionStore.js"
import { Keyspace } from "../../src/store/Keyspace.js"
import type { WireReply } from "./wire.js"

export interface MemoryClient {
  readonly send: (command: string, ...args: Array<string>) => Effect.Effect<void>
  /** The next reply frame (waits for the actor to produce it). */
  readonly next: Effect.Effect<WireReply>
  /** Sends and waits for the reply. */
  readonly call: (command: string, ...args: Array<string>) => Effect.Effect<WireReply>
  /** Ends input, as a client's FIN would. */
  readonly end: Effect.Effect<void>
}

export interface MemoryTransport {
  readonly layer: Layer.Layer<Transport>
  /** `dieOnRead`: the connection's reads die with it (a transport bug), to test what a defect in the actor does. */
  readonly connect: (
    remotePort?: number,
    options?: { readonly dieOnRead?: unknown }
  ) => Effect.Effect<MemoryClient, never, Scope.Scope>
}

export const makeMemoryTransport = (): MemoryTransport => {
  let handler: ((conn: Conn) => Effect.Effect<void>) | undefined
  let nextPort = 50000
  const layer = Layer.succeed(Transport, {
    serve: (_address, h) =>
      Effect.sync(() => {
        handler = h
        return { host: "127.0.0.1", port: 9219 }
      })
  })
  const connect = (remotePort = nextPort++, options: { readonly dieOnRead?: unknown } = {}) =>
    Effect.gen(function* () {
      if (handler === undefined) return yield* Effect.dieMessage("server not started")
      const replies = yield* Queue.unbounded<WireReply>()
      const decoder = new FrameDecoder(1 << 30)
      let inbox: Array<Buffer> = []
      let done = false
      let waiter: ((c: ReadonlyArray<Buffer> | undefined) => void) | undefined
      const wake = () => {
        if (!waiter) return
        const w = waiter
        waiter = undefined
        const out = inbox
        inbox = []
        w(out.length ? out : done ? undefined : [])
      }
      const conn: Conn = {
        remoteAddress: "127.0.0.1",
        remotePort,
        read:
          "dieOnRead" in options
            ? Effect.die(options.dieOnRead)
            : Effect.async((resume) => {
                if (inbox.length || done) {
                  const out = inbox
                  inbox = []
                  return resume(Effect.succeed(out.length ? out : undefined))
                }
                waiter = (c) => resume(Effect.succeed(c))
              }),
        write: (data) => {
          for (const body of decoder.push(data).frames) {
            const r = decodeResponse(body)!
            Queue.unsafeOffer(replies, {
              status: r.status,
              result: Buffer.from(r.result).toString(),
              clientId: r.clientId,
              topic: r.topic,
              body: Buffer.from(body)
            })
          }
        },
        end: () => {
          done = true
        },
        // No fast path here: every read goes through the actor's fiber, so these tests cover that path.
        setFastPath: () => {},
        kill: () => {
          done = true
          wake()
        },
        // Replies are handed over at once: nothing is ever pending.
        pendingOutputBytes: () => 0,
        setOnDrain: () => {},
        drained: () => Effect.void,
        abort: () => {
          done = true
          wake()
        }
      }
      yield* Effect.forkScoped(handler(conn))
      const send = (command: string, ...args: Array<string>) =>
        Effect.sync(() => {
          inbox.push(encodeCommand(command, args))
          wake()
        })
      const next = Queue.take(replies)
      return {
        send,
        next,
        call: (command: string, ...args: Array<string>) => Effect.zipRight(send(command, ...args), next),
        end: Effect.sync(() => {
          done = true
          wake()
        })
      }
    })
  return { layer, connect }
}

/** What a test may swap in `memoryServer`; the rest are the server's own layers. */
export interface MemoryServerOptions {
  readonly config?: DeepPartial<ServerConfigShape>
  readonly sessions?: Layer.Layer<SessionStore, never, ServerConfig>
  readonly keyspace?: Layer.Layer<Keyspace, never, ServerConfig>
  readonly durability?: Layer.Layer<Durability>
}

/**
 * The real server over a memory transport: its layer (the services it was built on stay visible to the test)
 * and `connect`. Defaults: the config's session store and keyspace, no log, the in-memory broker.
 */
export const memoryServer = (options: MemoryServerOptions = {}) => {
  const transport = makeMemoryTransport()
  const layer = FleareServer.layer.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        transport.layer,
        options.sessions ?? SessionStore.layerConfig,
        Accounts.layer,
        options.keyspace ?? Keyspace.layerConfig,
        options.durability ?? Durability.layerNone,
        Broker.layerMemory
      )
    ),
    Layer.provide(ServerConfig.layer(ServerConfig.unsafeMake(options.config ?? {})))
  )
  return { layer, connect: transport.connect }
}

/**
 * An in-memory transport: the whole server (connection actors, sessions, commands, expiry) with no socket, in
 * the caller's runtime, so `TestClock` drives every timestamp and timeout. `MemoryLink.dial` opens a connection
 * and returns the client's end as a Node `Duplex`, the shape of a `net.Socket`, which `FleareClient` (or any
 * code that speaks the wire protocol over a socket) uses unchanged. `FleareServer.layerTest` is built on it.
 */
import { Duplex } from "node:stream"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import { type Conn, type ListenAddress, Transport, TransportError } from "./Transport.js"

/** How a client reaches a server served by the in-memory transport. */
export interface MemoryLinkShape {
  /**
   * Opens a connection: the server runs a connection actor for it (as for an accepted socket) and the client
   * gets its end as a `Duplex`. Fails when the server is not serving (not built yet, or closed).
   */
  readonly dial: Effect.Effect<Duplex, TransportError>
}

/** The in-memory transport's dialer, provided beside the `Transport` by `MemoryTransport.layer`. */
export class MemoryLink extends Context.Tag("fleare/MemoryLink")<MemoryLink, MemoryLinkShape>() {}

/** One in-memory connection: the server's `Conn` and the client's `Duplex`, joined. */
const makeConnection = (remotePort: number): { readonly conn: Conn; readonly client: Duplex } => {
  let inbox: Array<Buffer> = []
  let done = false
  let waiter: ((chunks: ReadonlyArray<Buffer> | undefined) => void) | undefined
  const take = (): ReadonlyArray<Buffer> | undefined => {
    const out = inbox
    inbox = []
    return out.length > 0 ? out : done ? undefined : []
  }
  const wake = (): void => {
    if (waiter === undefined) return
    const w = waiter
    waiter = undefined
    w(take())
  }
  const client = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      inbox.push(Buffer.from(chunk))
      wake()
      callback()
    },
    // The client's end() is a FIN: the server reads what is left, answers it, and ends its side.
    final(callback) {
      done = true
      wake()
      callback()
    },
    destroy(error, callback) {
      done = true
      wake()
      callback(error)
    }
  })
  const conn: Conn = {
    remoteAddress: "127.0.0.1",
    remotePort,
    read: Effect.async((resume) => {
      if (inbox.length > 0 || done) return resume(Effect.succeed(take()))
      waiter = (chunks) => resume(Effect.succeed(chunks))
      return Effect.sync(() => {
        waiter = undefined
      })
    }),
    write: (data) => {
      if (!client.destroyed) client.push(Buffer.from(data))
    },
    end: () => {
      if (!client.destroyed) client.push(null)
    },
    // No fast path: every request goes through the actor's fiber, which is what a test wants to drive.
    setFastPath: () => {},
    kill: () => {
      done = true
      wake()
    },
    // Writes are handed to the client's stream at once: nothing is ever pending, so nothing waits to drain.
    pendingOutputBytes: () => 0,
    setOnDrain: () => {},
    drained: () => Effect.void,
    abort: () => {
      done = true
      wake()
      if (!client.destroyed) client.push(null)
    }
  }
  return { conn, client }
}

/** Builds the in-memory transport and its dialer (one server at a time). */
const make = Effect.sync(() => {
  let runFork: ((effect: Effect.Effect<void>) => unknown) | undefined
  let handler: ((conn: Conn) => Effect.Effect<void>) | undefined
  let nextPort = 50000
  const clients = new Set<Duplex>()
  const transport = Transport.of({
    serve: (address: ListenAddress, h) =>
      Effect.gen(function* () {
        runFork = yield* FiberSet.makeRuntime<never, void, never>()
        handler = h
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            handler = undefined
            runFork = undefined
            for (const c of clients) c.destroy()
            clients.clear()
          })
        )
        return { host: address.host, port: address.port }
      })
  })
  const link = MemoryLink.of({
    dial: Effect.suspend(() => {
      if (handler === undefined || runFork === undefined)
        return Effect.fail(new TransportError({ message: "the in-memory server is not serving", cause: undefined }))
      const { conn, client } = makeConnection(nextPort++)
      clients.add(client)
      client.once("close", () => clients.delete(client))
      runFork(handler(conn))
      return Effect.succeed(client)
    })
  })
  return Context.make(Transport, transport).pipe(Context.add(MemoryLink, link))
})

/** The in-memory transport. */
export const MemoryTransport = {
  /** A `Transport` with no socket and the `MemoryLink` that connects to it. */
  layer: Layer.effectContext(make) as Layer.Layer<Transport | MemoryLink>
}

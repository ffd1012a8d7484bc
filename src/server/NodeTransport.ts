/**
 * The node:net transport. Each socket is read with explicit backpressure: incoming chunks wait in a small
 * inbox for the connection fiber, and the socket is paused while the inbox or the unsent output is above its
 * high-water mark, so a client that floods without reading cannot grow the server's memory. Half-open
 * sockets are allowed: a client that sends its requests and then shuts down its write side still gets every
 * reply before the server closes.
 */
import * as net from "node:net"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import {
  type Conn,
  defaultFlowLimits,
  type FlowLimits,
  type ListenAddress,
  Transport,
  TransportError,
  type TransportShape
} from "./Transport.js"

const makeConn = (socket: net.Socket, limits: FlowLimits): Conn => {
  let chunks: Array<Buffer> = []
  let inboxBytes = 0
  let inputDone = false
  let closing = false
  let waiter: ((chunks: ReadonlyArray<Buffer> | undefined) => void) | undefined

  const updateFlow = (): void => {
    if (closing || socket.destroyed) return
    const stop = inboxBytes > limits.inputHighWater || socket.writableLength > limits.outputHighWater
    if (stop && !socket.isPaused()) socket.pause()
    else if (!stop && socket.isPaused() && !inputDone) socket.resume()
  }

  const take = (): ReadonlyArray<Buffer> | undefined => {
    if (chunks.length === 0) return inputDone ? undefined : []
    const out = chunks
    chunks = []
    inboxBytes = 0
    updateFlow()
    return out
  }

  const wake = (): void => {
    if (waiter === undefined) return
    const w = waiter
    waiter = undefined
    w(take())
  }

  const finishInput = (): void => {
    inputDone = true
    wake()
  }

  let fastPath: ((chunk: Buffer) => "handled" | "wake" | "decline") | undefined
  socket.on("data", (chunk: Buffer) => {
    if (closing || inputDone) return // a closing connection discards what the peer still sends
    if (fastPath !== undefined && waiter !== undefined && chunks.length === 0) {
      const outcome = fastPath(chunk)
      if (outcome === "handled") return
      if (outcome === "wake") return wake()
    }
    chunks.push(chunk)
    inboxBytes += chunk.length
    updateFlow()
    wake()
  })
  socket.on("drain", updateFlow)
  socket.on("end", finishInput)
  socket.on("error", finishInput) // ECONNRESET and friends: the peer is gone, nothing to answer
  socket.on("close", finishInput)

  const cancelWait = Effect.sync(() => {
    waiter = undefined
  })
  const read: Conn["read"] = Effect.async<ReadonlyArray<Buffer> | undefined>((resume) => {
    const ready = take()
    if (ready === undefined || ready.length > 0) return resume(Effect.succeed(ready))
    waiter = (r) => resume(Effect.succeed(r))
    return cancelWait
  })

  return {
    remoteAddress: socket.remoteAddress ?? "unknown",
    remotePort: socket.remotePort ?? 0,
    read,
    write: (data) => {
      if (socket.destroyed || socket.writableEnded) return
      socket.write(data)
      if (socket.writableLength > limits.outputHighWater) updateFlow()
    },
    end: () => {
      if (closing) return
      closing = true
      inputDone = true
      chunks = []
      if (socket.destroyed) return
      // Keep reading (and discarding) so the kernel does not answer the peer's late bytes with a reset that
      // could destroy our last reply in flight; destroy after the linger time if the peer never closes.
      socket.resume()
      socket.end()
      const timer = setTimeout(() => socket.destroy(), limits.lingerMillis)
      timer.unref()
      socket.once("close", () => clearTimeout(timer))
    },
    setFastPath: (handler) => {
      fastPath = handler
    },
    kill: () => {
      chunks = []
      inboxBytes = 0
      finishInput()
    }
  }
}

/** A node:net transport with the given flow limits. */
export const makeNodeTransport = (limits: FlowLimits = defaultFlowLimits): TransportShape => ({
  serve: (address: ListenAddress, handler) =>
    Effect.gen(function* () {
      const runFork = yield* FiberSet.makeRuntime<never, void, never>()
      const sockets = new Set<net.Socket>()
      const server = net.createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true })
      server.on("connection", (socket) => {
        sockets.add(socket)
        socket.once("close", () => sockets.delete(socket))
        runFork(handler(makeConn(socket, limits)))
      })
      const bound = yield* Effect.async<ListenAddress, TransportError>((resume) => {
        const onError = (cause: Error): void =>
          resume(
            Effect.fail(
              new TransportError({
                message: `cannot listen on ${address.host}:${address.port}: ${cause.message}`,
                cause
              })
            )
          )
        server.once("error", onError)
        server.listen({ host: address.host, port: address.port }, () => {
          server.off("error", onError)
          const a = server.address() as net.AddressInfo
          resume(Effect.succeed({ host: a.address, port: a.port }))
        })
      })
      server.on("error", () => {}) // after listening, accept errors (EMFILE) must not crash the process
      yield* Effect.addFinalizer(() =>
        Effect.async<void>((resume) => {
          // Stop accepting; close idle sockets now, and give the ones still sending replies the linger time.
          server.close(() => resume(Effect.void))
          for (const s of sockets) {
            if (s.writableLength === 0) s.destroy()
            else {
              s.end()
              setTimeout(() => s.destroy(), limits.lingerMillis).unref()
            }
          }
        })
      )
      return bound
    })
})

/** The node:net transport as a layer. */
export const NodeTransportLayer: Layer.Layer<Transport> = Layer.succeed(Transport, makeNodeTransport())

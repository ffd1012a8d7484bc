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
  type FastPathHandler,
  type FlowLimits,
  type ListenAddress,
  Transport,
  TransportError,
  type TransportShape
} from "./Transport.js"

/** The socket's `NodeConn`, for the shared event listeners below. */
const connOf = Symbol("fleare/NodeConn")
type OwnedSocket = net.Socket & { [connOf]: NodeConn }

// The socket's event listeners, shared by every connection (a listener runs with the emitter as `this`): a
// closure per event and connection would cost about 220 B per idle connection.
function onSocketData(this: OwnedSocket, chunk: Buffer): void {
  this[connOf].onData(chunk)
}
function onSocketDrain(this: OwnedSocket): void {
  this[connOf].onDrain()
}
function onSocketInputDone(this: OwnedSocket): void {
  this[connOf].finishInput()
}
function onSocketClose(this: OwnedSocket): void {
  this[connOf].onClose()
}

/**
 * A socket as a `Conn`. One object with shared methods per connection (a server holds thousands of idle ones):
 * its only closure is the `read` Effect's (the socket's listeners are shared functions).
 */
class NodeConn implements Conn {
  readonly remoteAddress: string
  readonly remotePort: number
  readonly read: Effect.Effect<ReadonlyArray<Buffer> | undefined>
  private chunks: Array<Buffer> = []
  private inboxBytes = 0
  private inputDone = false
  private closing = false
  /** The parked `read`'s resume function, while the actor waits for input. */
  private waiter: ((result: Effect.Effect<ReadonlyArray<Buffer> | undefined>) => void) | undefined = undefined
  private fastPathHandler: FastPathHandler | undefined = undefined
  private drainListener: (() => void) | undefined = undefined
  /** Who waits in `drained` for the output to fall under the high-water mark. */
  private drainWaiters: Array<() => void> | undefined = undefined

  constructor(
    private readonly socket: net.Socket,
    private readonly limits: FlowLimits,
    /** The transport's open connections: this one is in it until its socket closes. */
    private readonly open: Set<NodeConn>
  ) {
    this.remoteAddress = socket.remoteAddress ?? "unknown"
    this.remotePort = socket.remotePort ?? 0
    open.add(this)
    ;(socket as OwnedSocket)[connOf] = this
    socket.on("data", onSocketData)
    socket.on("drain", onSocketDrain)
    socket.on("end", onSocketInputDone)
    socket.on("error", onSocketInputDone) // ECONNRESET and friends: the peer is gone, nothing to answer
    socket.on("close", onSocketClose)
    // No canceler: the only interruption is the actor's end, which calls `end()`, and that drops the waiter
    // (a canceler would wrap every parked read in an uninterruptible region, about 1 KB per idle connection).
    this.read = Effect.async<ReadonlyArray<Buffer> | undefined>((resume) => {
      const ready = this.take()
      if (ready === undefined || ready.length > 0) resume(Effect.succeed(ready))
      else this.waiter = resume
    })
  }

  drained(): Effect.Effect<void> {
    return Effect.async<void>((resume) => {
      if (this.socket.destroyed || this.socket.writableLength <= this.limits.outputHighWater) return resume(Effect.void)
      ;(this.drainWaiters ??= []).push(() => resume(Effect.void))
    })
  }

  private wakeDrainWaiters(): void {
    const waiters = this.drainWaiters
    if (waiters === undefined) return
    this.drainWaiters = undefined
    for (const w of waiters) w()
  }

  pendingOutputBytes(): number {
    return this.socket.writableLength
  }

  abort(): void {
    this.kill()
    this.closing = true
    this.socket.destroy()
    this.wakeDrainWaiters()
  }

  /** The socket's `drain`: output that had backed up was sent. */
  onDrain(): void {
    this.updateFlow()
    this.drainListener?.()
    this.wakeDrainWaiters()
  }

  /** The socket's `close`. */
  onClose(): void {
    this.open.delete(this)
    this.finishInput()
    this.wakeDrainWaiters()
  }

  /** The socket's `data`. */
  onData(chunk: Buffer): void {
    if (this.closing || this.inputDone) return // a closing connection discards what the peer still sends
    if (this.fastPathHandler !== undefined && this.waiter !== undefined && this.chunks.length === 0) {
      const outcome = this.fastPathHandler.fastPath(chunk)
      if (outcome === "handled") return
      if (outcome === "wake") return this.wake()
    }
    this.chunks.push(chunk)
    this.inboxBytes += chunk.length
    this.updateFlow()
    this.wake()
  }

  private updateFlow(): void {
    const socket = this.socket
    if (this.closing || socket.destroyed) return
    const stop = this.inboxBytes > this.limits.inputHighWater || socket.writableLength > this.limits.outputHighWater
    if (stop && !socket.isPaused()) socket.pause()
    else if (!stop && socket.isPaused() && !this.inputDone) socket.resume()
  }

  private take(): ReadonlyArray<Buffer> | undefined {
    if (this.chunks.length === 0) return this.inputDone ? undefined : []
    const out = this.chunks
    this.chunks = []
    this.inboxBytes = 0
    this.updateFlow()
    return out
  }

  private wake(): void {
    const w = this.waiter
    if (w === undefined) return
    this.waiter = undefined
    w(Effect.succeed(this.take()))
  }

  /** The socket's `end` or `error` (and `kill`): no more input. */
  finishInput(): void {
    this.inputDone = true
    this.wake()
  }

  write(data: Buffer): void {
    const socket = this.socket
    if (socket.destroyed || socket.writableEnded) return
    socket.write(data)
    if (socket.writableLength > this.limits.outputHighWater) this.updateFlow()
  }

  end(): void {
    if (this.closing) return
    this.closing = true
    this.inputDone = true
    this.chunks = []
    this.waiter = undefined
    const socket = this.socket
    if (socket.destroyed) return
    // Keep reading (and discarding) so the kernel does not answer the peer's late bytes with a reset that
    // could destroy our last reply in flight; destroy after the linger time if the peer never closes.
    socket.resume()
    socket.end()
    const timer = setTimeout(() => socket.destroy(), this.limits.lingerMillis)
    timer.unref()
    socket.once("close", () => clearTimeout(timer))
  }

  setFastPath(handler: FastPathHandler): void {
    this.fastPathHandler = handler
  }

  setOnDrain(listener: () => void): void {
    this.drainListener = listener
  }

  kill(): void {
    this.chunks = []
    this.inboxBytes = 0
    this.finishInput()
  }

  /** At server close: an idle socket is closed now, one still sending replies gets the linger time. */
  closeForShutdown(): void {
    const socket = this.socket
    if (socket.writableLength === 0) socket.destroy()
    else {
      socket.end()
      setTimeout(() => socket.destroy(), this.limits.lingerMillis).unref()
    }
  }
}

/** A node:net transport with the given flow limits. */
export const makeNodeTransport = (limits: FlowLimits = defaultFlowLimits): TransportShape => ({
  serve: (address: ListenAddress, handler) =>
    Effect.gen(function* () {
      const runFork = yield* FiberSet.makeRuntime<never, void, never>()
      const open = new Set<NodeConn>()
      const server = net.createServer({ allowHalfOpen: true, noDelay: true, keepAlive: true })
      server.on("connection", (socket) => {
        runFork(handler(new NodeConn(socket, limits, open)))
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
          for (const conn of open) conn.closeForShutdown()
        })
      )
      return bound
    })
})

/** The node:net transport as a layer. */
export const NodeTransportLayer: Layer.Layer<Transport> = Layer.succeed(Transport, makeNodeTransport())

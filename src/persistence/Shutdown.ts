/**
 * Graceful shutdown of the connections, before the log closes. Wrapping a `Transport`, it adds a step to the
 * close of the server's scope that runs before the transport's own close: every connection is told to stop
 * reading (`kill`), finishes the batch it is running, waits for its barrier, sends those replies and ends;
 * connections accepted meanwhile are ended at once. The step waits for all of them, at most `timeout`. The
 * persistence layer is built before the server, so its finalizer (flush, fsync, close) runs after this.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ServerConfig } from "../config/ServerConfig.js"
import { type Conn, Transport, type TransportShape } from "../server/Transport.js"

/** `inner` with a draining close (see the module comment). */
export const drainingTransport = (inner: TransportShape, timeout: Duration.DurationInput): TransportShape => ({
  serve: (address, handler) =>
    Effect.gen(function* () {
      const live = new Set<Conn>()
      let draining = false
      let idle: (() => void) | undefined
      const tracked = (conn: Conn): Effect.Effect<void> => {
        if (draining) {
          conn.end()
          return Effect.void
        }
        live.add(conn)
        // The transport runs each handler as its own fiber: its end, however it ends, is the connection's. An
        // observer costs far less per idle connection than an `ensuring` region.
        return Effect.withFiberRuntime((fiber) => {
          fiber.addObserver(() => {
            live.delete(conn)
            if (live.size === 0) idle?.()
          })
          return handler(conn)
        })
      }
      const bound = yield* inner.serve(address, tracked)
      yield* Effect.addFinalizer(() =>
        Effect.gen(function* () {
          draining = true
          const open = live.size
          if (open === 0) return
          yield* Effect.logInfo(`shutting down: finishing the requests of ${open} connections`)
          for (const conn of live) conn.kill()
          const drained = yield* Effect.async<void>((resume) => {
            if (live.size === 0) return resume(Effect.void)
            idle = () => resume(Effect.void)
          }).pipe(Effect.timeout(timeout), Effect.option)
          if (drained._tag === "None")
            yield* Effect.logWarning(
              `shutting down: ${live.size} connections still busy after ${Duration.format(timeout)}; closing them`
            )
        })
      )
      return bound
    })
})

/** `transport` with a draining close bounded by `persistence.shutdown_timeout_seconds`. */
export const layerDraining = (transport: Layer.Layer<Transport>): Layer.Layer<Transport, never, ServerConfig> =>
  Layer.effect(
    Transport,
    Effect.gen(function* () {
      const inner = yield* Transport
      const config = yield* ServerConfig
      return drainingTransport(inner, Duration.seconds(config.persistence.shutdown_timeout_seconds))
    })
  ).pipe(Layer.provide(transport))

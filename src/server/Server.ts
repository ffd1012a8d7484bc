/**
 * `FleareServer`: the whole server as one layer. It reads the configuration, resolves the services once,
 * listens through the `Transport`, and runs a connection actor per accepted socket until its scope closes.
 * Embedders build it with `FleareServer.layer` (their own Transport/SessionStore/Accounts),
 * `FleareServer.layerNode` (everything from the configuration, node:net transport), then read `address`, or in
 * tests `FleareServer.layerTest` (no socket: reach it with `FleareClient.layerTest`).
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Durability } from "../persistence/Durability.js"
import type { PersistenceError, WalCorrupt } from "../persistence/errors.js"
import { Persistence } from "../persistence/Persistence.js"
import { layerDraining } from "../persistence/Shutdown.js"
import type { CommandSpec, ServerServices } from "../commands/Command.js"
import { lookupCommandBytes } from "../commands/registry.js"
import type { ConfigError } from "../config/ConfigError.js"
import { type DeepPartial, ServerConfig, type ServerConfigShape } from "../config/ServerConfig.js"
import { Broker } from "../pubsub/Broker.js"
import { Ops } from "../ops/Ops.js"
import { FrameWriter } from "../protocol/Message.js"
import { Accounts } from "../session/Accounts.js"
import { SessionStore } from "../session/SessionStore.js"
import { Keyspace } from "../store/Keyspace.js"
import { nowNanos } from "../session/Timestamp.js"
import { VERSION } from "../version.js"
import { AuthLimiter } from "../session/AuthLimiter.js"
import { connectionScheduler } from "./ConnectionScheduler.js"
import { type ConnectionDeps, runConnection } from "./Connection.js"
import { connectionLimits } from "./Limits.js"
import { ConnectionRegistry } from "./Connections.js"
import { MemoryLink, MemoryTransport } from "./MemoryTransport.js"
import { NodeTransportLayer } from "./NodeTransport.js"
import { StoreBackend, type StoreBackendShape } from "./StoreBackend.js"
import { type ListenAddress, Transport, type TransportError } from "./Transport.js"

/** A running server. */
export interface FleareServerShape {
  /** The address it listens on (the real port when configured with port 0). */
  readonly address: ListenAddress
  /** The live connections. */
  readonly connections: ConnectionRegistry
}

/** The byte lookup of the command table as a store backend runs it (each spec adapted once, here). */
const adaptedLookup = (backend: StoreBackendShape) => {
  const adapted = new Map<CommandSpec, CommandSpec>()
  return (buf: Buffer, start: number, end: number): CommandSpec | undefined => {
    const spec = lookupCommandBytes(buf, start, end)
    if (spec === undefined) return undefined
    let mine = adapted.get(spec)
    if (mine === undefined) adapted.set(spec, (mine = backend.adapt(spec)))
    return mine
  }
}

export class FleareServer extends Context.Tag("fleare/FleareServer")<FleareServer, FleareServerShape>() {
  /** The server over the given services. */
  static layer: Layer.Layer<
    FleareServer,
    TransportError,
    ServerConfig | Transport | SessionStore | Accounts | Keyspace | Durability | Broker
  > = Layer.scoped(
    FleareServer,
    Effect.gen(function* () {
      const config = yield* ServerConfig
      const transport = yield* Transport
      const backend = yield* Effect.serviceOption(StoreBackend)
      const connections = new ConnectionRegistry(backend._tag === "Some" ? backend.value.nextClientNumber : undefined)
      if (backend._tag === "Some") yield* backend.value.attach(connections)
      let bound: ListenAddress = { host: config.server.host, port: config.server.port }
      const services: ServerServices = {
        config,
        sessions: yield* SessionStore,
        keyspace: yield* Keyspace,
        durability: yield* Durability,
        broker: yield* Broker,
        connections,
        address: () => bound,
        startedAt: yield* nowNanos,
        version: VERSION
      }
      const runFork = Runtime.runFork(yield* Effect.runtime<never>())
      const accounts = yield* Accounts
      const deps: ConnectionDeps = {
        services,
        accounts,
        limits: connectionLimits(config),
        authLimiter: new AuthLimiter(config.security.auth_max_failures, config.security.auth_lockout_seconds),
        writer: new FrameWriter(),
        lookup: backend._tag === "Some" ? adaptedLookup(backend.value) : lookupCommandBytes,
        logsWrites: services.durability !== Durability.none,
        runDetached: (effect) => {
          runFork(effect)
        },
        tracer: config.tracing.enable ? yield* Effect.tracer : undefined
      }
      // The AUTH deadline applies only when there is an AUTH to wait for.
      const authTimeout = accounts.anonymousUser === undefined ? config.security.auth_timeout_seconds : 0
      yield* Effect.forkScoped(connections.sweepDeadlines(authTimeout, config.misc.timeout_seconds))
      // Connection fibers inherit the serving fiber's scheduler (see ConnectionScheduler.ts).
      const address = yield* Effect.withScheduler(
        transport.serve({ host: config.server.host, port: config.server.port }, (conn) => runConnection(deps, conn)),
        connectionScheduler
      )
      bound = address
      // Registered for /metrics and /health (when provided): the log is replayed (persistence was built
      // first) and the listener is up. The finalizer runs first at shutdown, before the transport drains.
      const ops = yield* Effect.serviceOption(Ops)
      const persistence = yield* Effect.serviceOption(Persistence)
      if (Option.isSome(ops)) {
        ops.value.server = services
        if (Option.isSome(persistence) && persistence.value.wal !== undefined)
          ops.value.wal = persistence.value.wal.stats
        ops.value.phase = "serving"
      }
      yield* Effect.addFinalizer(() =>
        Effect.zipRight(
          Effect.sync(() => {
            if (Option.isSome(ops)) ops.value.phase = "stopping"
          }),
          Effect.logInfo(
            `shutting down: no longer accepting connections; ${connections.size} open connections finish their requests`
          )
        )
      )
      yield* Effect.logInfo(`fleare-ts ${VERSION} listening on ${address.host}:${address.port}`)
      return { address, connections }
    })
  )

  /**
   * The server with every service built from the configuration and the node:net transport. Persistence
   * recovers the keyspace before the server listens, and closes after it; closing the server first lets
   * in-flight requests finish and be answered (`layerDraining`).
   */
  static layerNode: Layer.Layer<FleareServer, TransportError | WalCorrupt | PersistenceError, ServerConfig> =
    FleareServer.layer.pipe(
      Layer.provide(
        Layer.mergeAll(
          layerDraining(NodeTransportLayer),
          SessionStore.layerConfig,
          Accounts.layer,
          Broker.layerMemory,
          Persistence.layerConfig.pipe(Layer.provideMerge(Keyspace.layerConfig), Layer.provide(NodeFileSystem.layer))
        )
      )
    )

  /**
   * The whole server for tests, with no socket: the embedded defaults with `patch` applied, the in-memory
   * transport, in-memory sessions and keyspace, no persistence. Everything runs in the caller's runtime, so
   * under `TestClock` (`it.effect`, `it.scoped`) key expiry and session idle expiry follow `TestClock.adjust`.
   * Connect with `FleareClient.layerTest()` (it takes the `MemoryLink` this layer provides); the services are
   * provided too, for tests that look inside (`Keyspace`, `SessionStore`, `Broker`).
   */
  static layerTest = (
    patch: DeepPartial<ServerConfigShape> = {}
  ): Layer.Layer<
    FleareServer | MemoryLink | ServerConfig | SessionStore | Accounts | Keyspace | Broker | Durability,
    ConfigError | TransportError
  > =>
    FleareServer.layer.pipe(
      Layer.provideMerge(
        Layer.mergeAll(
          MemoryTransport.layer,
          SessionStore.layerConfig,
          Accounts.layer,
          Keyspace.layerConfig,
          Broker.layerMemory,
          Durability.layerNone
        )
      ),
      Layer.provideMerge(ServerConfig.layerMake(patch))
    )
}

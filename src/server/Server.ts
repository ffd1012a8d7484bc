/**
 * `FleareServer`: the whole server as one layer. It reads the configuration, resolves the services once,
 * listens through the `Transport`, and runs a connection actor per accepted socket until its scope closes.
 * Embedders build it with `FleareServer.layer` (their own Transport/SessionStore/Accounts) or
 * `FleareServer.layerNode` (everything from the configuration, node:net transport), then read `address`.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import { Durability } from "../persistence/Durability.js"
import type { PersistenceError, WalCorrupt } from "../persistence/errors.js"
import { Persistence } from "../persistence/Persistence.js"
import { layerDraining } from "../persistence/Shutdown.js"
import type { CommandSpec, ServerServices } from "../commands/Command.js"
import { lookupCommandBytes } from "../commands/registry.js"
import { ServerConfig } from "../config/ServerConfig.js"
import { FrameWriter } from "../protocol/Message.js"
import { Accounts } from "../session/Accounts.js"
import { SessionStore } from "../session/SessionStore.js"
import { Keyspace } from "../store/Keyspace.js"
import { nowNanos } from "../session/Timestamp.js"
import { VERSION } from "../version.js"
import { type ConnectionDeps, runConnection } from "./Connection.js"
import { ConnectionRegistry } from "./Connections.js"
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
    ServerConfig | Transport | SessionStore | Accounts | Keyspace | Durability
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
        connections,
        address: () => bound,
        startedAt: yield* nowNanos,
        version: VERSION
      }
      const runFork = Runtime.runFork(yield* Effect.runtime<never>())
      const deps: ConnectionDeps = {
        services,
        accounts: yield* Accounts,
        writer: new FrameWriter(),
        lookup: backend._tag === "Some" ? adaptedLookup(backend.value) : lookupCommandBytes,
        runDetached: (effect) => {
          runFork(effect)
        }
      }
      const address = yield* transport.serve({ host: config.server.host, port: config.server.port }, (conn) =>
        runConnection(deps, conn)
      )
      bound = address
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
          Persistence.layerConfig.pipe(Layer.provideMerge(Keyspace.layerConfig), Layer.provide(NodeFileSystem.layer))
        )
      )
    )
}

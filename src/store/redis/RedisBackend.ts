/**
 * The Redis Cluster backend as the server sees it: a `StoreBackend` that runs every keyspace command through
 * `RedisKeyspace`, answers STATUS with the cluster's masters, numbers client ids cluster-wide and lets other
 * servers close this one's connections; and `layerServer`, the whole server on it (what `main.ts` starts for
 * `store.backend: redis-cluster`). `persistence.*` does not apply there (durability is Redis's), nor `memory.*`
 * (Redis's `maxmemory` is the limit).
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { effectCommand, type CommandSpec, type EffectCommand } from "../../commands/Command.js"
import { ServerConfig } from "../../config/ServerConfig.js"
import type { StoreError } from "../../errors.js"
import { Durability } from "../../persistence/Durability.js"
import type { PersistenceError, WalCorrupt } from "../../persistence/errors.js"
import { layerDraining } from "../../persistence/Shutdown.js"
import { NodeTransportLayer } from "../../server/NodeTransport.js"
import { FleareServer } from "../../server/Server.js"
import { StoreBackend, type StoreBackendShape } from "../../server/StoreBackend.js"
import type { TransportError } from "../../server/Transport.js"
import { Accounts } from "../../session/Accounts.js"
import { SessionStore } from "../../session/SessionStore.js"
import { Keyspace } from "../Keyspace.js"
import { layerBrokerOverRedis, RedisBroker } from "./RedisBroker.js"
import { RedisCluster } from "./RedisCluster.js"
import { RedisKeyspace } from "./RedisKeyspace.js"
import { RedisSessions, RedisSessionStore } from "./RedisSessionStore.js"
import { clusterStatusJson, masterStats } from "./RedisStatus.js"
import { unavailableKeyspace } from "./Scratch.js"

/** Synchronous commands that never touch the keyspace: they run as they are, on the hot path. */
const KEYLESS: ReadonlySet<string> = new Set(["PING", "SESSION"])

/** `spec` as an Effect command running `run` (its own `kind` must not survive the spread). */
const asEffect = (spec: CommandSpec, run: EffectCommand["run"]): EffectCommand => {
  const { kind: _kind, run: _run, ...rest } = spec
  return effectCommand({ ...rest, run })
}

const make = Effect.gen(function* () {
  const keyspace = yield* RedisKeyspace
  const sessions = yield* RedisSessions
  const store = yield* SessionStore
  const adapt = (spec: CommandSpec): CommandSpec => {
    if (spec.name === "STATUS")
      return asEffect(spec, (ctx) =>
        Effect.zipWith(masterStats(keyspace.cluster), store.list, (masters, all) =>
          clusterStatusJson(ctx, masters, all.length)
        )
      )
    if (spec.kind === "effect" || KEYLESS.has(spec.name)) return spec
    return asEffect(spec, (ctx, args) => keyspace.run(spec, ctx, args))
  }
  return {
    adapt,
    nextClientNumber: sessions.nextClientNumber,
    attach: (connections) => Effect.sync(() => sessions.attach(connections))
  } satisfies StoreBackendShape
})

/** The Redis backend's services: the keyspace runner, the shared sessions and the backend seam. */
export const layerRedisStore: Layer.Layer<
  StoreBackend | SessionStore | RedisKeyspace | RedisSessions,
  StoreError,
  RedisCluster | ServerConfig
> = Layer.effect(StoreBackend, make).pipe(
  Layer.provideMerge(Layer.merge(RedisKeyspace.layer, RedisSessionStore.layerConfig))
)

/**
 * The server on the Redis Cluster backend, everything from the configuration: commands run against the cluster,
 * sessions are shared, the local keyspace refuses any use (a command the backend missed fails loudly rather
 * than answering from an empty map), and nothing is logged to disk.
 */
export const layerServer: Layer.Layer<FleareServer, TransportError | StoreError, ServerConfig> =
  FleareServer.layer.pipe(
    Layer.provide(
      Layer.mergeAll(
        layerDraining(NodeTransportLayer),
        Accounts.layer,
        Layer.succeed(Keyspace, unavailableKeyspace),
        Durability.layerNone,
        layerRedisStore,
        layerBrokerOverRedis.pipe(Layer.provide(RedisBroker.layer))
      )
    ),
    Layer.provide(RedisCluster.layerConfig)
  )

/**
 * The server the configuration asks for: `store.backend: memory` is `FleareServer.layerNode` (unchanged);
 * `redis-cluster` is `layerServer`, after a log line saying `persistence.*` does not apply.
 */
export const layerFromConfig: Layer.Layer<
  FleareServer,
  TransportError | StoreError | WalCorrupt | PersistenceError,
  ServerConfig
> = Layer.unwrapEffect(
  Effect.gen(function* (): Effect.fn.Return<
    Layer.Layer<FleareServer, TransportError | StoreError | WalCorrupt | PersistenceError, ServerConfig>,
    never,
    ServerConfig
  > {
    const config = yield* ServerConfig
    if (config.store.backend === "memory") return FleareServer.layerNode
    yield* Effect.logInfo(
      `store: redis-cluster at ${config.store.redis.nodes.join(", ")} (key prefix "${config.store.redis.key_prefix}", ` +
        `wait_replicas ${config.store.redis.wait_replicas}); persistence.* and memory.* do not apply: durability ` +
        "and memory limits are Redis's"
    )
    return layerServer
  })
)

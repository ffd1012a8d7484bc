/**
 * fleare-ts for embedding: the server as a layer, its services, the Effect client, the wire codec and the typed
 * errors (the package's entry point; README "Embedding" and examples/embed show it in use).
 *
 *   const server = FleareServer.layerNode.pipe(Layer.provide(ServerConfig.layerMake({ server: { port: 0 } })))
 *   // in tests, with no socket, under TestClock:
 *   const app = FleareClient.layerTest().pipe(Layer.provideMerge(FleareServer.layerTest()))
 */
export { ServerConfig, type ServerConfigShape, type DeepPartial } from "./config/ServerConfig.js"
export { loadConfig, type ConfigSources } from "./config/load.js"
export { ConfigError } from "./config/ConfigError.js"
export * from "./errors.js"
export { FleareServer, type FleareServerShape } from "./server/Server.js"
export {
  Transport,
  TransportError,
  type Conn,
  type FastPathHandler,
  type TransportShape,
  type ListenAddress
} from "./server/Transport.js"
export { makeNodeTransport, NodeTransportLayer } from "./server/NodeTransport.js"
export { MemoryTransport, MemoryLink, type MemoryLinkShape } from "./server/MemoryTransport.js"
export { SessionStore, type SessionStoreShape } from "./session/SessionStore.js"
export { Accounts, type AccountsShape } from "./session/Accounts.js"
export { hashPassword, verifyPassword } from "./session/Password.js"
export { type Session, type SessionUser, sessionJson } from "./session/Session.js"
export { type Role, roles } from "./session/Role.js"
export { formatRfc3339Nano } from "./session/Timestamp.js"
export { Keyspace, type KeyspaceShape, type Entry } from "./store/Keyspace.js"
export { type Value } from "./store/Value.js"
export {
  decodeCommand,
  decodeResponse,
  encodeCommand,
  encodeResponse,
  type Command,
  type Response
} from "./protocol/Message.js"
export { FrameDecoder } from "./protocol/Frame.js"
export { allCommands, lookupCommand } from "./commands/registry.js"
export { Durability, DurabilityError, type DurabilityShape } from "./persistence/Durability.js"
export { Broker, type BrokerShape, type BrokerStats, type Subscriber, type Delivery } from "./pubsub/Broker.js"
export * as Persistence from "./persistence/Persistence.js"
export { VERSION } from "./version.js"
/** Operations (issue 14): the metrics/health/status HTTP server, the server's life phase, the plain counters. */
export { MetricsServer, type MetricsServerOptions } from "./ops/HttpServer.js"
export { Ops, OpsState, type Phase } from "./ops/Ops.js"
export { counters } from "./ops/Counters.js"
/** The Effect-native client, also under `Client` (`Client.FleareClient`). */
export { FleareClient, type FleareClientConfig, type FleareClientShape } from "./client/FleareClient.js"
/**
 * The Redis Cluster backend for several servers sharing one dataset: the cluster connection, the keyspace runner,
 * the shared session store, and the server layers (`layerFromConfig` picks the backend from `store.backend`).
 * ioredis is loaded only when a Redis layer is built.
 */
export { RedisCluster, type RedisClusterOptions, type RedisClusterShape } from "./store/redis/RedisCluster.js"
export { RedisKeyspace, type RedisKeyspaceShape } from "./store/redis/RedisKeyspace.js"
export {
  RedisSessions,
  RedisSessionStore,
  type RedisSessionStoreOptions,
  HEARTBEAT_TTL_MS
} from "./store/redis/RedisSessionStore.js"
export { layerFromConfig, layerRedisStore, layerServer as layerRedisServer } from "./store/redis/RedisBackend.js"
export {
  RedisBroker,
  layerBrokerOverRedis,
  type RedisBrokerShape,
  type BrokerSubscriber
} from "./store/redis/RedisBroker.js"
export { StoreBackend, type StoreBackendShape } from "./server/StoreBackend.js"
/** The Effect-native client (and its promise facade), as a namespace: `Client.FleareClient`, `Client.createClient`. */
export * as Client from "./client/index.js"

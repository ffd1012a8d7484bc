/**
 * The connection to a Redis Cluster that the Redis layers share: one ioredis `Cluster` client (a connection per
 * node, auto-pipelined), the key prefix, the replication wait, and `use`, which runs a client call as an Effect
 * bounded by the command timeout and fails with a typed `StoreError` (answered `internal server error`).
 *
 * ioredis is loaded when the layer is built, not when this module is imported, so a server or an app on the
 * memory backend never loads it.
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Cluster, ClusterOptions } from "ioredis"
import { ServerConfig } from "../../config/ServerConfig.js"
import { StoreError } from "../../errors.js"
import { COMMIT_SCRIPT } from "./scripts.js"

/** How to reach the cluster. */
export interface RedisClusterOptions {
  /** Seed nodes, `host:port`. */
  readonly nodes: ReadonlyArray<string>
  /** Every Redis key the layers create starts with this. */
  readonly keyPrefix: string
  /** > 0: a write is acknowledged only once Redis WAIT confirms this many replicas have it. */
  readonly waitReplicas?: number
  /** How long WAIT may take, in ms. */
  readonly waitTimeoutMs?: number
  /** The longest a command may wait on Redis (retries included) before it fails, in ms (default 2000). */
  readonly commandTimeoutMs?: number
  /** How long the layer waits for the cluster at startup before it fails, in ms (default 5000). */
  readonly connectTimeoutMs?: number
}

/** The commit script as a client command (see `scripts.ts`). */
export interface CommitCommand {
  fleareCommit(
    key: string,
    expected: string,
    op: string,
    version: string,
    kind: string,
    text: string,
    expiresAtNanos: string,
    expiresAtMillis: string
  ): Promise<number>
}

/** The client with the commit script defined. */
export type FleareRedis = Cluster & CommitCommand

/** The shared cluster connection. */
export interface RedisClusterShape {
  readonly client: FleareRedis
  /** The seed nodes it was given (a layer that needs its own connection, e.g. for subscriptions, uses them). */
  readonly nodes: ReadonlyArray<string>
  readonly keyPrefix: string
  readonly waitReplicas: number
  readonly waitTimeoutMs: number
  readonly commandTimeoutMs: number
  /** Runs `f` on the client as an Effect: a rejection, or no answer within the command timeout, is a StoreError. */
  readonly use: <A>(f: (client: FleareRedis) => Promise<A>) => Effect.Effect<A, StoreError>
  /**
   * `use` bounded by an absolute deadline (epoch ms, from the Effect Clock) shared by a whole sequence of calls (a
   * command's run). A plain timer races the call: measured, that costs far less per request than `Effect.timeout`,
   * which forks a fiber for the race.
   */
  readonly callUntil: <A>(deadlineMs: number, f: (client: FleareRedis) => Promise<A>) => Effect.Effect<A, StoreError>
}

/** `host:port` as ioredis takes a node. */
export const parseNode = (node: string): { host: string; port: number } => {
  const i = node.lastIndexOf(":")
  return { host: node.slice(0, i), port: Number(node.slice(i + 1)) }
}

/** Connects to the cluster; the client is closed with the scope. */
const make = (options: RedisClusterOptions) =>
  Effect.gen(function* () {
    const commandTimeoutMs = options.commandTimeoutMs ?? 2000
    const { Cluster } = yield* Effect.promise(() => import("ioredis"))
    const clusterOptions: ClusterOptions = {
      enableAutoPipelining: true,
      // Keep commands queued while a slot fails over; our own timeout bounds how long a client waits.
      enableOfflineQueue: true,
      retryDelayOnFailover: 200,
      retryDelayOnClusterDown: 200,
      clusterRetryStrategy: (times) => Math.min(100 + times * 50, 1000),
      slotsRefreshTimeout: 1000,
      redisOptions: { commandTimeout: commandTimeoutMs, connectTimeout: 2000, maxRetriesPerRequest: 3 }
    }
    const client = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const c = new Cluster(options.nodes.map(parseNode), clusterOptions)
        c.defineCommand("fleareCommit", { numberOfKeys: 1, lua: COMMIT_SCRIPT })
        // Without a listener, ioredis reports connection errors as unhandled; `use` turns them into StoreErrors.
        c.on("error", () => {})
        return c as FleareRedis
      }),
      // QUIT waits for the cluster; an unreachable one must not hold up shutdown.
      (c) =>
        Effect.interruptible(Effect.promise(() => c.quit().catch(() => undefined))).pipe(
          Effect.timeout(Duration.seconds(1)),
          Effect.ignore,
          Effect.ensuring(Effect.sync(() => c.disconnect()))
        )
    )
    const timeout = Duration.millis(commandTimeoutMs)
    const call = <A>(f: (c: FleareRedis) => Promise<A>): Effect.Effect<A, StoreError> =>
      Effect.tryPromise({ try: () => f(client), catch: (cause) => new StoreError({ cause }) })
    const callUntil = <A>(deadlineMs: number, f: (c: FleareRedis) => Promise<A>): Effect.Effect<A, StoreError> =>
      Effect.clockWith((clock) => {
        const left = deadlineMs - clock.unsafeCurrentTimeMillis()
        if (left <= 0) return Effect.fail(new StoreError({ cause: "Redis did not answer in time" }))
        return Effect.async<A, StoreError>((resume) => {
          let done = false
          const timer = setTimeout(() => {
            done = true
            resume(Effect.fail(new StoreError({ cause: "Redis did not answer in time" })))
          }, left)
          f(client).then(
            (a) => {
              if (done) return
              clearTimeout(timer)
              resume(Effect.succeed(a))
            },
            (cause: unknown) => {
              if (done) return
              clearTimeout(timer)
              resume(Effect.fail(new StoreError({ cause })))
            }
          )
          return Effect.sync(() => {
            done = true
            clearTimeout(timer)
          })
        })
      })
    const use = <A>(f: (c: FleareRedis) => Promise<A>): Effect.Effect<A, StoreError> =>
      // Interruptible even inside a finalizer (which runs uninterruptibly), so the timeout can always end the wait.
      Effect.interruptible(call(f)).pipe(
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => new StoreError({ cause: "Redis did not answer in time" })
        })
      )
    yield* Effect.tryPromise({
      try: () =>
        new Promise<void>((resolve, reject) => {
          if (client.status === "ready") return resolve()
          client.once("ready", () => resolve())
          client.once("end", () => reject(new Error("connection ended")))
        }),
      catch: (cause) => new StoreError({ cause })
    }).pipe(
      Effect.timeoutFail({
        duration: Duration.millis(options.connectTimeoutMs ?? 5000),
        onTimeout: () => new StoreError({ cause: `no Redis Cluster ready at ${options.nodes.join(", ")}` })
      })
    )
    return {
      client,
      nodes: options.nodes,
      keyPrefix: options.keyPrefix,
      waitReplicas: options.waitReplicas ?? 0,
      waitTimeoutMs: options.waitTimeoutMs ?? 1000,
      commandTimeoutMs,
      use,
      callUntil
    } satisfies RedisClusterShape
  })

/** The Redis Cluster connection the Redis layers use. */
export class RedisCluster extends Context.Tag("fleare/RedisCluster")<RedisCluster, RedisClusterShape>() {
  /** Connects to the cluster at `options.nodes`, for the life of the layer. */
  static layer = (options: RedisClusterOptions): Layer.Layer<RedisCluster, StoreError> =>
    Layer.scoped(RedisCluster, make(options))

  /** The cluster from `store.redis.*`. */
  static layerConfig: Layer.Layer<RedisCluster, StoreError, ServerConfig> = Layer.unwrapEffect(
    Effect.map(ServerConfig, (c) =>
      RedisCluster.layer({
        nodes: c.store.redis.nodes,
        keyPrefix: c.store.redis.key_prefix,
        waitReplicas: c.store.redis.wait_replicas,
        waitTimeoutMs: c.store.redis.wait_timeout_ms,
        commandTimeoutMs: c.store.redis.command_timeout_ms
      })
    )
  )
}

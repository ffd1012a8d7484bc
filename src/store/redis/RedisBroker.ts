/**
 * Pub/sub across servers on a Redis Cluster: a message published on any server reaches the subscribers of every
 * server, in publish order per publisher. Each topic is a sharded channel (`SPUBLISH` / `SSUBSCRIBE`, Redis 7),
 * `<prefix>topic:<topic>`: a server subscribes to it once, for all of its local subscribers, and fans the
 * messages out to them. A topic's messages all go through the master that owns its slot, over one connection
 * per server, so one publisher's messages arrive in the order it published them.
 *
 * The shape is the one the server's `Broker` service is expected to have (subscribe / unsubscribe / publish);
 * this module stands alone until that service exists, so it can be provided under it.
 */
import * as Runtime from "effect/Runtime"
import { Broker, type BrokerShape, type Subscriber } from "../../pubsub/Broker.js"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import type { Cluster } from "ioredis"
import { StoreError } from "../../errors.js"
import { parseNode, RedisCluster } from "./RedisCluster.js"

/** Someone receiving a topic's messages (a subscribed connection). `deliver` must not throw or block. */
export interface BrokerSubscriber {
  readonly deliver: (topic: string, payload: string) => void
}

/** The broker service. */
export interface RedisBrokerShape {
  /** Adds `subscriber` to `topic` (a duplicate is ignored); once it returns, later publishes reach it. */
  readonly subscribe: (topic: string, subscriber: BrokerSubscriber) => Effect.Effect<void, StoreError>
  /** Removes `subscriber` from `topic`. */
  readonly unsubscribe: (topic: string, subscriber: BrokerSubscriber) => Effect.Effect<void, StoreError>
  /** Sends `payload` to every subscriber of `topic` on every server (including this one). */
  readonly publish: (topic: string, payload: string) => Effect.Effect<void, StoreError>
}

const make = Effect.gen(function* () {
  const cluster = yield* RedisCluster
  const prefix = cluster.keyPrefix + "topic:"
  const local = new Map<string, Set<BrokerSubscriber>>()
  // Per topic, the outcome of this server's SSUBSCRIBE (complete once Redis has confirmed it).
  const subscribed = new Map<string, Deferred.Deferred<void, StoreError>>()
  const { Cluster: ClusterClass } = yield* Effect.promise(() => import("ioredis"))
  // Subscriptions need their own connections (a subscribed connection runs nothing else): one per master.
  const subscriber: Cluster = yield* Effect.acquireRelease(
    Effect.sync(() => {
      const c = new ClusterClass(cluster.nodes.map(parseNode), {
        shardedSubscribers: true,
        redisOptions: { connectTimeout: 2000 }
      })
      c.on("error", () => {})
      c.on("smessage", (channel: string, message: string) => {
        if (!channel.startsWith(prefix)) return
        const topic = channel.slice(prefix.length)
        const subs = local.get(topic)
        if (subs !== undefined) for (const s of subs) s.deliver(topic, message)
      })
      return c
    }),
    (c) =>
      Effect.interruptible(Effect.promise(() => c.quit().catch(() => undefined))).pipe(
        Effect.timeout(Duration.seconds(1)),
        Effect.ignore,
        Effect.ensuring(Effect.sync(() => c.disconnect()))
      )
  )
  const timeout = Duration.millis(cluster.commandTimeoutMs)
  const onSubscriber = <A>(f: (c: Cluster) => Promise<A>): Effect.Effect<A, StoreError> =>
    Effect.interruptible(
      Effect.tryPromise({ try: () => f(subscriber), catch: (cause) => new StoreError({ cause }) })
    ).pipe(
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () => new StoreError({ cause: "Redis did not answer in time" })
      })
    )

  return {
    subscribe: (topic, s) =>
      Effect.suspend(() => {
        const subs = local.get(topic)
        if (subs !== undefined) {
          subs.add(s)
          // The first subscriber's SSUBSCRIBE may still be on its way: this one is subscribed once it is done.
          return Effect.catchAll(Deferred.await(subscribed.get(topic)!), (e) =>
            Effect.zipRight(
              Effect.sync(() => subs.delete(s)),
              Effect.fail(e)
            )
          )
        }
        const done = Deferred.unsafeMake<void, StoreError>(FiberId.none)
        local.set(topic, new Set([s]))
        subscribed.set(topic, done)
        return onSubscriber((c) => c.ssubscribe(prefix + topic)).pipe(
          Effect.asVoid,
          Effect.tapError(() =>
            Effect.sync(() => {
              local.delete(topic)
              subscribed.delete(topic)
            })
          ),
          Effect.exit,
          Effect.tap((exit) => Deferred.done(done, exit)),
          Effect.flatten
        )
      }),
    unsubscribe: (topic, s) =>
      Effect.suspend(() => {
        const subs = local.get(topic)
        if (subs === undefined || !subs.delete(s) || subs.size > 0) return Effect.void
        local.delete(topic)
        subscribed.delete(topic)
        return Effect.asVoid(onSubscriber((c) => c.sunsubscribe(prefix + topic)))
      }),
    publish: (topic, payload) => Effect.asVoid(cluster.use((c) => c.spublish(prefix + topic, payload)))
  } satisfies RedisBrokerShape
})

/** Pub/sub across servers on the Redis Cluster. */
export class RedisBroker extends Context.Tag("fleare/RedisBroker")<RedisBroker, RedisBrokerShape>() {
  /** Over the `RedisCluster` connection (plus its own subscriber connections). */
  static layer: Layer.Layer<RedisBroker, never, RedisCluster> = Layer.scoped(RedisBroker, make)
}

/**
 * The server's `Broker` over the cluster: local subscribers are held and served by an in-memory broker (their
 * queues, slow-subscriber policy and counters are the same as in memory mode), and this server subscribes to a
 * topic's sharded channel once, while it has a local subscriber to it. PUBLISH goes to Redis only: the message
 * comes back through the channel, to this server's subscribers as to every other server's, so each server sees
 * one publisher's messages in publish order. A Redis failure dies (the connection answers `internal server
 * error`). `messages_published` counts this server's PUBLISH requests; `messages_delivered` its own pushes.
 */
export const layerBrokerOverRedis: Layer.Layer<Broker, never, RedisBroker> = Layer.effect(
  Broker,
  Effect.gen(function* () {
    const redis = yield* RedisBroker
    const runtime = yield* Effect.runtime<never>()
    const local = Broker.makeMemory()
    const topics = new Map<string, Set<Subscriber>>()
    let published = 0
    // One bridge per server: what Redis delivers is published to the local subscribers.
    const bridge: BrokerSubscriber = {
      deliver: (topic, payload) => void Runtime.runFork(runtime)(local.publish(topic, payload))
    }
    const drop = (topic: string, s: Subscriber): Effect.Effect<void> => {
      const subs = topics.get(topic)
      if (subs === undefined || !subs.delete(s) || subs.size > 0) return Effect.void
      topics.delete(topic)
      return Effect.orDie(redis.unsubscribe(topic, bridge))
    }
    return {
      subscribe: (topic, s) =>
        Effect.zipRight(
          local.subscribe(topic, s),
          Effect.suspend(() => {
            const subs = topics.get(topic)
            if (subs !== undefined) {
              subs.add(s)
              return Effect.void
            }
            topics.set(topic, new Set([s]))
            return Effect.orDie(redis.subscribe(topic, bridge))
          })
        ),
      unsubscribe: (topic, s) =>
        Effect.zipRight(
          local.unsubscribe(topic, s),
          Effect.suspend(() => drop(topic, s))
        ),
      unsubscribeAll: (s) =>
        Effect.zipRight(
          local.unsubscribeAll(s),
          Effect.suspend(() =>
            Effect.forEach(
              [...topics].filter(([, subs]) => subs.has(s)).map(([t]) => t),
              (t) => drop(t, s),
              { discard: true }
            )
          )
        ),
      publish: (topic, message) =>
        Effect.suspend(() => {
          published += 1
          return Effect.as(Effect.orDie(redis.publish(topic, message)), 0)
        }),
      stats: () => ({ ...local.stats(), published })
    } satisfies BrokerShape
  })
)

/**
 * The pub/sub broker: topics → subscribers (SPEC §4.9). A subscriber is a connection's pub/sub side (see
 * server/PushOutbox.ts): the broker hands it each message's push body, encoded once per publish, and the
 * subscriber frames it with its own client id and writes it through its connection's ordered write path.
 *
 * The service boundary is Effects, so a shared engine (a later multi-server layer) can implement it with network
 * calls; `layerMemory` does all of its work synchronously inside them. A subscriber that cannot keep up (its
 * queue or its unsent output over the limits) is never silently skipped: the broker drops its subscriptions,
 * disconnects it, counts it and logs why.
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { encodePushBody } from "../protocol/Push.js"

/** How handing a push to a subscriber went. */
export type Delivery =
  /** Written to its connection, or queued behind the replies it is sending. */
  | { readonly _tag: "Delivered" }
  /** The subscriber is gone (its session expired or ended, its connection closed): drop its subscriptions. */
  | { readonly _tag: "Gone" }
  /** It cannot keep up: disconnect it, for `reason`. */
  | { readonly _tag: "Slow"; readonly reason: string }

/** The two outcomes without a payload, shared (a delivery allocates nothing). */
export const Delivered: Delivery = { _tag: "Delivered" }
export const Gone: Delivery = { _tag: "Gone" }

/** A subscriber as the broker sees it. */
export interface Subscriber {
  /** Its connection's client id, which push frames carry. */
  readonly clientId: string
  /**
   * Hands it one push at `now` (epoch nanoseconds): `body` is the shared part of the push frame (topic, status,
   * message; `protocol/Push.ts`), the same bytes for every subscriber of the publish.
   */
  readonly deliver: (body: Buffer, now: bigint) => Delivery
  /** Closes the connection of a subscriber found too slow (the broker has dropped its subscriptions). */
  readonly disconnect: () => void
}

/** Counters for STATUS. Plain numbers, read when asked. */
export interface BrokerStats {
  /** Subscribers with at least one subscription. */
  readonly subscribers: number
  /** Topics with at least one subscriber. */
  readonly topics: number
  /** PUBLISH requests since the start. */
  readonly published: number
  /** Pushes handed to subscribers since the start (one publish to N subscribers counts N). */
  readonly delivered: number
  /** Subscribers disconnected for being too slow since the start. */
  readonly slowDisconnects: number
}

/** The broker service. */
export interface BrokerShape {
  /** Subscribes `subscriber` to `topic`; a duplicate subscription is ignored. */
  readonly subscribe: (topic: string, subscriber: Subscriber) => Effect.Effect<void>
  /** Ends one subscription (nothing happens if there is none). */
  readonly unsubscribe: (topic: string, subscriber: Subscriber) => Effect.Effect<void>
  /** Ends every subscription of `subscriber` (its connection closed or its session ended). */
  readonly unsubscribeAll: (subscriber: Subscriber) => Effect.Effect<void>
  /**
   * Publishes `message` (already the JSON text subscribers receive) to the current subscribers of `topic`;
   * answers how many it was handed to.
   */
  readonly publish: (topic: string, message: string) => Effect.Effect<number>
  /** The counters, synchronously. */
  readonly stats: () => BrokerStats
}

/** The in-memory broker's tables and counters. */
class MemoryBroker {
  readonly topics = new Map<string, Set<Subscriber>>()
  readonly bySubscriber = new Map<Subscriber, Set<string>>()
  published = 0
  delivered = 0
  slowDisconnects = 0

  subscribe(topic: string, s: Subscriber): void {
    let subs = this.topics.get(topic)
    if (subs === undefined) this.topics.set(topic, (subs = new Set()))
    subs.add(s)
    let mine = this.bySubscriber.get(s)
    if (mine === undefined) this.bySubscriber.set(s, (mine = new Set()))
    mine.add(topic)
  }

  unsubscribe(topic: string, s: Subscriber): void {
    const subs = this.topics.get(topic)
    if (subs !== undefined && subs.delete(s) && subs.size === 0) this.topics.delete(topic)
    const mine = this.bySubscriber.get(s)
    if (mine !== undefined && mine.delete(topic) && mine.size === 0) this.bySubscriber.delete(s)
  }

  unsubscribeAll(s: Subscriber): void {
    const mine = this.bySubscriber.get(s)
    if (mine === undefined) return
    for (const topic of [...mine]) this.unsubscribe(topic, s)
  }

  /** Delivers to every subscriber of `topic`; returns the count and the subscribers found too slow. */
  publish(
    topic: string,
    message: string,
    now: bigint
  ): { readonly count: number; readonly slow: ReadonlyArray<readonly [Subscriber, string]> } {
    this.published++
    const subs = this.topics.get(topic)
    if (subs === undefined) return { count: 0, slow: [] }
    // One encode for all the subscribers: each frames these bytes with its own client id.
    const body = encodePushBody(topic, message)
    let count = 0
    let gone: Array<Subscriber> | undefined
    let slow: Array<readonly [Subscriber, string]> | undefined
    for (const s of subs) {
      const d = s.deliver(body, now)
      if (d._tag === "Delivered") count++
      else if (d._tag === "Gone") (gone ??= []).push(s)
      else (slow ??= []).push([s, d.reason])
    }
    this.delivered += count
    if (gone !== undefined) for (const s of gone) this.unsubscribeAll(s)
    if (slow === undefined) return { count, slow: [] }
    for (const [s] of slow) {
      this.unsubscribeAll(s)
      this.slowDisconnects++
      s.disconnect()
    }
    return { count, slow }
  }

  stats(): BrokerStats {
    return {
      subscribers: this.bySubscriber.size,
      topics: this.topics.size,
      published: this.published,
      delivered: this.delivered,
      slowDisconnects: this.slowDisconnects
    }
  }
}

const logSlow = ([s, reason]: readonly [Subscriber, string]): Effect.Effect<void> =>
  Effect.logWarning(`pub/sub: disconnected slow subscriber ${s.clientId}: ${reason}`)

/** An in-memory broker: one process's topics and subscribers. */
const makeMemory = (): BrokerShape => {
  const b = new MemoryBroker()
  return {
    subscribe: (topic, s) => Effect.sync(() => b.subscribe(topic, s)),
    unsubscribe: (topic, s) => Effect.sync(() => b.unsubscribe(topic, s)),
    unsubscribeAll: (s) => Effect.sync(() => b.unsubscribeAll(s)),
    publish: (topic, message) =>
      Effect.flatMap(Clock.currentTimeNanos, (now) => {
        const { count, slow } = b.publish(topic, message, now)
        return slow.length === 0 ? Effect.succeed(count) : Effect.as(Effect.forEach(slow, logSlow), count)
      }),
    stats: () => b.stats()
  }
}

export class Broker extends Context.Tag("fleare/Broker")<Broker, BrokerShape>() {
  /** A fresh in-memory broker (not a layer: for tests and embedding). */
  static makeMemory = makeMemory

  /** The in-memory broker as a layer. */
  static layerMemory: Layer.Layer<Broker> = Layer.sync(Broker, makeMemory)
}

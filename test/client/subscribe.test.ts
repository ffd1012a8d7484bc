/**
 * `subscribe(topic)` and `publish` against a small fake server that behaves as Fleare does (SUBSCRIBE gets no
 * reply, pushes carry the topic, PUBLISH answers Ok), where the test controls the server's side: the exact
 * requests, dropped connections. pubsubServer.test.ts runs the same client against the real server.
 */
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, ManagedRuntime, Schedule, Stream } from "effect"
import { FleareClient, type FleareClientConfig } from "../../src/client/FleareClient.js"
import { FleareError } from "../../src/client/errors.js"
import { createClient } from "../../src/client/promise.js"
import type { PushMessage } from "../../src/client/Subscriber.js"
import { eventually, type FakeServer, startFakeServer } from "./fakeServer.js"

const withFake = async <A>(
  f: (fake: FakeServer, client: FleareClient["Type"]) => Promise<A>,
  config: Partial<FleareClientConfig> = {}
): Promise<A> => {
  const fake = await startFakeServer()
  const rt = ManagedRuntime.make(FleareClient.layer({ port: fake.port, poolSize: 1, ...config }))
  try {
    return await f(fake, await rt.runPromise(FleareClient))
  } finally {
    await rt.dispose()
    await fake.close()
  }
}

/** Subscribes, waits for the server's confirmation, and collects `n` messages in the background. */
const collect = (client: FleareClient["Type"], topic: string, n: number) =>
  Effect.gen(function* () {
    const subscribed = yield* Deferred.make<void>()
    const fiber = yield* client
      .subscribe(topic, { onSubscribed: Deferred.succeed(subscribed, undefined) })
      .pipe(Stream.take(n), Stream.runCollect, Effect.map(Chunk.toArray), Effect.forkDaemon)
    yield* Deferred.await(subscribed)
    return fiber
  })

const data = (ms: ReadonlyArray<PushMessage>) => ms.map((m) => m.data)

describe("subscribe", () => {
  it("streams the topic's messages in order, on a connection of its own, and ignores other topics", () =>
    withFake(async (fake, client) => {
      const fiber = await Effect.runPromise(collect(client, "news", 3))
      const subscriber = fake.connections.find((c) => c.topics.has("news"))!
      expect(subscriber.received.map((c) => c.command)).toEqual(["auth", "SUBSCRIBE", "PING"])
      subscriber.push("other", '"not for us"')
      await Effect.runPromise(client.publish("news", { a: 1 }))
      await Effect.runPromise(client.publish("news", "hello world"))
      await Effect.runPromise(client.publish("news", 42))
      const messages = await Effect.runPromise(Fiber.join(fiber))
      expect(messages.map((m) => [m.topic, m.raw])).toEqual([
        ["news", '{"a":1}'],
        ["news", '"hello world"'],
        ["news", "42"]
      ])
      expect(data(messages)).toEqual([{ a: 1 }, "hello world", 42])
      // The publishes went over the pooled connection, never the subscriber's.
      const pooled = fake.connections.find((c) => c !== subscriber)!
      expect(pooled.received.filter((c) => c.command === "PUBLISH").map((c) => c.args)).toEqual([
        ["news", '{"a":1}'],
        ["news", "hello world"],
        ["news", "42"]
      ])
      // Ending the stream closes the subscriber's connection.
      await eventually(() => subscriber.socket.destroyed || subscriber.socket.readableEnded)
    }))

  it("fails with the server's error when SUBSCRIBE is refused", () =>
    withFake(async (_fake, client) => {
      const e = await Effect.runPromise(Effect.flip(Stream.runDrain(client.subscribe(""))))
      expect(e).toBeInstanceOf(FleareError)
      expect((e as FleareError).text).toBe("missing topic for subscribe")
    }))

  it("subscribes again after the connection is lost", () =>
    withFake(
      async (fake, client) => {
        const fiber = await Effect.runPromise(collect(client, "news", 2))
        fake.publish("news", '"first"')
        const before = fake.connections.find((c) => c.topics.has("news"))!
        await eventually(() => before.socket.bytesWritten > 0)
        before.socket.destroy()
        await eventually(() => fake.connections.filter((c) => c.topics.has("news")).length === 2)
        // The new subscription is confirmed once its PING was answered; publish after that.
        const after = fake.connections.filter((c) => c.topics.has("news"))[1]!
        await eventually(() => after.received.some((c) => c.command === "PING"))
        fake.publish("news", '"second"')
        expect(data(await Effect.runPromise(Fiber.join(fiber)))).toEqual(["first", "second"])
        expect(fake.received.filter((c) => c.command === "SUBSCRIBE").map((c) => c.args)).toEqual([["news"], ["news"]])
      },
      { reconnect: Schedule.spaced("20 millis") }
    ))
})

describe("the promise client", () => {
  it("subscribe calls back with each message and resolves once subscribed; its function ends it", async () => {
    const fake = await startFakeServer()
    const client = await createClient({ port: fake.port, poolSize: 1 })
    try {
      const got: Array<unknown> = []
      const off = await client.subscribe("news", (m) => got.push(m.data))
      await client.publish("news", { n: 1 })
      await client.publish("news", "two")
      await eventually(() => got.length === 2)
      expect(got).toEqual([{ n: 1 }, "two"])
      const subscriber = fake.connections.find((c) => c.topics.has("news"))!
      await off()
      await eventually(() => subscriber.socket.destroyed || subscriber.socket.readableEnded)
    } finally {
      await client.close()
      await fake.close()
    }
  })

  it("subscribe rejects with the server's error", async () => {
    const fake = await startFakeServer()
    const client = await createClient({ port: fake.port, poolSize: 1 })
    try {
      await expect(client.subscribe("", () => {})).rejects.toMatchObject({
        _tag: "FleareError",
        message: "missing topic for subscribe"
      })
    } finally {
      await client.close()
      await fake.close()
    }
  })
})

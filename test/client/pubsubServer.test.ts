/**
 * The client's `subscribe(topic)` stream and `publish` against the real server (in-process, real TCP on port 0):
 * what subscribe.test.ts checks against the fake server, now end to end, plus the server's own refusals.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, ManagedRuntime, Stream } from "effect"
import { FleareClient, type FleareClientShape } from "../../src/client/FleareClient.js"
import { FleareError } from "../../src/client/errors.js"
import { createClient } from "../../src/client/promise.js"
import { startServer, type TestServer } from "../support/server.js"

let server: TestServer
let runtime: ManagedRuntime.ManagedRuntime<FleareClient, unknown>
let client: FleareClientShape

beforeAll(async () => {
  server = await startServer({
    security: {
      users: [
        { username: "root", password: "root", role: "root" },
        { username: "reader", password: "pw", role: "ReadOnly" }
      ]
    }
  })
  runtime = ManagedRuntime.make(FleareClient.layer({ port: server.port, user: "root", password: "root", poolSize: 2 }))
  client = await runtime.runPromise(FleareClient)
})
afterAll(async () => {
  await runtime?.dispose()
  await server?.close()
})

/** Subscribes, waits for the server's confirmation, and collects `n` messages in the background. */
const collect = (c: FleareClientShape, topic: string, n: number) =>
  Effect.gen(function* () {
    const subscribed = yield* Deferred.make<void>()
    const fiber = yield* c
      .subscribe(topic, { onSubscribed: Deferred.succeed(subscribed, undefined) })
      .pipe(Stream.take(n), Stream.runCollect, Effect.map(Chunk.toArray), Effect.forkDaemon)
    yield* Deferred.await(subscribed)
    return fiber
  })

const pubsubStatus = () => Effect.runPromise(Effect.map(client.status(), (s) => s["pubsub"] as Record<string, number>))

const eventually = async (check: () => Promise<boolean>, ms = 5000) => {
  const until = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > until) throw new Error("condition not reached in time")
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe("subscribe and publish against the real server", () => {
  it("streams the topic's messages in order, as JSON values, ignoring other topics; ending it unsubscribes", async () => {
    const fiber = await Effect.runPromise(collect(client, "news", 4))
    expect((await pubsubStatus()).subscribers).toBe(1)
    await Effect.runPromise(client.publish("other", "not for us"))
    await Effect.runPromise(client.publish("news", { b: 2, a: [1, { c: null }] }))
    await Effect.runPromise(client.publish("news", "hello world"))
    await Effect.runPromise(client.publish("news", 42))
    await Effect.runPromise(client.publish("news", "<tag> & ünïcode"))
    const messages = await Effect.runPromise(Fiber.join(fiber))
    expect(messages.map((m) => [m.topic, m.raw])).toEqual([
      ["news", '{"a":[1,{"c":null}],"b":2}'],
      ["news", '"hello world"'],
      ["news", "42"],
      ["news", '"\\u003ctag\\u003e \\u0026 ünïcode"']
    ])
    expect(messages.map((m) => m.data)).toEqual([{ a: [1, { c: null }], b: 2 }, "hello world", 42, "<tag> & ünïcode"])
    // The stream ended: its connection closed, and the server dropped the subscription.
    await eventually(async () => (await pubsubStatus()).subscribers === 0)
  })

  it("two streams on one topic both receive", async () => {
    const a = await Effect.runPromise(collect(client, "fanout", 2))
    const b = await Effect.runPromise(collect(client, "fanout", 2))
    await Effect.runPromise(client.publish("fanout", 1))
    await Effect.runPromise(client.publish("fanout", 2))
    expect((await Effect.runPromise(Fiber.join(a))).map((m) => m.data)).toEqual([1, 2])
    expect((await Effect.runPromise(Fiber.join(b))).map((m) => m.data)).toEqual([1, 2])
  })

  it("fails with the server's error when SUBSCRIBE is refused (an empty topic)", async () => {
    const e = await Effect.runPromise(Effect.flip(Stream.runDrain(client.subscribe(""))))
    expect(e).toBeInstanceOf(FleareError)
    expect((e as FleareError).text).toBe("missing topic for subscribe")
  })

  it("a ReadOnly user may subscribe but publishing fails with PermissionDeniedError", async () => {
    const rt = ManagedRuntime.make(
      FleareClient.layer({ port: server.port, user: "reader", password: "pw", poolSize: 1 })
    )
    try {
      const reader = await rt.runPromise(FleareClient)
      const fiber = await Effect.runPromise(collect(reader, "ro", 1))
      const e = await Effect.runPromise(Effect.flip(reader.publish("ro", "x")))
      expect(e).toBeInstanceOf(FleareError)
      expect((e as FleareError).text).toBe("PermissionDeniedError: role ReadOnly may not run PUBLISH")
      await Effect.runPromise(client.publish("ro", { from: "root" }))
      expect((await Effect.runPromise(Fiber.join(fiber))).map((m) => m.data)).toEqual([{ from: "root" }])
    } finally {
      await rt.dispose()
    }
  })

  it("the promise client: subscribe calls back with each message; its function ends the subscription", async () => {
    const p = await createClient({ port: server.port, user: "root", password: "root", poolSize: 1 })
    try {
      const got: Array<unknown> = []
      const off = await p.subscribe("promised", (m) => got.push(m.data))
      await p.publish("promised", { n: 1 })
      await p.publish("promised", "two")
      await eventually(async () => got.length === 2)
      expect(got).toEqual([{ n: 1 }, "two"])
      await off()
      await eventually(async () => (await pubsubStatus()).subscribers === 0)
    } finally {
      await p.close()
    }
  })
})

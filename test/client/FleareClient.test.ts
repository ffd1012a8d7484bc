/**
 * The Effect client against the real server (in-process, real TCP on port 0): every method, typed errors,
 * pipelining, reconnecting after the server restarts.
 */
import * as net from "node:net"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Either, Exit, Fiber, ManagedRuntime, Option, Schedule } from "effect"
import { FleareClient, type FleareClientConfig, type FleareClientShape } from "../../src/client/FleareClient.js"
import { ConnectionError, FleareError, Unauthorized } from "../../src/client/errors.js"
import { startServer, type TestServer } from "../support/server.js"
import { startFakeServer } from "./fakeServer.js"

let server: TestServer
let runtime: ManagedRuntime.ManagedRuntime<FleareClient, unknown>
let c: FleareClientShape

const run = <A, E>(effect: Effect.Effect<A, E>): Promise<A> => Effect.runPromise(effect)
/** The typed error an effect fails with (the test fails if it succeeds). */
const failure = <A, E>(effect: Effect.Effect<A, E>): Promise<E> => Effect.runPromise(Effect.flip(effect))

/** The typed error an exit failed with (a layer built concurrently may also carry interruptions). */
const failureOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

/** A client with its own runtime, disposed by the caller. */
const connect = async (config: Partial<FleareClientConfig>) => {
  const rt = ManagedRuntime.make(FleareClient.layer(config))
  return { rt, client: await rt.runPromise(FleareClient) }
}

beforeAll(async () => {
  server = await startServer({
    security: {
      users: [
        { username: "root", password: "root", role: "root" },
        { username: "reader", password: "pw", role: "ReadOnly" }
      ]
    }
  })
  ;({ rt: runtime, client: c } = await connect({ port: server.port, user: "root", password: "root", poolSize: 2 }))
})

afterAll(async () => {
  await runtime.dispose()
  await server.close()
})

describe("every method against the real server", () => {
  it("ping, session, status, sessionList, sessionKill", async () => {
    expect(await run(c.ping())).toBe("PONG ")
    expect(await run(c.ping("hello", "world"))).toBe("PONG hello world")
    const s = await run(c.session())
    expect(s.session_id).toMatch(/^\d+-127\.0\.0\.1:\d+$/)
    expect(s.user).toEqual({ Username: "root", Password: "*******", Role: "root" })
    expect(s.status).toBe(1)
    expect(s.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)
    const st = await run(c.status())
    expect(st.server_status).toBe("running")
    expect(st.shard_info["shard_count"]).toBe(2)

    const other = await connect({ port: server.port, user: "reader", password: "pw", poolSize: 1 })
    try {
      const id = (await run(other.client.session())).session_id
      const all = await run(c.sessionList())
      expect(all.map((x) => x.session_id)).toContain(id)
      expect(all.find((x) => x.session_id === id)!.user).toEqual({
        Username: "reader",
        Password: "*******",
        Role: "ReadOnly"
      })
      expect(await run(c.sessionKill(id))).toBe(true)
      expect(await run(c.sessionKill("no-such-session"))).toBe(false)
    } finally {
      await other.rt.dispose()
    }
  })

  it("set, get, exists, del", async () => {
    expect(await run(c.set("k:a", "hello world"))).toBeUndefined()
    expect(await run(c.get("k:a"))).toBe("hello world")
    expect(await run(c.get("k:missing"))).toBe("")
    await run(c.set("k:j", '{"a":{"b":[1,2]}}'))
    expect(await run(c.get("k:j", "a.b"))).toBe("[1,2]")
    expect(await run(c.exists("k:a", "k:j", "k:missing", "k:a"))).toBe(3)
    await run(c.del("k:a"))
    expect(await run(c.exists("k:a"))).toBe(0)
  })

  it("strSet, strGet, strAppend, strLength, strRange", async () => {
    await run(c.strSet("s:1", "There are many"))
    await run(c.strAppend("s:1", " variations", " of passages"))
    expect(await run(c.strGet("s:1"))).toBe("There are many variations of passages")
    expect(await run(c.strGet("s:missing"))).toBe("")
    expect(await run(c.strLength("s:1"))).toBe(37)
    expect(await run(c.strRange("s:1", 15, 10))).toBe("variations")
    expect(await run(c.strRange("s:1", -8, 4))).toBe("pass")
  })

  it("numSet, numGet, numIncr, numDecr", async () => {
    await run(c.numSet("n:1", 41))
    expect(await run(c.numGet("n:1"))).toBe(41)
    expect(await run(c.numIncr("n:1"))).toBe(42)
    expect(await run(c.numIncr("n:1", 0.5))).toBe(42.5)
    expect(await run(c.numDecr("n:1", "2.5"))).toBe(40)
    expect(await run(c.numGet("n:missing"))).toBeUndefined()
    expect(await run(c.numDecr("n:new", 3))).toBe(-3)
  })

  it("listSet, listPush, listIset, listGet, listLen, listPop, listGPop, listFind, listUpdate", async () => {
    expect(await run(c.listSet("l:1", 10, "20", { x: 1 }, true, null))).toBe(5)
    expect(await run(c.listGet("l:1"))).toEqual([10, 20, { x: 1 }, true, null])
    expect(await run(c.listPush("l:1", "z"))).toBe(6)
    expect(await run(c.listGet("l:1", 5))).toBe("z")
    await run(c.listIset("l:1", 0, 30))
    expect(await run(c.listGet("l:1", 0))).toBe(30)
    expect(await run(c.listLen("l:1"))).toBe(6)
    expect(await run(c.listPop("l:1"))).toBe("z")
    expect(await run(c.listGPop("l:1"))).toBeUndefined() // the last element is null: removed, answered empty
    expect(await run(c.listLen("l:1"))).toBe(4)
    expect(await run(c.listGet("l:missing"))).toBeUndefined()
    await run(c.listSet("l:2", 10, 20, 30, 20))
    expect(await run(c.listFind("l:2", ":20"))).toEqual([20, 20])
    expect(await run(c.listFind("l:2", ":99"))).toEqual([])
    expect(await run(c.listUpdate("l:2", ":20", 25))).toBe(2)
    expect(await run(c.listGet("l:2"))).toEqual([10, 25, 30, 25])
  })

  it("mapSet, mapCSet, mapGet, mapDel", async () => {
    await run(c.mapSet("m:1", "name", "Ann"))
    await run(c.mapSet("m:1", "age", 31))
    await run(c.mapSet("m:1", "tags", ["a", "b"]))
    expect(await run(c.mapGet("m:1"))).toEqual({ name: "Ann", age: 31, tags: ["a", "b"] })
    expect(await run(c.mapGet("m:1", "age"))).toBe(31)
    expect(await run(c.mapGet("m:1", "nope"))).toBeUndefined()
    await run(c.mapDel("m:1", "age"))
    expect(await run(c.mapGet("m:1"))).toEqual({ name: "Ann", tags: ["a", "b"] })
    await run(c.mapCSet("m:1", "only", { x: 1 }))
    expect(await run(c.mapGet("m:1"))).toEqual({ only: { x: 1 } })
    await run(c.mapDel("m:1"))
    expect(await run(c.mapGet("m:1"))).toBeUndefined()
  })

  it("jsonSet, jsonGet, jsonPGet, jsonAdd, jsonMerge, jsonRemove, jsonSetRef", async () => {
    await run(c.jsonSet("j:1", { name: "John", address: { city: "NY" } }))
    expect(await run(c.jsonGet("j:1"))).toEqual({ address: { city: "NY" }, name: "John" })
    expect(await run(c.jsonGet("j:1", "address.city"))).toBe("NY")
    expect(await run(c.jsonPGet("j:1", "address"))).toEqual({ city: "NY" })
    expect(await run(c.jsonAdd("j:1", "office.members", 134))).toEqual({
      address: { city: "NY" },
      name: "John",
      office: { members: 134 }
    })
    expect(await run(c.jsonMerge("j:1", { address: { zip: "10001" } }))).toEqual({
      address: { city: "NY", zip: "10001" },
      name: "John",
      office: { members: 134 }
    })
    expect(await run(c.jsonRemove("j:1", "office"))).toEqual({ address: { city: "NY", zip: "10001" }, name: "John" })
    await run(c.jsonSet("u:1", { name: "Ann" }))
    await run(c.jsonSetRef("o:1", { item: "book" }, { userId: "u:1" }))
    expect(await run(c.jsonGet("o:1", "", "userId"))).toEqual({
      item: "book",
      userId: "$ref:u:1",
      _userId: { name: "Ann" }
    })
    expect(await run(c.jsonRemove("j:1"))).toBeUndefined()
    expect(await run(c.jsonGet("j:1"))).toBeUndefined()
  })

  it("ttl, ttlExpire", async () => {
    expect(await run(c.ttl("t:missing"))).toBe(-2)
    await run(c.set("t:1", "v"))
    expect(await run(c.ttl("t:1"))).toBe(-1)
    expect(await run(c.ttlExpire("t:1", "1h"))).toBe(true)
    const left = await run(c.ttl("t:1"))
    expect(left > 3590 && left <= 3600).toBe(true)
    expect(await run(c.ttlExpire("t:1", 0))).toBe(true)
    expect(await run(c.ttl("t:1"))).toBe(-1)
    expect(await run(c.ttlExpire("t:missing", 10))).toBe(false)
  })

  it("call returns Error replies as values; command fails with them", async () => {
    const r = await run(c.call("NOPE", "x"))
    expect({ status: r.status, result: r.result }).toEqual({
      status: "Error",
      result:
        'InvalidCommandError: The system could not process your request due to an unrecognized command input -> "NOPE"'
    })
    expect(await run(c.command("ping", "a"))).toBe("PONG a")
    const e = await failure(c.command("NOPE"))
    expect(e).toBeInstanceOf(FleareError)
    expect((e as FleareError).prefix).toBe("InvalidCommandError")
  })
})

describe("typed errors", () => {
  it("a refused command is a FleareError with the server's prefix and message", async () => {
    await run(c.set("e:s", "text"))
    const e = await failure(c.numIncr("e:s"))
    expect(e).toBeInstanceOf(FleareError)
    expect({ tag: e._tag, prefix: (e as FleareError).prefix, message: e.message }).toEqual({
      tag: "FleareError",
      prefix: "InvalidValueError",
      message: "the existing value for the provided key must be a number"
    })
    expect((e as FleareError).text).toBe("InvalidValueError: the existing value for the provided key must be a number")
    const args = await failure(c.command("SET", "only-a-key"))
    expect([(args as FleareError).prefix, args.message]).toEqual([
      "InvalidArgumentError",
      "Key and value must be provided"
    ])
  })

  it("an error without a prefix keeps its whole text", async () => {
    await run(c.jsonSet("e:j", { a: 1 }))
    const e = (await failure(c.jsonAdd("e:j", "a.b", 2))) as FleareError
    expect({ prefix: e.prefix, message: e.message, text: e.text }).toEqual({
      prefix: "",
      message: "invalid path: a.b",
      text: "invalid path: a.b"
    })
  })

  it("a role's refusal is a FleareError PermissionDeniedError", async () => {
    const ro = await connect({ port: server.port, user: "reader", password: "pw", poolSize: 1 })
    try {
      expect(await run(ro.client.get("k:j", "a.b"))).toBe("[1,2]")
      const e = (await failure(ro.client.set("k:x", "v"))) as FleareError
      expect([e.prefix, e.message]).toEqual(["PermissionDeniedError", "role ReadOnly may not run SET"])
    } finally {
      await ro.rt.dispose()
    }
  })

  it("wrong credentials fail the layer with Unauthorized (AuthFailed)", async () => {
    const rt = ManagedRuntime.make(FleareClient.layer({ port: server.port, user: "root", password: "wrong" }))
    const exit = await rt.runPromiseExit(FleareClient)
    await rt.dispose()
    const error = failureOf(exit)
    expect(error).toBeInstanceOf(Unauthorized)
    expect(error).toMatchObject({
      reason: "AuthFailed",
      message:
        "ConnectionFailed: The username or password you entered is incorrect. Please try again with valid credentials."
    })
  })

  it("a session that expired is Unauthorized (NoSession)", async () => {
    const s = await startServer({ security: { session_idle_timeout_seconds: 0.2 } })
    const { rt, client } = await connect({ port: s.port, user: "root", password: "root", poolSize: 1 })
    try {
      await new Promise((r) => setTimeout(r, 700))
      const e = await failure(client.ping())
      expect(e).toBeInstanceOf(Unauthorized)
      expect(e).toMatchObject({ reason: "NoSession", message: "unauthorized or session not found" })
    } finally {
      await rt.dispose()
      await s.close()
    }
  })

  it("nothing listening is a ConnectionError (Connect)", async () => {
    const port = await freePort()
    const exit = await Effect.runPromiseExit(
      Effect.scoped(Effect.flatMap(FleareClient, () => Effect.void)).pipe(
        Effect.provide(FleareClient.layer({ port, user: "root", password: "root" }))
      )
    )
    const error = failureOf(exit)
    expect(error).toBeInstanceOf(ConnectionError)
    expect(error).toMatchObject({ reason: "Connect" })
    expect((error as ConnectionError).message).toContain(`could not connect to 127.0.0.1:${port}: connect ECONNREFUSED`)
  })

  it("a server that never answers AUTH is a ConnectionError (Timeout)", async () => {
    const fake = await startFakeServer(() => true) // swallows everything
    try {
      const exit = await Effect.runPromiseExit(
        Effect.provide(FleareClient, FleareClient.layer({ port: fake.port, connectTimeout: "200 millis" }))
      )
      const error = failureOf(exit)
      expect(error).toBeInstanceOf(ConnectionError)
      expect(error).toMatchObject({ reason: "Timeout" })
    } finally {
      await fake.close()
    }
  })
})

describe("pipelining", () => {
  it("1000 requests in flight on one connection come back matched", async () => {
    const { rt, client } = await connect({ port: server.port, user: "root", password: "root", poolSize: 1 })
    try {
      const before = (await run(client.session())).session_id
      const results = await run(
        Effect.all(
          Array.from({ length: 1000 }, (_, i) =>
            i % 2 === 0 ? client.ping(String(i)) : Effect.map(client.numIncr("p:counter"), (n) => `n${n}`)
          ),
          { concurrency: "unbounded" }
        )
      )
      // Replies are matched in order: ping i answers PONG i, and the increments were applied in request order.
      expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? `PONG ${i}` : `n${(i + 1) / 2}`)))
      expect((await run(client.session())).session_id).toBe(before)
    } finally {
      await rt.dispose()
    }
  })

  it("sends all 1000 before any reply: a server that answers only after the 1000th still gets them answered", async () => {
    let held: Array<string> = []
    const fake = await startFakeServer((conn, cmd) => {
      if (cmd.command !== "PING") return false
      held.push(cmd.args[0]!)
      if (held.length === 1000) {
        for (const a of held) conn.reply("Ok", "PONG " + a)
        held = []
      }
      return true
    })
    const { rt, client } = await connect({ port: fake.port, poolSize: 1 })
    try {
      const results = await run(
        Effect.all(
          Array.from({ length: 1000 }, (_, i) => client.ping(String(i))),
          { concurrency: "unbounded" }
        )
      )
      expect(results).toEqual(Array.from({ length: 1000 }, (_, i) => `PONG ${i}`))
      expect(fake.connections.length).toBe(1)
    } finally {
      await rt.dispose()
      await fake.close()
    }
  })

  it("an interrupted request's reply is dropped, not given to the next request", async () => {
    let hold: (() => void) | undefined
    const fake = await startFakeServer((conn, cmd) => {
      if (cmd.command !== "PING" || cmd.args[0] !== "slow") return false
      hold = () => conn.reply("Ok", "PONG slow")
      return true
    })
    const { rt, client } = await connect({ port: fake.port, poolSize: 1 })
    try {
      const slow = Effect.runFork(client.ping("slow"))
      while (hold === undefined) await new Promise((r) => setTimeout(r, 5))
      await Effect.runPromise(Fiber.interrupt(slow))
      hold()
      expect(await run(client.ping("next"))).toBe("PONG next")
    } finally {
      await rt.dispose()
      await fake.close()
    }
  })
})

/** A port nothing listens on (bound, read, released). */
const freePort = (): Promise<number> =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

describe("reconnect", () => {
  // The server's FIN reaches the client a few milliseconds after close() resolves; a request written before
  // the client has read it fails (it is never re-sent: it might have run), so give the FIN time to arrive.
  const clientSeesTheClose = () => new Promise((r) => setTimeout(r, 100))
  const fast = Schedule.spaced("50 millis").pipe(Schedule.intersect(Schedule.recurs(100)))

  it("the next request after the server restarts succeeds on a new connection", async () => {
    const first = await startServer()
    const port = first.port
    const { rt, client } = await connect({ port, user: "root", password: "root", poolSize: 1, reconnect: fast })
    let second: TestServer | undefined
    try {
      const before = (await run(client.session())).session_id
      await first.close()
      await clientSeesTheClose()
      second = await startServer({ server: { port } })
      expect(await run(client.ping("again"))).toBe("PONG again")
      expect((await run(client.session())).session_id).not.toBe(before)
    } finally {
      await rt.dispose()
      await second?.close()
    }
  })

  it("a request made while the server is down waits for it by the schedule", async () => {
    const first = await startServer()
    const port = first.port
    const { rt, client } = await connect({ port, user: "root", password: "root", poolSize: 1, reconnect: fast })
    let second: TestServer | undefined
    try {
      await first.close()
      await clientSeesTheClose()
      const pending = Effect.runPromise(Effect.either(client.ping("later")))
      await new Promise((r) => setTimeout(r, 200))
      second = await startServer({ server: { port } })
      expect(await pending).toEqual(Either.right("PONG later"))
    } finally {
      await rt.dispose()
      await second?.close()
    }
  })

  it("gives up with a ConnectionError when the schedule is exhausted", async () => {
    const first = await startServer()
    const port = first.port
    const { rt, client } = await connect({
      port,
      user: "root",
      password: "root",
      poolSize: 1,
      reconnect: Schedule.spaced("10 millis").pipe(Schedule.intersect(Schedule.recurs(3)))
    })
    try {
      await first.close()
      await clientSeesTheClose()
      const e = await failure(client.ping())
      expect(e).toBeInstanceOf(ConnectionError)
      expect(e).toMatchObject({ reason: "Connect" })
    } finally {
      await rt.dispose()
    }
  })
})

/**
 * Pub/sub over real TCP sockets with exact frames (SPEC §4.9, §8.4–8.5): SUBSCRIBE and UNSUBSCRIBE answer
 * nothing, PUBLISH answers an empty Ok, pushes carry the subscriber's client id, the topic and the message as
 * Go's json.Marshal writes it; subscriptions end on UNSUBSCRIBE, disconnect, SESSION.KILL and session expiry.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { encodeCommand } from "../../src/protocol/Message.js"
import { startServer, type TestServer, withServer } from "../support/server.js"
import { WireClient, type WireReply } from "../support/wire.js"

/** A length-delimited protobuf field, built by hand (independent of the server's encoder). */
const field = (tag: number, text: string): Buffer => {
  const bytes = Buffer.from(text, "utf8")
  if (bytes.length === 0) return Buffer.alloc(0)
  const len: Array<number> = []
  let n = bytes.length
  while (n >= 0x80) {
    len.push((n & 0x7f) | 0x80)
    n >>>= 7
  }
  len.push(n)
  return Buffer.concat([Buffer.from([tag, ...len]), bytes])
}

/** The exact body of a push frame. */
const pushBody = (clientId: string, topic: string, result: string): Buffer =>
  Buffer.concat([field(0x0a, clientId), field(0x12, topic), field(0x1a, "Ok"), field(0x22, result)])

/** The exact body of an Error reply (pub/sub errors: no trailing newline). */
const errorBody = (clientId: string, text: string): Buffer =>
  Buffer.concat([field(0x0a, clientId), field(0x1a, "Error"), field(0x22, text)])

const idOf = async (c: WireClient): Promise<string> => (await c.call("PING")).clientId

/** Sends SUBSCRIBE, then PING as a barrier: the PONG must be the very next frame (SUBSCRIBE answers nothing). */
const subscribe = async (c: WireClient, ...topics: Array<string>): Promise<void> => {
  for (const t of topics) c.send("SUBSCRIBE", t)
  const r = await c.call("PING", "subscribed")
  expect([r.status, r.result, r.topic]).toEqual(["Ok", "PONG subscribed", ""])
}

const pubsubStatus = async (c: WireClient) =>
  (JSON.parse(await c.ok("STATUS")) as { pubsub: Record<string, number> }).pubsub

/** Polls STATUS until `done` holds (a disconnect is noticed asynchronously), at most `ms`. */
const waitStatus = async (c: WireClient, done: (p: Record<string, number>) => boolean, ms = 5000) => {
  const until = Date.now() + ms
  for (;;) {
    const p = await pubsubStatus(c)
    if (done(p) || Date.now() > until) return p
    await new Promise((r) => setTimeout(r, 20))
  }
}

/** Asserts that the next frame on `c` is the reply to a PING (so no push came before it). */
const expectNothingBeforePing = async (c: WireClient) => {
  const r = await c.call("PING", "barrier")
  expect([r.topic, r.result]).toEqual(["", "PONG barrier"])
}

let s: TestServer
const open: Array<WireClient> = []
const authed = async (user = "root", password = "root") => {
  const c = await WireClient.authed(s.port, user, password)
  open.push(c)
  return c
}

beforeAll(async () => {
  s = await startServer({
    security: {
      users: [
        { username: "root", password: "root", role: "root" },
        { username: "reader", password: "r-pass", role: "ReadOnly" },
        { username: "app", password: "a-pass", role: "User" }
      ]
    }
  })
})
afterAll(async () => {
  for (const c of open) c.destroy()
  await s?.close()
})

describe("the wire", () => {
  const cases: ReadonlyArray<readonly [name: string, sent: string, pushed: string]> = [
    [
      "a JSON object with unsorted keys",
      '{"b":1,"a":{"d":[3,{"z":1,"y":2}],"c":"x"}}',
      '{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}'
    ],
    ["nested arrays", '[1, [2, [3, []]], "s"]', '[1,[2,[3,[]]],"s"]'],
    ["a plain string", "hello world", '"hello world"'],
    ["a number", "42", "42"],
    ["a float in Go's format", "1.50", "1.5"],
    ["a big number", "1e21", "1e+21"],
    ["true", "true", "true"],
    ["null", "null", "null"],
    ["a JSON string", '"A"', '"A"'],
    ["unicode", "héllo ✓ 😀", '"héllo ✓ 😀"'],
    ["<>& in text", "<a>&b", '"\\u003ca\\u003e\\u0026b"'],
    ["<>& in JSON", '{"h":"<b>&"}', '{"h":"\\u003cb\\u003e\\u0026"}'],
    ["an empty message", "", '""']
  ]
  for (const [name, sent, pushed] of cases) {
    it(`pushes ${name} as Go's json.Marshal writes it, with the subscriber's id and the topic`, async () => {
      const sub = await authed()
      const pub = await authed()
      const subId = await idOf(sub)
      const pubId = await idOf(pub)
      await subscribe(sub, "news")
      const reply = await pub.call("PUBLISH", "news", sent)
      // PUBLISH: Ok, empty result, the publisher's client id, no topic.
      expect(reply.body).toEqual(Buffer.concat([field(0x0a, pubId), field(0x1a, "Ok")]))
      const push = await sub.next()
      expect(push.body).toEqual(pushBody(subId, "news", pushed))
      sub.destroy()
      pub.destroy()
    })
  }

  it("SUBSCRIBE and UNSUBSCRIBE answer nothing, in any case; PUBLISH's name is case-insensitive too", async () => {
    const sub = await authed()
    const pub = await authed()
    const subId = await idOf(sub)
    sub.send("subscribe", "a")
    sub.send("Subscribe", "b", "extra", "args")
    sub.send("UNSUBSCRIBE", "nope")
    await expectNothingBeforePing(sub)
    expect((await pub.call("publish", "a", "1")).status).toBe("Ok")
    expect((await pub.call("PuBlIsH", "b", "2", "ignored")).status).toBe("Ok")
    expect((await sub.next()).body).toEqual(pushBody(subId, "a", "1"))
    expect((await sub.next()).body).toEqual(pushBody(subId, "b", "2"))
    sub.send("unsubscribe", "a")
    await expectNothingBeforePing(sub)
  })

  it("Fleare's error texts, bare (no newline), with the client id", async () => {
    const c = await authed()
    const id = await idOf(c)
    expect((await c.call("SUBSCRIBE")).body).toEqual(errorBody(id, "missing topic for subscribe"))
    expect((await c.call("unsubscribe")).body).toEqual(errorBody(id, "missing topic for unsubscribe"))
    expect((await c.call("PUBLISH")).body).toEqual(errorBody(id, "missing topic or message for publish"))
    expect((await c.call("PUBLISH", "t")).body).toEqual(errorBody(id, "missing topic or message for publish"))
    // An empty topic counts as missing: a push on "" would carry no topic and look like a reply.
    expect((await c.call("SUBSCRIBE", "")).body).toEqual(errorBody(id, "missing topic for subscribe"))
    expect((await c.call("PUBLISH", "", "m")).body).toEqual(errorBody(id, "missing topic or message for publish"))
    await expectNothingBeforePing(c)
  })

  it("before AUTH, every pub/sub command answers unauthorized", async () => {
    const c = await WireClient.connect(s.port)
    open.push(c)
    for (const [cmd, ...args] of [
      ["SUBSCRIBE", "t"],
      ["UNSUBSCRIBE", "t"],
      ["PUBLISH", "t", "m"]
    ] as const) {
      const r = await c.call(cmd, ...args)
      expect([r.status, r.result]).toEqual(["Error", "unauthorized or session not found"])
    }
  })
})

describe("delivery", () => {
  it("UNSUBSCRIBE stops delivery", async () => {
    const sub = await authed()
    const pub = await authed()
    await subscribe(sub, "u")
    await pub.ok("PUBLISH", "u", "one")
    expect((await sub.next()).result).toBe('"one"')
    sub.send("UNSUBSCRIBE", "u")
    await expectNothingBeforePing(sub)
    await pub.ok("PUBLISH", "u", "two")
    await expectNothingBeforePing(sub)
  })

  it("two subscribers on one topic both receive, each with its own client id", async () => {
    const a = await authed()
    const b = await authed()
    const pub = await authed()
    await subscribe(a, "both")
    await subscribe(b, "both")
    await pub.ok("PUBLISH", "both", '{"n":1}')
    expect((await a.next()).body).toEqual(pushBody(await idOf(a), "both", '{"n":1}'))
    expect((await b.next()).body).toEqual(pushBody(await idOf(b), "both", '{"n":1}'))
  })

  it("one connection on two topics: each push carries its topic; a duplicate SUBSCRIBE is ignored", async () => {
    const sub = await authed()
    const pub = await authed()
    await subscribe(sub, "x", "y", "x")
    await pub.ok("PUBLISH", "x", "1")
    await pub.ok("PUBLISH", "y", "2")
    await pub.ok("PUBLISH", "z", "3")
    await pub.ok("PUBLISH", "x", "4")
    const got = [await sub.next(), await sub.next(), await sub.next()].map((r) => [r.topic, r.result])
    expect(got).toEqual([
      ["x", "1"],
      ["y", "2"],
      ["x", "4"]
    ])
    await expectNothingBeforePing(sub)
  })

  it("a publisher subscribed to the topic gets its own message, after the replies of the requests before it", async () => {
    const c = await authed()
    await subscribe(c, "self")
    // One TCP write: GET, PUBLISH, GET. The push must not overtake any of these replies.
    c.write(
      Buffer.concat([
        encodeCommand("GET", ["self:missing"]),
        encodeCommand("PUBLISH", ["self", "mine"]),
        encodeCommand("PING", ["after"])
      ])
    )
    const frames = [await c.next(), await c.next(), await c.next(), await c.next()]
    expect(frames.map((f) => [f.topic, f.result])).toEqual([
      ["", ""],
      ["", ""],
      ["", "PONG after"],
      ["self", '"mine"']
    ])
  })

  it("its own message still follows its replies when a long read is run in batches (the work budget yields)", async () => {
    const c = await authed()
    await subscribe(c, "batched")
    await c.ok("SET", "big4k", "x".repeat(4096))
    // 300 replies of 4 KiB pass the 256 KiB budget of one synchronous pass: the read runs in several batches.
    const gets = Array.from({ length: 300 }, () => encodeCommand("GET", ["big4k"]))
    c.write(Buffer.concat([...gets, encodeCommand("PUBLISH", ["batched", "late"]), encodeCommand("PING", ["end"])]))
    const frames: Array<WireReply> = []
    for (let i = 0; i < 303; i++) frames.push(await c.next())
    expect(frames.slice(0, 300).every((f) => f.topic === "" && f.result.length === 4096)).toBe(true)
    expect(frames.slice(300).map((f) => [f.topic, f.result])).toEqual([
      ["", ""],
      ["", "PONG end"],
      ["batched", '"late"']
    ])
  })

  it("a subscriber running GET/SET/SESSION between pushes gets its replies in order and every frame whole", async () => {
    const sub = await authed()
    const pub = await authed()
    await subscribe(sub, "mixed")
    const N = 300
    const frames: Array<WireReply> = []
    const expectedReplies: Array<(r: WireReply) => boolean> = []
    // The publisher sends without waiting; the subscriber pipelines its own requests meanwhile.
    const published = (async () => {
      for (let i = 0; i < N; i++) {
        pub.send("PUBLISH", "mixed", JSON.stringify({ i, pad: "x".repeat(i % 50) }))
        if (i % 20 === 0) await new Promise((r) => setImmediate(r))
      }
      for (let i = 0; i < N; i++) expect((await pub.next()).status).toBe("Ok")
    })()
    for (let i = 0; i < 100; i++) {
      sub.send("SET", `mixed:${i}`, `v${i}`)
      expectedReplies.push((r) => r.status === "Ok" && r.result === "")
      sub.send("GET", `mixed:${i}`)
      expectedReplies.push((r) => r.result === `v${i}`)
      sub.send("SESSION")
      expectedReplies.push((r) => r.status === "Ok" && JSON.parse(r.result).status === 1)
      if (i % 10 === 0) await new Promise((r) => setImmediate(r))
    }
    await published
    while (frames.filter((f) => f.topic === "").length < expectedReplies.length || frames.length < 300 + N)
      frames.push(await sub.next())
    const replies = frames.filter((f) => f.topic === "")
    const pushes = frames.filter((f) => f.topic !== "")
    expect(replies.map((r, i) => expectedReplies[i]!(r))).toEqual(replies.map(() => true))
    expect(pushes.map((p) => JSON.parse(p.result).i)).toEqual(Array.from({ length: N }, (_, i) => i))
    await expectNothingBeforePing(sub)
  })
})

describe("the official Node pub/sub client's sequence (SPEC §8.4)", () => {
  it("auth, subscribe [ch] with no reply awaited, pushes read in a loop; publish frames back to back", async () => {
    const sub = await WireClient.connect(s.port)
    const pub = await WireClient.connect(s.port)
    open.push(sub, pub)
    // connect(): auth (lower-case, as the client sends it), then ready(clientId).
    const ready = await sub.call("auth", "root", "root")
    expect([ready.status, ready.result]).toEqual(["Ok", "Connected"])
    expect((await pub.call("auth", "root", "root")).result).toBe("Connected")
    const before = (await pubsubStatus(pub)).subscribers!
    sub.send("subscribe", "chat")
    // The client awaits nothing; the test waits (on another connection) until the server has the subscription.
    await waitStatus(pub, (p) => p.subscribers === before + 1)
    const messages = Array.from({ length: 50 }, (_, i) => ({ from: "node", i, text: `m<${i}>` }))
    // publish(ch, msg): `publish [ch, JSON.stringify(msg)]`, replies not awaited: all in one write here.
    pub.write(Buffer.concat(messages.map((m) => encodeCommand("publish", ["chat", JSON.stringify(m)]))))
    for (const m of messages) {
      const push = await sub.next()
      // The client's read loop: take the topic, JSON.parse the result, call the topic's handlers.
      expect(push.topic).toBe("chat")
      expect(push.clientId).toBe(ready.clientId)
      expect(JSON.parse(push.result)).toEqual(m)
    }
    // The swallowed PUBLISH replies: one per request, Ok, empty.
    for (let i = 0; i < messages.length; i++) {
      const r = await pub.next()
      expect([r.status, r.result, r.topic]).toEqual(["Ok", "", ""])
    }
  })
})

describe("subscriptions end", () => {
  // A server of their own, so the broker's tables hold only what these tests make.
  let own: TestServer
  beforeAll(async () => {
    own = await startServer()
  })
  afterAll(() => own?.close())

  const setup = async () => {
    const admin = await WireClient.authed(own.port)
    const sub = await WireClient.authed(own.port)
    open.push(admin, sub)
    await subscribe(sub, "end:a", "end:b")
    const before = await pubsubStatus(admin)
    expect(before.subscribers).toBe(1)
    expect(before.topics).toBe(2)
    return { admin, sub, subId: await idOf(sub) }
  }

  it("on disconnect: the broker's tables are empty and a later publish reaches no one", async () => {
    const { admin, sub } = await setup()
    sub.destroy()
    const after = await waitStatus(admin, (p) => p.subscribers === 0)
    expect([after.subscribers, after.topics]).toEqual([0, 0])
    await admin.ok("PUBLISH", "end:a", "late")
    expect((await pubsubStatus(admin)).messages_delivered).toBe(after.messages_delivered)
  })

  it("on SESSION.KILL: the connection closes and the tables are empty", async () => {
    const { admin, sub, subId } = await setup()
    expect(await admin.ok("SESSION.KILL", subId)).toBe("1")
    await sub.closed
    const after = await waitStatus(admin, (p) => p.subscribers === 0)
    expect([after.subscribers, after.topics]).toEqual([0, 0])
    await admin.ok("PUBLISH", "end:b", "late")
    expect((await pubsubStatus(admin)).messages_delivered).toBe(after.messages_delivered)
  })

  it("on session expiry: an expired session receives nothing more, and the tables are emptied", () =>
    // A 1 s timeout leaves a loaded machine time to SUBSCRIBE after AUTH; test/pubsub/expiry.test.ts checks the
    // same under TestClock, exactly.
    withServer({ security: { session_idle_timeout_seconds: 1 } }, async ({ port }) => {
      const sub = await WireClient.authed(port)
      try {
        await subscribe(sub, "idle")
        await new Promise((r) => setTimeout(r, 2200))
        const pub = await WireClient.authed(port)
        try {
          await pub.ok("PUBLISH", "idle", "too late")
          const st = await pubsubStatus(pub)
          expect([st.subscribers, st.topics, st.messages_delivered]).toEqual([0, 0, 0])
        } finally {
          pub.destroy()
        }
        // The next frame the subscriber sees is its PING's refusal: no push came.
        const r = await sub.call("PING")
        expect([r.topic, r.status, r.result]).toEqual(["", "Error", "unauthorized or session not found"])
      } finally {
        sub.destroy()
      }
    }))
})

describe("roles (SPEC A.2)", () => {
  it("ReadOnly may subscribe and unsubscribe, and receives pushes, but may not publish", async () => {
    const reader = await authed("reader", "r-pass")
    const pub = await authed()
    await subscribe(reader, "ro")
    await pub.ok("PUBLISH", "ro", "for readers")
    expect((await reader.next()).result).toBe('"for readers"')
    const refused = await reader.call("PUBLISH", "ro", "x")
    expect([refused.status, refused.result]).toEqual([
      "Error",
      "PermissionDeniedError: role ReadOnly may not run PUBLISH"
    ])
    // The refused PUBLISH delivered nothing.
    await expectNothingBeforePing(reader)
    reader.send("UNSUBSCRIBE", "ro")
    await expectNothingBeforePing(reader)
    await pub.ok("PUBLISH", "ro", "unseen")
    await expectNothingBeforePing(reader)
  })

  it("User may subscribe, unsubscribe and publish", async () => {
    const a = await authed("app", "a-pass")
    const b = await authed("app", "a-pass")
    await subscribe(b, "users")
    expect((await a.call("PUBLISH", "users", "[1]")).status).toBe("Ok")
    expect((await b.next()).result).toBe("[1]")
    b.send("UNSUBSCRIBE", "users")
    await expectNothingBeforePing(b)
  })
})

/**
 * The promise facade against the real server: the same methods, typed errors as rejections.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { ConnectionError, FleareError, Unauthorized } from "../../src/client/errors.js"
import { createClient, type FleareClientPromise } from "../../src/client/promise.js"
import { startServer, type TestServer } from "../support/server.js"

let server: TestServer
let fleare: FleareClientPromise

beforeAll(async () => {
  server = await startServer()
  fleare = await createClient({ port: server.port, user: "root", password: "root" })
})

afterAll(async () => {
  await fleare.close()
  await server.close()
})

// Every method of the Effect client has a promise twin (none mapped to `never`): checked by the compiler.
type NeverKeys = {
  [K in keyof FleareClientPromise]: [FleareClientPromise[K]] extends [never] ? K : never
}[keyof FleareClientPromise]
const everyMethodTyped: [NeverKeys] extends [never] ? true : false = true

describe("createClient", () => {
  it("has a typed promise method for every client method", () => {
    expect(everyMethodTyped).toBe(true)
  })

  it("runs commands and returns typed results", async () => {
    await fleare.set("p:k", "v")
    expect(await fleare.get("p:k")).toBe("v")
    expect(await fleare.numIncr("p:n", 5)).toBe(5)
    expect(await fleare.listPush("p:l", 1, { a: true })).toBe(2)
    expect(await fleare.listGet("p:l")).toEqual([1, { a: true }])
    expect((await fleare.session()).user.Username).toBe("root")
    expect((await fleare.call("PING", "x")).result).toBe("PONG x")
  })

  it("rejects with the typed error", async () => {
    const e: unknown = await fleare.numIncr("p:k").catch((x: unknown) => x)
    expect(e).toBeInstanceOf(FleareError)
    expect(e).toMatchObject({
      prefix: "InvalidValueError",
      message: "the existing value for the provided key must be a number"
    })
  })

  it("rejects a wrong password with Unauthorized and an unreachable server with ConnectionError", async () => {
    await expect(createClient({ port: server.port, user: "root", password: "nope" })).rejects.toBeInstanceOf(
      Unauthorized
    )
    await expect(createClient({ port: 1, user: "root", password: "root" })).rejects.toBeInstanceOf(ConnectionError)
  })

  it("fails calls after close with a ConnectionError", async () => {
    const other = await createClient({ port: server.port, user: "root", password: "root", poolSize: 1 })
    await other.close()
    await expect(other.ping()).rejects.toBeDefined()
  })
})

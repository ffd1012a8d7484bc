/**
 * What every command family's test file needs: one real server on port 0 and one authenticated TCP client for
 * the whole file, and assertions on a reply's status and exact result text.
 */
import { afterAll, beforeAll, expect } from "@effect/vitest"
import { startServer, type TestServer } from "./server.js"
import { WireClient, type WireReply } from "./wire.js"

/** Forwards to the object `get` returns once the hooks have made it (method calls bound to it). */
const late = <T extends object>(get: () => T): T =>
  new Proxy({} as T, {
    get: (_target, property) => {
      const target = get()
      const value: unknown = Reflect.get(target, property)
      return typeof value === "function" ? value.bind(target) : value
    }
  })

/** Starts a server and an authenticated client before the file's tests, and closes both after them. */
export const useServerAndClient = (): { readonly server: TestServer; readonly c: WireClient } => {
  let server: TestServer | undefined
  let client: WireClient | undefined
  beforeAll(async () => {
    server = await startServer()
    client = await WireClient.authed(server.port)
  })
  afterAll(async () => {
    client?.destroy()
    await server?.close()
  })
  return { server: late(() => server!), c: late(() => client!) }
}

/** Asserts an `Ok` reply with exactly `result`. */
export const ok = (r: WireReply, result: string) =>
  expect({ status: r.status, result: r.result }).toEqual({ status: "Ok", result })

/** Asserts an `Error` reply with exactly `result`. */
export const err = (r: WireReply, result: string) =>
  expect({ status: r.status, result: r.result }).toEqual({ status: "Error", result })

/** Embedding: another Effect program builds the server from the exported layers and talks to it. */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import {
  Accounts,
  Broker,
  Durability,
  FleareServer,
  Keyspace,
  NodeTransportLayer,
  ServerConfig,
  SessionStore,
  VERSION
} from "../../src/index.js"
import { WireClient } from "../support/wire.js"

describe("embedding the server in an Effect app", () => {
  it.scopedLive("FleareServer.layer on port 0 with the app's own SessionStore, reachable over TCP", () => {
    const config = ServerConfig.unsafeMake({ server: { port: 0 } })
    const sessions = SessionStore.layerMemory(Duration.minutes(5))
    const app = Layer.mergeAll(
      FleareServer.layer.pipe(
        Layer.provide(
          Layer.mergeAll(
            NodeTransportLayer,
            Accounts.layer,
            Keyspace.layerConfig,
            Durability.layerNone,
            Broker.layerMemory
          )
        ),
        Layer.provideMerge(sessions),
        Layer.provide(ServerConfig.layer(config))
      )
    )
    return Effect.gen(function* () {
      const server = yield* FleareServer
      const store = yield* SessionStore
      expect(server.address.port).toBeGreaterThan(0)
      const c = yield* Effect.promise(() => WireClient.authed(server.address.port))
      const id = JSON.parse(yield* Effect.promise(() => c.ok("SESSION"))).session_id as string
      // The app sees the same sessions as the server: the store is shared through the layer.
      expect((yield* store.get(id)).user.username).toBe("root")
      c.destroy()
    }).pipe(Effect.provide(app))
  })

  it("exports a version equal to package.json's", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
    expect(VERSION).toBe(pkg.version)
  })
})

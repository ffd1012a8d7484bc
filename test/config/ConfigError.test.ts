/**
 * Configuration errors are values: `ServerConfig.make` and `loadConfig` fail with a `ConfigError` whose message is
 * one line naming the key, what was expected and what was given, the same text the server prints at startup.
 */
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { ConfigError, loadConfig } from "../../src/config/load.js"
import { type DeepPartial, ServerConfig, type ServerConfigShape } from "../../src/config/ServerConfig.js"
import { ConfigError as ExportedConfigError, ServerConfig as ExportedServerConfig } from "../../src/index.js"

/** The message `ServerConfig.make` fails with for a patch (typed loosely: the wrong types are the point). */
const makeError = (patch: unknown) =>
  ServerConfig.make(patch as DeepPartial<ServerConfigShape>).pipe(
    Effect.flip,
    Effect.map((e) => {
      expect(e).toBeInstanceOf(ConfigError)
      expect(e._tag).toBe("ConfigError")
      expect(e.message).not.toContain("\n")
      return e.message
    })
  )

describe("ServerConfig.make fails with a one-line ConfigError", () => {
  it.effect("a wrong type: the key, the expected type and the value", () =>
    Effect.gen(function* () {
      expect(yield* makeError({ server: { port: "abc" } })).toBe(
        'invalid configuration: server.port: Expected number, actual "abc"'
      )
      expect(yield* makeError({ security: { enable_auth: "yes" } })).toBe(
        'invalid configuration: security.enable_auth: Expected boolean, actual "yes"'
      )
    })
  )

  it.effect("a value out of range or not an integer", () =>
    Effect.gen(function* () {
      expect(yield* makeError({ server: { port: -1 } })).toBe(
        "invalid configuration: server.port: Expected a non-negative number, actual -1"
      )
      expect(yield* makeError({ server: { port: 1.5 } })).toBe(
        "invalid configuration: server.port: Expected an integer, actual 1.5"
      )
    })
  )

  it.effect("a choice names every allowed value once, as one issue", () =>
    Effect.gen(function* () {
      expect(yield* makeError({ memory: { eviction_policy: "LRX" } })).toBe(
        'invalid configuration: memory.eviction_policy: Expected "LRU" | "LFU" | "FIFO" | "noeviction", actual "LRX"'
      )
    })
  )

  it.effect("every wrong key is named, array indexes in brackets, and a password's value is never shown", () =>
    Effect.gen(function* () {
      const message = yield* makeError({ security: { users: [{ username: "a", password: 12345, role: "boss" }] } })
      expect(message).toBe(
        "invalid configuration: security.users[0].password: Expected string; " +
          'security.users[0].role: unknown role "boss" (expected root, Admin, User or ReadOnly)'
      )
      expect(message).not.toContain("12345")
    })
  )

  it.effect("cross-key checks are ConfigErrors too", () =>
    Effect.gen(function* () {
      expect(yield* makeError({ server: { host: "0.0.0.0" } })).toMatch(
        /^server\.host: refusing to listen on 0\.0\.0\.0 \(not loopback\) while the root user still has the default password/
      )
    })
  )

  it.effect("a good patch succeeds; layerMake fails the layer with the same error", () =>
    Effect.gen(function* () {
      expect((yield* ServerConfig.make({ server: { port: 0 } })).server.port).toBe(0)
      const exit = yield* Effect.exit(
        Effect.provide(ServerConfig, ServerConfig.layerMake({ server: { port: "x" } } as never))
      )
      expect(exit).toEqual(
        Exit.fail(new ConfigError({ message: 'invalid configuration: server.port: Expected number, actual "x"' }))
      )
    })
  )

  it("unsafeMake throws the ConfigError itself, not a schema dump", () => {
    expect(() => ServerConfig.unsafeMake({ server: { port: "abc" } } as never)).toThrow(
      new ConfigError({ message: 'invalid configuration: server.port: Expected number, actual "abc"' })
    )
  })

  it("the package exports the same ConfigError and ServerConfig", () => {
    expect(ExportedConfigError).toBe(ConfigError)
    expect(ExportedServerConfig).toBe(ServerConfig)
  })
})

describe("loadConfig words its errors the same way (one source for the startup message)", () => {
  it.effect("--config with a wrong type gives the text ServerConfig.make gives", () =>
    Effect.gen(function* () {
      const loaded = yield* Effect.flip(loadConfig({ configYaml: "server:\n  port: abc\n" }))
      expect(loaded).toBeInstanceOf(ConfigError)
      expect(loaded.message).toBe(yield* makeError({ server: { port: "abc" } }))
    }).pipe(Effect.provide(Layer.orDie(NodeFileSystem.layer)))
  )
})

import { FileSystem, Path } from "@effect/platform"
import { NodeFileSystem, NodePath } from "@effect/platform-node"
import { describe, expect, layer } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { type ConfigSources, loadConfig } from "../../src/config/load.js"
import { ServerConfig } from "../../src/config/ServerConfig.js"
import { hashPassword } from "../../src/session/Password.js"

/** Fleare's own config file (§6.2 of the spec): every section, Fleare's values, `strict_insert` and all. */
const fleareYaml = `# Fleare configuration
server:
  host: "127.0.0.1"
  port: 9210

logging:
  level: "info"
  file: "/usr/local/fleare/log/fleareDB.log"

memory:
  max_size_mb: 1024
  eviction_policy: "LRU"

security:
  enable_auth: true
  auth_method: "basic"
  users:
    - username: "root"
      password: "root"
      role: "root"
    - username: "admin"
      password: "admin123"
      role: "Admin"

persistence:
  enable: true
  path: "/usr/local/fleare/db"
  after_write_count: 1

shard:
  mode: "local"
  shard_count: 2

backup:
  enable: true
  interval_minutes: 60
  backup_dir: "/usr/local/fleare/backups"

misc:
  max_connections: 200
  timeout_seconds: 30
  strict_insert: true
`

/** Writes `text` to a file in a fresh temporary directory (removed when the test's scope closes). */
const tempFile = (text: string, name = "config.yaml") =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = yield* fs.makeTempDirectoryScoped({ prefix: "fleare-config-" })
    const file = path.join(dir, name)
    yield* fs.writeFileString(file, text)
    return file
  })

/** The error message of a load that must fail. */
const failure = (sources: ConfigSources) =>
  loadConfig(sources).pipe(
    Effect.flip,
    Effect.map((e) => {
      expect(e._tag).toBe("ConfigError")
      return e.message
    })
  )

layer(Layer.merge(NodeFileSystem.layer, NodePath.layer))("loadConfig", (it) => {
  describe("sources and their order", () => {
    it.effect("nothing given: the embedded defaults", () =>
      Effect.gen(function* () {
        const { config, warnings } = yield* loadConfig({})
        expect(warnings).toEqual([])
        expect(config.server.host).toBe("127.0.0.1")
        expect(config.server.port).toBe(9219)
        expect(config.security.enable_auth).toBe(true)
        expect(config.security.users).toEqual([{ username: "root", password: "root", role: "root" }])
        expect(config.persistence.enable).toBe(false)
        expect(config.misc.insertmode).toBe(false)
        expect(config.memory.eviction_policy).toBe("noeviction")
        expect(config).toEqual(ServerConfig.unsafeMake())
      })
    )

    it.effect("an empty override string is no override", () =>
      Effect.gen(function* () {
        const { config, warnings } = yield* loadConfig({ configYaml: "  \n" })
        expect(warnings).toEqual([])
        expect(config).toEqual(ServerConfig.unsafeMake())
      })
    )

    it.scoped("Fleare's full config file is accepted; its only unknown key is warned about", () =>
      Effect.gen(function* () {
        const file = yield* tempFile(fleareYaml)
        const { config, warnings } = yield* loadConfig({ configPath: file })
        expect(warnings).toEqual([`${file}: unknown key misc.strict_insert (ignored)`])
        expect(config.server).toMatchObject({ host: "127.0.0.1", port: 9210, max_frame_bytes: 10 * 1024 * 1024 })
        expect(config.logging).toEqual({ level: "info", file: "/usr/local/fleare/log/fleareDB.log", format: "text" })
        expect(config.memory).toEqual({ max_size_mb: 1024, eviction_policy: "LRU" })
        expect(config.security.enable_auth).toBe(true)
        expect(config.security.auth_method).toBe("basic")
        expect(config.security.users).toEqual([
          { username: "root", password: "root", role: "root" },
          { username: "admin", password: "admin123", role: "Admin" }
        ])
        expect(config.persistence.enable).toBe(true)
        expect(config.persistence.path).toBe("/usr/local/fleare/db")
        expect(config.persistence.after_write_count).toBe(1)
        // Keys Fleare's file does not have keep fleare-ts's defaults.
        expect(config.persistence.fsync).toBe("always")
        expect(config.shard).toEqual({ mode: "local", shard_count: 2 })
        expect(config.backup).toEqual({
          enable: true,
          interval_minutes: 60,
          backup_dir: "/usr/local/fleare/backups",
          keep: 5
        })
        expect(config.misc).toMatchObject({ max_connections: 200, timeout_seconds: 30, insertmode: false })
      })
    )

    it.scoped("an empty file is the embedded defaults", () =>
      Effect.gen(function* () {
        const file = yield* tempFile("# nothing here\n")
        const { config, warnings } = yield* loadConfig({ configPath: file })
        expect(warnings).toEqual([])
        expect(config).toEqual(ServerConfig.unsafeMake())
      })
    )

    it.scoped("the override wins over the file, false and 0 included; its users replace the file's", () =>
      Effect.gen(function* () {
        const file = yield* tempFile(fleareYaml)
        const override = [
          "server: {port: 0}",
          "security:",
          "  enable_auth: false",
          "  users:",
          "    - {username: root, password: other, role: Admin}",
          "persistence: {enable: false}",
          "backup: {enable: false}",
          "memory: {max_size_mb: 0}",
          "misc: {insertmode: true}"
        ].join("\n")
        const { config } = yield* loadConfig({ configPath: file, configYaml: override })
        expect(config.server.port).toBe(0)
        expect(config.server.host).toBe("127.0.0.1")
        expect(config.security.enable_auth).toBe(false)
        expect(config.security.auth_method).toBe("basic")
        expect(config.security.users).toEqual([{ username: "root", password: "other", role: "Admin" }])
        expect(config.persistence.enable).toBe(false)
        // Untouched keys of an overridden section stay as the file has them.
        expect(config.persistence.path).toBe("/usr/local/fleare/db")
        expect(config.backup.enable).toBe(false)
        expect(config.memory).toEqual({ max_size_mb: 0, eviction_policy: "LRU" })
        expect(config.misc.insertmode).toBe(true)
        expect(config.misc.max_connections).toBe(200)
      })
    )

    it.scoped("flags win over the file and the override", () =>
      Effect.gen(function* () {
        const file = yield* tempFile("server: {host: 127.0.0.2, port: 1111}\n")
        const both = { configPath: file, configYaml: "server: {host: 127.0.0.3, port: 2222}" }
        expect((yield* loadConfig(both)).config.server).toMatchObject({ host: "127.0.0.3", port: 2222 })
        const { config } = yield* loadConfig({ ...both, host: "localhost", port: 3333 })
        expect(config.server).toMatchObject({ host: "localhost", port: 3333 })
        // A flag left out leaves the other sources' value.
        expect((yield* loadConfig({ ...both, port: 0 })).config.server).toMatchObject({ host: "127.0.0.3", port: 0 })
      })
    )
  })

  describe("errors and warnings", () => {
    it.effect("a wrong type is an error naming the key path", () =>
      Effect.gen(function* () {
        const port = yield* failure({ configYaml: 'server: {port: "abc"}' })
        expect(port).toContain("server.port")
        expect(port).toContain('"abc"')
        const auth = yield* failure({ configYaml: 'security: {enable_auth: "yes"}' })
        expect(auth).toContain("security.enable_auth")
        expect(auth).toContain('"yes"')
        expect(yield* failure({ configYaml: "server: {port: 1.5}" })).toContain("server.port")
        expect(yield* failure({ configYaml: "server: {port: 70000}" })).toContain("server.port")
        expect(yield* failure({ configYaml: "persistence: {fsync: sometimes}" })).toContain("persistence.fsync")
        expect(yield* failure({ configYaml: "security: {users: {root: root}}" })).toContain("security.users")
        expect(yield* failure({ port: -1 })).toContain("server.port")
      })
    )

    it.effect("every wrong key is named, not only the first", () =>
      Effect.gen(function* () {
        const message = yield* failure({ configYaml: 'server: {port: "abc"}\nshard: {shard_count: 0}' })
        expect(message).toContain("server.port")
        expect(message).toContain("shard.shard_count")
      })
    )

    it.scoped("a wrong type in the file is named too", () =>
      Effect.gen(function* () {
        const file = yield* tempFile("security:\n  enable_auth: yes please\n")
        expect(yield* failure({ configPath: file })).toContain("security.enable_auth")
      })
    )

    it.effect("an unknown role is an error naming the role", () =>
      Effect.gen(function* () {
        const message = yield* failure({
          configYaml:
            "security: {users: [{username: root, password: x, role: root}, {username: bob, password: y, role: wizard}]}"
        })
        expect(message).toContain("wizard")
        expect(message).toContain("security.users[1].role")
      })
    )

    it.effect("role names are accepted in any case", () =>
      Effect.gen(function* () {
        const { config } = yield* loadConfig({
          configYaml:
            "security: {users: [{username: a, password: p, role: ADMIN}, {username: b, password: p, role: readonly}]}"
        })
        expect(config.security.users.map((u) => u.role)).toEqual(["ADMIN", "readonly"])
      })
    )

    it.scoped("unknown keys are warnings naming them and their source", () =>
      Effect.gen(function* () {
        const file = yield* tempFile("server:\n  hots: 127.0.0.1\nclustering: {nodes: 3}\n")
        const { config, warnings } = yield* loadConfig({
          configPath: file,
          configYaml:
            "security: {users: [{username: root, password: x, role: root, email: a@b}]}\nmisc: {strict_mode: true}"
        })
        expect(warnings).toEqual([
          `${file}: unknown key server.hots (ignored)`,
          `${file}: unknown key clustering (ignored)`,
          "--config: unknown key security.users[0].email (ignored)",
          "--config: unknown key misc.strict_mode (ignored)"
        ])
        expect(config.server.host).toBe("127.0.0.1")
        expect(config.security.users).toEqual([{ username: "root", password: "x", role: "root" }])
      })
    )

    it.effect("auth on with no users is refused", () =>
      Effect.gen(function* () {
        expect(yield* failure({ configYaml: "security: {users: []}" })).toContain("security.users")
      })
    )

    it.effect("a non-loopback host with the default root/root is refused, saying how to set a password", () =>
      Effect.gen(function* () {
        for (const host of ["0.0.0.0", "::", "192.168.1.10"]) {
          const message = yield* failure({ host })
          expect(message).toContain("server.host")
          expect(message).toContain(host)
          expect(message).toContain("security.users[].password")
          expect(message).toContain("npm run hash-password")
        }
        // Also when the host comes from the YAML.
        expect(yield* failure({ configYaml: "server: {host: 0.0.0.0}" })).toContain("npm run hash-password")
      })
    )

    it.effect("a non-loopback host without authentication is refused", () =>
      Effect.gen(function* () {
        const message = yield* failure({
          configYaml: "security: {enable_auth: false, users: [{username: root, password: s3cret, role: root}]}",
          host: "0.0.0.0"
        })
        expect(message).toContain("security.enable_auth")
      })
    )

    it.effect("a non-loopback host with a changed password is accepted", () =>
      Effect.gen(function* () {
        const plain = yield* loadConfig({
          configYaml: "security: {users: [{username: root, password: s3cret, role: root}]}",
          host: "0.0.0.0"
        })
        expect(plain.config.server.host).toBe("0.0.0.0")
        const hash = yield* hashPassword("s3cret")
        const hashed = yield* loadConfig({
          configYaml: `security: {users: [{username: root, password: "${hash}", role: root}]}`,
          host: "0.0.0.0"
        })
        expect(hashed.config.security.users[0]?.password).toBe(hash)
        // Loopback addresses are fine with the default password.
        for (const host of ["127.0.0.1", "127.1.2.3", "localhost", "::1"])
          expect((yield* loadConfig({ host })).config.server.host).toBe(host)
      })
    )

    it.effect("invalid YAML in the override is an error naming the source", () =>
      Effect.gen(function* () {
        expect(yield* failure({ configYaml: "server: [" })).toMatch(/^--config: invalid YAML/)
        expect(yield* failure({ configYaml: "just a string" })).toBe(
          "--config: expected a YAML mapping at the top level"
        )
        expect(yield* failure({ configYaml: "- a\n- b" })).toBe("--config: expected a YAML mapping at the top level")
      })
    )

    it.scoped("invalid YAML in the file is an error naming the file", () =>
      Effect.gen(function* () {
        const file = yield* tempFile("server:\n  port: 9219\n   host: x\n  : [\n")
        const message = yield* failure({ configPath: file })
        expect(message).toContain(`--config-path ${file}: invalid YAML`)
      })
    )

    it.scoped("a missing file is an error naming the path", () =>
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const dir = yield* fs.makeTempDirectoryScoped({ prefix: "fleare-config-" })
        const missing = `${dir}/does-not-exist.yaml`
        const message = yield* failure({ configPath: missing })
        expect(message).toContain(`--config-path ${missing}: cannot read`)
      })
    )

    it.effect("a password that looks like an scrypt hash but is not a valid one is refused, naming the key", () =>
      Effect.gen(function* () {
        const message = yield* failure({
          configYaml:
            "security:\n  users:\n    - {username: root, password: 'scrypt$3$8$1$c2FsdA==$a2V5', role: root}\n"
        })
        expect(message).toContain("security.users[0].password")
        expect(message).toContain("not a valid scrypt hash")
        expect(message).not.toContain("c2FsdA")
      })
    )

    it.effect("a password of the wrong type is refused without echoing its value", () =>
      Effect.gen(function* () {
        const message = yield* failure({
          configYaml: "security: {users: [{username: root, password: 987654321, role: root}]}"
        })
        expect(message).toContain("security.users[0].password: Expected string")
        expect(message).not.toContain("987654321")
      })
    )

    // YAML reads a key with nothing after the colon as null; like Fleare, that leaves the default alone.
    it.effect("an empty section or key keeps the defaults", () =>
      Effect.gen(function* () {
        const { config } = yield* loadConfig({ configYaml: "server:\n  # port: 1234\nlogging:\n  file:\n" })
        expect(config.server.port).toBe(9219)
        expect(config.logging.file).toBe("")
      })
    )
  })
})

/**
 * Loading the configuration as Fleare does, in order: the embedded defaults, the YAML file from
 * `--config-path`, a YAML override string (`--config` or the `config` environment variable), then flags.
 * Wrong types and unknown roles are startup errors naming the key; unknown keys are warnings.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { parse as parseYaml } from "yaml"
import { embeddedDefaults } from "./defaults.js"
import { deepMerge, ServerConfigSchema, type ServerConfigShape } from "./ServerConfig.js"

/** The configuration could not be loaded; `message` says which source and key. */
export class ConfigError extends Data.TaggedError("ConfigError")<{ readonly message: string }> {}

/** Where configuration comes from, all optional. */
export interface ConfigSources {
  /** Path of a Fleare YAML config file. */
  readonly configPath?: string | undefined
  /** A YAML string merged over the file (Fleare's `--config` / `config` env). */
  readonly configYaml?: string | undefined
  /** How to name `configYaml` in messages (default `--config`). */
  readonly configYamlSource?: string | undefined
  /** `--host` and `--port` flags, applied last. */
  readonly host?: string | undefined
  readonly port?: number | undefined
  /** `--store` (memory | redis-cluster) and `--redis-nodes` (seed nodes), applied last. */
  readonly store?: string | undefined
  readonly redisNodes?: ReadonlyArray<string> | undefined
}

/** The loaded configuration and the warnings to log about it. */
export interface LoadedConfig {
  readonly config: ServerConfigShape
  readonly warnings: ReadonlyArray<string>
}

const parseYamlSource = (text: string, source: string): Effect.Effect<unknown, ConfigError> =>
  Effect.try({
    try: () => parseYaml(text) as unknown,
    catch: (e) => new ConfigError({ message: `${source}: invalid YAML: ${e instanceof Error ? e.message : String(e)}` })
  }).pipe(
    Effect.flatMap((doc) =>
      doc === null || doc === undefined || (typeof doc === "object" && !Array.isArray(doc))
        ? Effect.succeed(doc ?? {})
        : Effect.fail(new ConfigError({ message: `${source}: expected a YAML mapping at the top level` }))
    )
  )

/** Lists keys of `value` that the schema (shaped like the embedded defaults) does not know. */
const unknownKeys = (shape: unknown, value: unknown, path: string): Array<string> => {
  if (typeof value !== "object" || value === null || typeof shape !== "object" || shape === null) return []
  if (Array.isArray(value)) {
    const item = Array.isArray(shape) ? shape[0] : undefined
    return item === undefined ? [] : value.flatMap((v, i) => unknownKeys(item, v, `${path}[${i}]`))
  }
  const known = shape as Record<string, unknown>
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) =>
    k in known ? unknownKeys(known[k], v, path ? `${path}.${k}` : k) : [path ? `${path}.${k}` : k]
  )
}

const formatIssues = (error: ParseResult.ParseError): string =>
  ParseResult.ArrayFormatter.formatErrorSync(error)
    .map((issue) => {
      // Never echo a password's value into a message that ends up in logs.
      const message = issue.path.includes("password") ? issue.message.replace(/, actual [\s\S]*$/, "") : issue.message
      return `${issue.path.length ? issue.path.join(".") : "(root)"}: ${message}`
    })
    .join("; ")

const isLoopback = (host: string): boolean =>
  host === "localhost" || host === "::1" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)

/** Checks that hold across keys, after types are known. */
const crossCheck = (c: ServerConfigShape): Either.Either<ServerConfigShape, ConfigError> => {
  if (c.security.enable_auth && c.security.users.length === 0)
    return Either.left(
      new ConfigError({ message: "security.users: at least one user is needed when security.enable_auth is true" })
    )
  const usesDefaultPassword = c.security.users.some((u) => u.username === "root" && u.password === "root")
  if (!isLoopback(c.server.host) && (usesDefaultPassword || !c.security.enable_auth))
    return Either.left(
      new ConfigError({
        message:
          `server.host: refusing to listen on ${c.server.host} (not loopback) while ` +
          (c.security.enable_auth
            ? 'the root user still has the default password "root"; set security.users[].password ' +
              "(a scrypt hash from `npm run hash-password` is best)"
            : "security.enable_auth is false; turn authentication on first")
      })
    )
  return Either.right(c)
}

/** Decodes a merged raw document into the configuration, with the cross-key checks. */
export const decodeConfig = (raw: unknown): Either.Either<ServerConfigShape, ConfigError> =>
  Schema.decodeUnknownEither(ServerConfigSchema, { errors: "all" })(raw).pipe(
    Either.mapLeft((e) => new ConfigError({ message: `invalid configuration: ${formatIssues(e)}` })),
    Either.flatMap(crossCheck)
  )

/** Loads the configuration from its sources (see the module doc for the order). */
export const loadConfig = (sources: ConfigSources): Effect.Effect<LoadedConfig, ConfigError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const warnings: Array<string> = []
    let raw: unknown = embeddedDefaults
    if (sources.configPath !== undefined) {
      const fs = yield* FileSystem.FileSystem
      const path = sources.configPath
      const text = yield* fs
        .readFileString(path)
        .pipe(Effect.mapError((e) => new ConfigError({ message: `--config-path ${path}: cannot read: ${e.message}` })))
      const doc = yield* parseYamlSource(text, `--config-path ${path}`)
      warnings.push(...unknownKeys(embeddedDefaults, doc, "").map((k) => `${path}: unknown key ${k} (ignored)`))
      raw = deepMerge(raw, doc)
    }
    if (sources.configYaml !== undefined && sources.configYaml.trim() !== "") {
      const source = sources.configYamlSource ?? "--config"
      const doc = yield* parseYamlSource(sources.configYaml, source)
      warnings.push(...unknownKeys(embeddedDefaults, doc, "").map((k) => `${source}: unknown key ${k} (ignored)`))
      raw = deepMerge(raw, doc)
    }
    const flags: Record<string, unknown> = {}
    if (sources.host !== undefined) flags.host = sources.host
    if (sources.port !== undefined) flags.port = sources.port
    raw = deepMerge(raw, { server: flags })
    const store: Record<string, unknown> = {}
    if (sources.store !== undefined) store.backend = sources.store
    if (sources.redisNodes !== undefined) store.redis = { nodes: sources.redisNodes }
    raw = deepMerge(raw, { store })
    const config = yield* decodeConfig(raw)
    return { config, warnings }
  })

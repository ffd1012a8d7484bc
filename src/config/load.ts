/**
 * Loading the configuration as Fleare does, in order: the embedded defaults, the YAML file from
 * `--config-path`, a YAML override string (`--config` or the `config` environment variable), then flags.
 * Wrong types and unknown roles are startup errors naming the key; unknown keys are warnings.
 */
import * as FileSystem from "@effect/platform/FileSystem"
import * as Effect from "effect/Effect"
import { parse as parseYaml } from "yaml"
import { ConfigError } from "./ConfigError.js"
import { embeddedDefaults } from "./defaults.js"
import { decodeConfig, deepMerge, type ServerConfigShape } from "./ServerConfig.js"

export { ConfigError } from "./ConfigError.js"
export { decodeConfig } from "./ServerConfig.js"

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
  /** `--metrics-port` and `--loglevel` flags, applied last (to `metrics.port`, `logging.level`). */
  readonly metricsPort?: number | undefined
  readonly logLevel?: string | undefined
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
    if (sources.metricsPort !== undefined) raw = deepMerge(raw, { metrics: { port: sources.metricsPort } })
    if (sources.logLevel !== undefined) raw = deepMerge(raw, { logging: { level: sources.logLevel } })
    const store: Record<string, unknown> = {}
    if (sources.store !== undefined) store.backend = sources.store
    if (sources.redisNodes !== undefined) store.redis = { nodes: sources.redisNodes }
    raw = deepMerge(raw, { store })
    const config = yield* decodeConfig(raw)
    return { config, warnings }
  })

/**
 * The server's configuration: Fleare's YAML shape (`server`, `logging`, `memory`, `security`, `persistence`,
 * `shard`, `backup`, `misc`) plus fleare-ts's own keys, decoded with `Schema` so a wrong type is reported with
 * the key's path. `ServerConfig` is the service every other layer reads it from.
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { MAX_SCRYPT_N, parseScryptHash } from "../session/Password.js"
import { parseRole } from "../session/Role.js"
import { embeddedDefaults } from "./defaults.js"

const Int = Schema.Number.pipe(Schema.int())
const NonNegativeInt = Int.pipe(Schema.nonNegative())
const PositiveInt = Int.pipe(Schema.positive())

const RoleName = Schema.String.pipe(
  Schema.filter((s) => parseRole(s) !== undefined || `unknown role "${s}" (expected root, Admin, User or ReadOnly)`)
)

const Password = Schema.String.pipe(
  Schema.filter(
    (s) =>
      !s.startsWith("scrypt$") ||
      parseScryptHash(s) !== undefined ||
      `not a valid scrypt hash (expected scrypt$N$r$p$salt$key with N a power of two up to ${MAX_SCRYPT_N}; ` +
        "make one with `npm run hash-password`)"
  )
)

const UserEntry = Schema.Struct({
  username: Schema.String.pipe(Schema.minLength(1, { message: () => "username must not be empty" })),
  password: Password,
  role: RoleName
})

const EvictionPolicy = Schema.Literal("LRU", "LFU", "FIFO", "noeviction")
const FsyncPolicy = Schema.Literal("always", "everysec", "no")

/** `store.*`: where the keyspace and sessions live (memory, or a Redis Cluster shared by several servers). */
const StoreSection = Schema.Struct({
  backend: Schema.Literal("memory", "redis-cluster"),
  redis: Schema.Struct({
    nodes: Schema.Array(
      Schema.String.pipe(Schema.pattern(/^[^\s:]+:\d{1,5}$/, { message: () => "expected host:port" }))
    ),
    key_prefix: Schema.String,
    wait_replicas: NonNegativeInt,
    wait_timeout_ms: NonNegativeInt,
    /** How long a command may wait on Redis (retries included) before it answers `internal server error`. */
    command_timeout_ms: PositiveInt
  })
})

/** The decoded configuration. Every key has a value: the embedded defaults fill what sources leave out. */
export const ServerConfigSchema = Schema.Struct({
  server: Schema.Struct({
    host: Schema.String.pipe(Schema.minLength(1)),
    port: NonNegativeInt.pipe(Schema.lessThanOrEqualTo(65535)),
    max_frame_bytes: PositiveInt
  }),
  logging: Schema.Struct({ level: Schema.String, file: Schema.String }),
  memory: Schema.Struct({ max_size_mb: NonNegativeInt, eviction_policy: EvictionPolicy }),
  security: Schema.Struct({
    enable_auth: Schema.Boolean,
    auth_method: Schema.String,
    users: Schema.Array(UserEntry),
    session_idle_timeout_seconds: Schema.Number.pipe(Schema.nonNegative())
  }),
  persistence: Schema.Struct({
    enable: Schema.Boolean,
    path: Schema.String,
    after_write_count: NonNegativeInt,
    fsync: FsyncPolicy,
    rewrite_min_bytes: NonNegativeInt,
    rewrite_percentage: NonNegativeInt,
    /** How long a graceful shutdown waits for in-flight requests before closing their connections. */
    shutdown_timeout_seconds: Schema.Number.pipe(Schema.nonNegative())
  }),
  shard: Schema.Struct({ mode: Schema.String, shard_count: PositiveInt }),
  backup: Schema.Struct({
    enable: Schema.Boolean,
    interval_minutes: PositiveInt,
    backup_dir: Schema.String,
    keep: PositiveInt
  }),
  misc: Schema.Struct({ max_connections: NonNegativeInt, timeout_seconds: NonNegativeInt, insertmode: Schema.Boolean }),
  store: StoreSection
})

/** The configuration's type. */
export type ServerConfigShape = typeof ServerConfigSchema.Type

/** The configuration as a service. */
export class ServerConfig extends Context.Tag("fleare/ServerConfig")<ServerConfig, ServerConfigShape>() {
  /** A layer holding the given configuration. */
  static layer = (config: ServerConfigShape): Layer.Layer<ServerConfig> => Layer.succeed(ServerConfig, config)

  /** The embedded defaults with some sections changed: handy for tests and embedding. */
  static make = (patch: DeepPartial<ServerConfigShape> = {}): ServerConfigShape =>
    Schema.decodeUnknownSync(ServerConfigSchema)(deepMerge(embeddedDefaults, patch))
}

/** A recursively optional version of `T` (arrays are replaced, not merged). */
export type DeepPartial<T> =
  T extends ReadonlyArray<unknown> ? T : T extends object ? { -readonly [K in keyof T]?: DeepPartial<T[K]> } : T

const isPlainObject = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Merges `over` onto `base`: objects merge key by key, anything else (arrays included) in `over` replaces what
 * `base` has. Unlike Fleare, a `false` or `0` in the override wins too.
 */
export const deepMerge = (base: unknown, over: unknown): unknown => {
  // YAML reads `key:` with nothing after it as null: leave the default alone, as Fleare does.
  if (over === undefined || over === null) return base
  if (!isPlainObject(base) || !isPlainObject(over)) return over
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(base[k], v)
  return out
}

/**
 * The server's configuration: Fleare's YAML shape (`server`, `logging`, `memory`, `security`, `persistence`,
 * `shard`, `backup`, `misc`) plus fleare-ts's own keys, decoded with `Schema` so a wrong type is reported with
 * the key's path. `ServerConfig` is the service every other layer reads it from.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Schema from "effect/Schema"
import { ConfigError, formatIssues } from "./ConfigError.js"
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

/** `logging.level`'s names (any case), as `--loglevel` takes them. */
export const LOG_LEVEL_NAMES = ["debug", "info", "warn", "error"] as const

const LogLevelName = Schema.String.pipe(
  Schema.filter(
    (s) =>
      (LOG_LEVEL_NAMES as ReadonlyArray<string>).includes(s.toLowerCase()) ||
      `unknown level "${s}" (expected debug, info, warn or error)`,
    { description: "one of: debug, info, warn, error (any case)" }
  )
)

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
    max_frame_bytes: PositiveInt,
    /** Arguments one command may carry (issue 10: a frame of millions of tiny arguments is refused). */
    max_args_per_command: PositiveInt
  }),
  logging: Schema.Struct({
    level: LogLevelName,
    file: Schema.String,
    /** `text`: Effect's logfmt-style lines; `json`: one JSON object per line. */
    format: Schema.Literal("text", "json")
  }),
  memory: Schema.Struct({ max_size_mb: NonNegativeInt, eviction_policy: EvictionPolicy }),
  security: Schema.Struct({
    enable_auth: Schema.Boolean,
    auth_method: Schema.String,
    users: Schema.Array(UserEntry),
    session_idle_timeout_seconds: Schema.Number.pipe(Schema.nonNegative()),
    /** Issue 10 connection limits: AUTH deadline, frame limit before AUTH, failed-AUTH rate limit. */
    auth_timeout_seconds: Schema.Number.pipe(Schema.nonNegative()),
    max_unauthenticated_frame_bytes: PositiveInt,
    auth_max_failures: PositiveInt,
    auth_lockout_seconds: Schema.Number.pipe(Schema.nonNegative())
  }),
  persistence: Schema.Struct({
    enable: Schema.Boolean,
    path: Schema.String,
    after_write_count: NonNegativeInt,
    fsync: FsyncPolicy,
    rewrite_min_bytes: NonNegativeInt,
    rewrite_percentage: NonNegativeInt,
    /** How long a graceful shutdown waits for in-flight requests before closing their connections. */
    shutdown_timeout_seconds: Schema.Number.pipe(Schema.nonNegative()),
    /** While the log cannot be written (a full disk): the first retry's delay, doubled per retry... */
    retry_min_ms: PositiveInt,
    /** ...up to this. */
    retry_max_ms: PositiveInt
  }),
  shard: Schema.Struct({ mode: Schema.String, shard_count: PositiveInt }),
  backup: Schema.Struct({
    enable: Schema.Boolean,
    interval_minutes: PositiveInt,
    backup_dir: Schema.String,
    keep: PositiveInt
  }),
  misc: Schema.Struct({
    max_connections: NonNegativeInt,
    timeout_seconds: NonNegativeInt,
    insertmode: Schema.Boolean,
    /** Issue 10: unread replies past this close the connection (Redis's client-output-buffer-limit). */
    max_output_buffer_bytes: PositiveInt
  }),
  /** Pub/sub (new): how far a subscriber may fall behind before it is disconnected as slow. */
  pubsub: Schema.Struct({
    /** Pushes a subscriber may have waiting to be written to its socket. */
    subscriber_queue: PositiveInt,
    /** Unsent bytes (queued pushes plus the socket's output buffer) a subscriber may have. */
    subscriber_max_output_bytes: PositiveInt
  }),
  /** The metrics/health/status HTTP server (issue 14): off while `port` is 0. */
  metrics: Schema.Struct({
    host: Schema.String.pipe(Schema.minLength(1)),
    port: NonNegativeInt.pipe(Schema.lessThanOrEqualTo(65535)),
    sample_seconds: Schema.Number.pipe(Schema.positive())
  }),
  /** OpenTelemetry tracing, a span per command exported over OTLP/HTTP (issue 14): off unless `enable`. */
  tracing: Schema.Struct({
    enable: Schema.Boolean,
    otlp_url: Schema.String.pipe(Schema.minLength(1)),
    service_name: Schema.String.pipe(Schema.minLength(1)),
    export_interval_seconds: Schema.Number.pipe(Schema.positive())
  }),
  /** fleare-ts's caps on one command's work (README "Data limits"). */
  limits: Schema.Struct({
    /** Most refPaths one JSON.GET may resolve. */
    max_ref_paths: PositiveInt,
    /** Most dot-separated segments in a path a JSON write takes (JSON.ADD, JSON.REMOVE, JSON.SETREF, refPaths). */
    max_path_segments: PositiveInt,
    /** Longest LIST.FIND / LIST.UPDATE expression, in UTF-8 bytes. */
    max_expression_bytes: PositiveInt
  }),
  store: StoreSection
})

/** The configuration's type. */
export type ServerConfigShape = typeof ServerConfigSchema.Type

/** The configuration as a service. */
export class ServerConfig extends Context.Tag("fleare/ServerConfig")<ServerConfig, ServerConfigShape>() {
  /** A layer holding the given configuration. */
  static layer = (config: ServerConfigShape): Layer.Layer<ServerConfig> => Layer.succeed(ServerConfig, config)

  /**
   * The embedded defaults with some keys changed, checked as the server checks its configuration at startup:
   * a wrong type or value fails with a `ConfigError` whose one-line message names the key, what was expected
   * and what was given (`invalid configuration: server.port: Expected number, actual "abc"`).
   */
  static make = (patch: DeepPartial<ServerConfigShape> = {}): Effect.Effect<ServerConfigShape, ConfigError> =>
    Effect.suspend(() => decodeConfig(deepMerge(embeddedDefaults, patch)))

  /** `make` for code that cannot wait for an Effect (tests, module constants): throws the `ConfigError`. */
  static unsafeMake = (patch: DeepPartial<ServerConfigShape> = {}): ServerConfigShape =>
    Either.getOrThrowWith(decodeConfig(deepMerge(embeddedDefaults, patch)), (e) => e)

  /** A layer holding the embedded defaults with `patch` applied (`make`), failing with its `ConfigError`. */
  static layerMake = (patch: DeepPartial<ServerConfigShape> = {}): Layer.Layer<ServerConfig, ConfigError> =>
    Layer.effect(ServerConfig, ServerConfig.make(patch))
}

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

/**
 * Decodes a merged raw document into the configuration, with the cross-key checks: the one place that words a
 * configuration error, for the server's startup (`loadConfig`) and for embedders (`ServerConfig.make`).
 */
export const decodeConfig = (raw: unknown): Either.Either<ServerConfigShape, ConfigError> =>
  Schema.decodeUnknownEither(ServerConfigSchema, { errors: "all" })(raw).pipe(
    Either.mapLeft((e) => new ConfigError({ message: `invalid configuration: ${formatIssues(e)}` })),
    Either.flatMap(crossCheck)
  )

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

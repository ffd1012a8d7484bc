/**
 * The server's entry point: flags and configuration, then the server layer, run until SIGINT/SIGTERM.
 *
 *   fleare-server [--config-path FILE] [--config YAML] [--host H] [--port N] [--loglevel LEVEL]
 *                 [--metrics-port N] [--repair] [--restore FILE] [--print-config]
 *   fleare-server version | --version | --help
 *
 * `--config` falls back to the `config` environment variable, as in Fleare. The first SIGINT/SIGTERM shuts down
 * gracefully (stop accepting, answer in-flight requests, flush and close the log, exit 0); a second one exits at
 * once. Flags are parsed with node:util (not @effect/cli) to keep the server's resident memory small.
 */
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { ServeError } from "@effect/platform/HttpServerError"
import { parseArgs } from "node:util"
import { connectHint } from "./cli/connectHint.js"
import { configHelp, printConfig } from "./config/help.js"
import { loadConfig } from "./config/load.js"
import { LOG_LEVEL_NAMES, ServerConfig, type ServerConfigShape } from "./config/ServerConfig.js"
import { loggerLayer } from "./ops/Logging.js"
import { MetricsServer } from "./ops/HttpServer.js"
import { Ops } from "./ops/Ops.js"
import { tracingLayer } from "./ops/Tracing.js"
import { PersistenceOptions } from "./persistence/Persistence.js"
import { FleareServer } from "./server/Server.js"
import { layerFromConfig } from "./store/redis/RedisBackend.js"
import { exitOnSecondSignal } from "./server/Signals.js"
import { VERSION } from "./version.js"

/** A command-line flag: how `parseArgs` reads it and how `--help` shows it (one table for both). */
interface Flag {
  readonly name: string
  readonly type: "string" | "boolean"
  readonly short?: string
  /** The argument's placeholder in `--help` (string flags). */
  readonly arg?: string
  readonly help: string
}

/** Every flag the server takes. */
export const FLAGS: ReadonlyArray<Flag> = [
  {
    name: "config-path",
    type: "string",
    arg: "FILE",
    help: "Fleare YAML configuration file (default: the embedded defaults)"
  },
  {
    name: "config",
    type: "string",
    arg: "YAML",
    help: "YAML merged over the file (default: the `config` environment variable)"
  },
  { name: "host", type: "string", arg: "HOST", help: "address to listen on (server.host; default 127.0.0.1)" },
  { name: "port", type: "string", arg: "N", help: "port to listen on (server.port; default 9219; 0: any free port)" },
  { name: "loglevel", type: "string", arg: "LEVEL", help: "debug | info | warn | error (logging.level)" },
  {
    name: "metrics-port",
    type: "string",
    arg: "N",
    help: "serve /metrics, /health, /ready and the status page on this port (metrics.port; 0: off)"
  },
  {
    name: "repair",
    type: "boolean",
    help: "truncate a corrupt write-ahead log at its first bad record (a copy is kept) and start"
  },
  {
    name: "restore",
    type: "string",
    arg: "FILE",
    help: "start from this backup, snapshot or log file (the current log is kept as a copy)"
  },
  {
    name: "store",
    type: "string",
    arg: "BACKEND",
    help: "memory | redis-cluster (store.backend; default memory)"
  },
  {
    name: "redis-nodes",
    type: "string",
    arg: "LIST",
    help: "seed nodes of the Redis Cluster, host:port,host:port (store.redis.nodes)"
  },
  {
    name: "print-config",
    type: "boolean",
    help: "print the effective configuration (file, environment, flags) as YAML, passwords masked, and exit"
  },
  { name: "version", type: "boolean", short: "v", help: "print the version" },
  { name: "help", type: "boolean", short: "h", help: "print this help" }
]

const flagColumn = (f: Flag): string =>
  `${f.short === undefined ? "    " : `-${f.short}, `}--${f.name}${f.arg === undefined ? "" : ` ${f.arg}`}`

/** `--help`: the flags, then every configuration key with its type and default (from the configuration Schema). */
export const usage = (): string => {
  const width = Math.max(...FLAGS.map((f) => flagColumn(f).length))
  return `fleare-server ${VERSION}: an in-memory data server speaking the Fleare protocol

Usage: fleare-server [options]          serve
       fleare-server version            print the version

Options:
${FLAGS.map((f) => `  ${flagColumn(f).padEnd(width)}  ${f.help}`).join("\n")}

Configuration keys (YAML, from --config-path, then --config or the \`config\` environment variable, then flags):
${configHelp()}`
}

const portFlag = (flag: string, value: string | undefined): number | undefined => {
  const port = value === undefined ? undefined : Number(value)
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new Error(`--${flag}: expected an integer from 0 to 65535, got "${value}"`)
  return port
}

/** The command line, or a usage error. */
const parseFlags = (argv: ReadonlyArray<string>) => {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: Object.fromEntries(
      FLAGS.map((f) => [f.name, f.short === undefined ? { type: f.type } : { type: f.type, short: f.short }])
    )
  })
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== "version"))
    throw new Error(`unexpected argument ${positionals.find((p) => p !== "version")}`)
  const str = (name: string): string | undefined => {
    const v = values[name]
    return typeof v === "string" ? v : undefined
  }
  const bool = (name: string): boolean => values[name] === true
  const loglevel = str("loglevel")
  if (loglevel !== undefined && !(LOG_LEVEL_NAMES as ReadonlyArray<string>).includes(loglevel.toLowerCase()))
    throw new Error(`--loglevel: expected debug, info, warn or error, got "${loglevel}"`)
  const store = str("store")
  if (store !== undefined && store !== "memory" && store !== "redis-cluster")
    throw new Error(`--store: expected memory or redis-cluster, got "${store}"`)
  return {
    "config-path": str("config-path"),
    config: str("config"),
    host: str("host"),
    port: portFlag("port", str("port")),
    metricsPort: portFlag("metrics-port", str("metrics-port")),
    loglevel,
    repair: bool("repair"),
    restore: str("restore"),
    store,
    redisNodes: str("redis-nodes")
      ?.split(",")
      .map((n) => n.trim()),
    printConfig: bool("print-config"),
    help: bool("help"),
    version: bool("version"),
    versionCommand: positionals[0] === "version"
  }
}

/** The metrics server when `metrics.port` is set (0: off). */
const metricsLayer = (config: ServerConfigShape): Layer.Layer<never, ServeError, Ops> =>
  config.metrics.port === 0
    ? Layer.empty
    : Layer.discard(
        MetricsServer.layer({
          host: config.metrics.host,
          port: config.metrics.port,
          sampleSeconds: config.metrics.sample_seconds
        })
      )

const serve = (flags: ReturnType<typeof parseFlags>) =>
  Effect.gen(function* () {
    const { config, warnings } = yield* loadConfig({
      configPath: flags["config-path"],
      configYaml: flags.config ?? process.env["config"],
      configYamlSource: flags.config !== undefined ? "--config" : "the config environment variable",
      host: flags.host,
      port: flags.port,
      metricsPort: flags.metricsPort,
      logLevel: flags.loglevel,
      store: flags.store,
      redisNodes: flags.redisNodes
    })
    if (flags.printConfig) {
      for (const w of warnings) process.stderr.write(`fleare-server: ${w}\n`)
      return yield* Console.log(printConfig(config).trimEnd())
    }
    return yield* Effect.gen(function* () {
      for (const w of warnings) yield* Effect.logWarning(w)
      // The metrics server comes up before the log replays (it answers 503 meanwhile) and goes down last.
      return yield* Layer.launch(
        layerFromConfig.pipe(
          Layer.provide(ServerConfig.layer(config)),
          Layer.provide(PersistenceOptions.layer({ repair: flags.repair, restore: flags.restore })),
          Layer.tap((ctx) => Effect.logInfo(connectHint(config, Context.get(ctx, FleareServer).address))),
          Layer.provide(Layer.provideMerge(metricsLayer(config), Ops.layer)),
          Layer.provide(tracingLayer(config))
        )
      ).pipe(Effect.onExit(() => Effect.logInfo("shutdown complete")))
    }).pipe(Effect.provide(loggerLayer(config.logging.format, config.logging.level)))
  }).pipe(
    Effect.provide(NodeFileSystem.layer),
    Effect.catchTags({
      ConfigError: (e) =>
        Console.error(`fleare-ts: configuration error: ${e.message}`).pipe(Effect.zipRight(Effect.fail(e))),
      ServeError: (e) =>
        Console.error(`fleare-server: metrics server: cannot listen: ${String(e.cause)}`).pipe(
          Effect.zipRight(Effect.fail(e))
        ),
      TransportError: (e) => Console.error(`fleare-ts: ${e.message}`).pipe(Effect.zipRight(Effect.fail(e))),
      WalCorrupt: (e) =>
        Console.error(
          `fleare-ts: ${e.message}; start with --repair to truncate the log there (a copy of the file is kept)`
        ).pipe(Effect.zipRight(Effect.fail(e))),
      PersistenceError: (e) =>
        Console.error(`fleare-ts: persistence: ${e.message}`).pipe(Effect.zipRight(Effect.fail(e))),
      StoreError: (e) => Console.error(`fleare-ts: Redis Cluster: ${e.message}`).pipe(Effect.zipRight(Effect.fail(e)))
    })
  )

const main = (): void => {
  let flags: ReturnType<typeof parseFlags>
  try {
    flags = parseFlags(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(
      `fleare-server: ${e instanceof Error ? e.message : String(e)}\n\nRun fleare-server --help for the options.\n`
    )
    process.exitCode = 2
    return
  }
  if (flags.help) return void process.stdout.write(`${usage()}\n`)
  if (flags.version || flags.versionCommand) return void process.stdout.write(`fleare-ts\nVersion: v${VERSION}\n`)
  // runMain handles the first signal (graceful shutdown); a second one exits at once.
  exitOnSecondSignal(process, (code) => process.exit(code))
  NodeRuntime.runMain(serve(flags), { disableErrorReporting: true })
}

main()

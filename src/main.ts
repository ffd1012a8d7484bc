/**
 * The server's entry point: flags and configuration, then the server layer, run until SIGINT/SIGTERM.
 *
 *   fleare-ts [--config-path FILE] [--config YAML] [--host H] [--port N] [--loglevel LEVEL]
 *             [--repair] [--restore FILE]
 *   fleare-ts version | --version | --help
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
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import { parseArgs } from "node:util"
import { connectHint } from "./cli/connectHint.js"
import { loadConfig } from "./config/load.js"
import { ServerConfig } from "./config/ServerConfig.js"
import { PersistenceOptions } from "./persistence/Persistence.js"
import { FleareServer } from "./server/Server.js"
import { layerFromConfig } from "./store/redis/RedisBackend.js"
import { exitOnSecondSignal } from "./server/Signals.js"
import { VERSION } from "./version.js"

const USAGE = `fleare-ts ${VERSION}: an in-memory data server speaking the Fleare protocol

Usage: fleare-ts [options]          serve
       fleare-ts version            print the version

Options:
  --config-path FILE   Fleare YAML configuration file (default: the embedded defaults)
  --config YAML        YAML merged over the file (default: the \`config\` environment variable)
  --host HOST          address to listen on (default 127.0.0.1)
  --port N             port to listen on (default 9219; 0: any free port)
  --loglevel LEVEL     debug | info | warn | error (overrides logging.level)
  --repair             truncate a corrupt write-ahead log at its first bad record (a copy is kept) and start
  --restore FILE       start from this backup, snapshot or log file (the current log is kept as a copy)
  --store BACKEND      memory | redis-cluster (overrides store.backend)
  --redis-nodes LIST   seed nodes of the Redis Cluster, host:port,host:port (overrides store.redis.nodes)
  -v, --version        print the version
  -h, --help           print this help`

const levels: Record<string, LogLevel.LogLevel> = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  error: LogLevel.Error
}

/** The command line, or a usage error. */
const parseFlags = (argv: ReadonlyArray<string>) => {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      "config-path": { type: "string" },
      config: { type: "string" },
      host: { type: "string" },
      port: { type: "string" },
      loglevel: { type: "string" },
      repair: { type: "boolean" },
      restore: { type: "string" },
      store: { type: "string" },
      "redis-nodes": { type: "string" },
      version: { type: "boolean", short: "v" },
      help: { type: "boolean", short: "h" }
    }
  })
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== "version"))
    throw new Error(`unexpected argument ${positionals.find((p) => p !== "version")}`)
  const port = values.port === undefined ? undefined : Number(values.port)
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535))
    throw new Error(`--port: expected an integer from 0 to 65535, got "${values.port}"`)
  if (values.loglevel !== undefined && !(values.loglevel in levels))
    throw new Error(`--loglevel: expected debug, info, warn or error, got "${values.loglevel}"`)
  if (values.store !== undefined && values.store !== "memory" && values.store !== "redis-cluster")
    throw new Error(`--store: expected memory or redis-cluster, got "${values.store}"`)
  const redisNodes = values["redis-nodes"]?.split(",").map((n) => n.trim())
  return { ...values, port, redisNodes, versionCommand: positionals[0] === "version" }
}

const serve = (flags: ReturnType<typeof parseFlags>) =>
  Effect.gen(function* () {
    const { config, warnings } = yield* loadConfig({
      configPath: flags["config-path"],
      configYaml: flags.config ?? process.env["config"],
      configYamlSource: flags.config !== undefined ? "--config" : "the config environment variable",
      host: flags.host,
      port: flags.port,
      store: flags.store,
      redisNodes: flags.redisNodes
    })
    const level = levels[flags.loglevel ?? config.logging.level] ?? LogLevel.Info
    return yield* Effect.gen(function* () {
      for (const w of warnings) yield* Effect.logWarning(w)
      return yield* Layer.launch(
        layerFromConfig.pipe(
          Layer.provide(ServerConfig.layer(config)),
          Layer.provide(PersistenceOptions.layer({ repair: flags.repair ?? false, restore: flags.restore })),
          Layer.tap((ctx) => Effect.logInfo(connectHint(config, Context.get(ctx, FleareServer).address)))
        )
      )
    }).pipe(Logger.withMinimumLogLevel(level))
  }).pipe(
    Effect.provide(NodeFileSystem.layer),
    Effect.catchTags({
      ConfigError: (e) =>
        Console.error(`fleare-ts: configuration error: ${e.message}`).pipe(Effect.zipRight(Effect.fail(e))),
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
    process.stderr.write(`fleare-ts: ${e instanceof Error ? e.message : String(e)}\n\n${USAGE}\n`)
    process.exitCode = 2
    return
  }
  if (flags.help) return void process.stdout.write(`${USAGE}\n`)
  if (flags.version || flags.versionCommand) return void process.stdout.write(`fleare-ts\nVersion: v${VERSION}\n`)
  // runMain handles the first signal (graceful shutdown); a second one exits at once.
  exitOnSecondSignal(process, (code) => process.exit(code))
  NodeRuntime.runMain(serve(flags), { disableErrorReporting: true })
}

main()

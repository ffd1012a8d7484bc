/**
 * The server's entry point: flags and configuration, then the server layer, run until SIGINT/SIGTERM.
 *
 *   fleare-ts [--config-path FILE] [--config YAML] [--host H] [--port N] [--loglevel LEVEL]
 *
 * `--config` falls back to the `config` environment variable, as in Fleare.
 */
import { Command, Options } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Logger, LogLevel, Option } from "effect"
import { loadConfig } from "./config/load.js"
import { ServerConfig } from "./config/ServerConfig.js"
import { FleareServer } from "./server/Server.js"
import { VERSION } from "./version.js"

const configPath = Options.file("config-path").pipe(
  Options.withDescription("Fleare YAML configuration file (default: the embedded defaults)"),
  Options.optional
)
const configYaml = Options.text("config").pipe(
  Options.withDescription("YAML merged over the file (default: the `config` environment variable)"),
  Options.optional
)
const host = Options.text("host").pipe(Options.withDescription("address to listen on"), Options.optional)
const port = Options.integer("port").pipe(
  Options.withDescription("port to listen on (0: any free port)"),
  Options.optional
)
const logLevel = Options.choice("loglevel", ["debug", "info", "warn", "error"]).pipe(
  Options.withDescription("log level (overrides logging.level)"),
  Options.optional
)

const levels: Record<string, LogLevel.LogLevel> = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  error: LogLevel.Error
}

const serve = Command.make("fleare-ts", { configPath, configYaml, host, port, logLevel }, (flags) =>
  Effect.gen(function* () {
    const { config, warnings } = yield* loadConfig({
      configPath: Option.getOrUndefined(flags.configPath),
      configYaml: Option.getOrElse(flags.configYaml, () => process.env["config"]),
      host: Option.getOrUndefined(flags.host),
      port: Option.getOrUndefined(flags.port)
    })
    const level = levels[Option.getOrElse(flags.logLevel, () => config.logging.level)] ?? LogLevel.Info
    return yield* Effect.gen(function* () {
      for (const w of warnings) yield* Effect.logWarning(w)
      return yield* Layer.launch(FleareServer.layerNode.pipe(Layer.provide(ServerConfig.layer(config))))
    }).pipe(Logger.withMinimumLogLevel(level))
  }).pipe(
    Effect.catchTags({
      ConfigError: (e) =>
        Console.error(`fleare-ts: configuration error: ${e.message}`).pipe(Effect.zipRight(Effect.fail(e))),
      TransportError: (e) => Console.error(`fleare-ts: ${e.message}`).pipe(Effect.zipRight(Effect.fail(e)))
    })
  )
)

const version = Command.make("version", {}, () => Console.log(`fleare-ts\nVersion: v${VERSION}`))

const cli = Command.run(serve.pipe(Command.withSubcommands([version])), { name: "fleare-ts", version: `v${VERSION}` })

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain({ disableErrorReporting: true }))

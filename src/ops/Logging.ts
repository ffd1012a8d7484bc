/**
 * The server's logger from `logging.format` and `logging.level`: `text` keeps Effect's default logfmt-style lines,
 * `json` writes one JSON object per line (message, logLevel, timestamp, annotations such as `remote` and
 * `clientId`, and the cause of a failure). Passwords never reach a log line: nothing logs a request's
 * arguments, and AUTH failures carry the user name only.
 */
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"

/** `logging.level`'s names (any case) as Effect levels. */
const levels: Readonly<Record<string, LogLevel.LogLevel>> = {
  debug: LogLevel.Debug,
  info: LogLevel.Info,
  warn: LogLevel.Warning,
  error: LogLevel.Error
}

/** The Effect level of a `logging.level` name; the configuration Schema has already refused any other. */
export const logLevelOf = (name: string): LogLevel.LogLevel => levels[name.toLowerCase()] ?? LogLevel.Info

/** The logger and minimum level the server runs with. */
export const loggerLayer = (format: "text" | "json", level: string): Layer.Layer<never> =>
  Layer.merge(format === "json" ? Logger.json : Layer.empty, Logger.minimumLogLevel(logLevelOf(level)))

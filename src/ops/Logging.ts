/**
 * The server's logger from `logging.format` and `logging.level`: one line per entry either way. `text` is logfmt
 * (`timestamp=… level=INFO fiber=#12 message="connection opened" remote=127.0.0.1:50312 clientId=3-127.0.0.1:50312`),
 * `json` one JSON object per line (message, logLevel, timestamp, annotations, spans, fiberId, and the cause of a
 * failure). Either replaces Effect's default logger and the pretty one `NodeRuntime.runMain` installs (which
 * puts annotations on lines of their own). Passwords never reach a log line: nothing logs a request's arguments,
 * and AUTH failures carry the user name only.
 */
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
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

/** The line logger of a format, writing to the console. */
export const formatLogger = (format: "text" | "json"): Logger.Logger<unknown, void> =>
  Logger.withConsoleLog(format === "json" ? Logger.jsonLogger : Logger.logfmtLogger)

/** The logger and minimum level the server runs with. */
export const loggerLayer = (format: "text" | "json", level: string): Layer.Layer<never> =>
  Layer.merge(
    Layer.scopedDiscard(
      Effect.locallyScopedWith(FiberRef.currentLoggers, (loggers) =>
        loggers.pipe(
          HashSet.remove(Logger.defaultLogger),
          HashSet.remove(Logger.prettyLoggerDefault),
          HashSet.add(formatLogger(format))
        )
      )
    ),
    Logger.minimumLogLevel(logLevelOf(level))
  )

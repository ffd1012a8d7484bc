/**
 * Optional OpenTelemetry tracing (`tracing.enable`, off by default): a span per command, exported over OTLP/HTTP
 * (JSON) by `@effect/opentelemetry`'s `OtlpTracer`, which sets the Effect `Tracer` of the whole server. The request
 * path stays synchronous: with tracing on, a command's span is started and ended through the `Tracer`'s own
 * synchronous API around the handler (two clock reads and a span object per command); with it off, the connection
 * tests one `undefined` per command and does nothing else.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Tracer from "effect/Tracer"
import type { ServerConfigShape } from "../config/ServerConfig.js"
import { errorText } from "../protocol/Reply.js"
import type { CommandError } from "../errors.js"

/**
 * The OTLP exporter as the server's tracer when `tracing.enable`, else nothing. `@effect/opentelemetry` is an
 * optional peer dependency (it asks for a newer Effect than the package's lowest supported one), so it is loaded
 * only when tracing is on.
 */
export const tracingLayer = (config: ServerConfigShape): Layer.Layer<never> =>
  config.tracing.enable
    ? Layer.unwrapEffect(
        Effect.map(
          Effect.promise(() => import("./Otlp.js")),
          (otlp) => otlp.otlpLayer(config)
        )
      )
    : Layer.empty

/** Starts the span of one command (a root span: Fleare requests carry no trace context). */
export const startCommandSpan = (
  tracer: Tracer.Tracer,
  command: string,
  clientId: string,
  startNanos: bigint
): Tracer.Span => {
  const span = tracer.span(command, Option.none(), Context.empty(), [], startNanos, "server")
  span.attribute("db.system", "fleare")
  span.attribute("db.operation", command)
  span.attribute("fleare.client_id", clientId)
  return span
}

const okExit = Exit.void

/** Ends a command's span: ok, or failed with the error reply's text (`internal` for a defect). */
export const endCommandSpan = (span: Tracer.Span, endNanos: bigint, error?: CommandError | "defect"): void => {
  if (error === undefined) return span.end(endNanos, okExit)
  const text = error === "defect" ? "internal server error" : errorText(error)
  span.attribute("fleare.error", text)
  span.end(endNanos, Exit.fail(text))
}

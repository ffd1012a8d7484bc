/**
 * The OTLP/HTTP (JSON) span exporter of `@effect/opentelemetry`, as the server's tracer. Loaded by `Tracing.ts`
 * only when `tracing.enable` is set, so the package runs without `@effect/opentelemetry` installed.
 */
import * as OtlpSerialization from "@effect/opentelemetry/OtlpSerialization"
import * as OtlpTracer from "@effect/opentelemetry/OtlpTracer"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Duration from "effect/Duration"
import * as Layer from "effect/Layer"
import type { ServerConfigShape } from "../config/ServerConfig.js"
import { VERSION } from "../version.js"

/** `OtlpTracer.layer` configured from `tracing.*`. */
export const otlpLayer = (config: ServerConfigShape): Layer.Layer<never> =>
  OtlpTracer.layer({
    url: config.tracing.otlp_url,
    resource: { serviceName: config.tracing.service_name, serviceVersion: VERSION },
    exportInterval: Duration.seconds(config.tracing.export_interval_seconds)
  }).pipe(Layer.provide(FetchHttpClient.layer), Layer.provide(OtlpSerialization.layerJson))

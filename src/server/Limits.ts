/**
 * The per-connection limits of issue 10 (README "Limits and security"): the figures read once from the
 * configuration, the work budget of one synchronous pass over a read's frames, and the turn the fiber gives the
 * event loop between batches.
 */
import * as Effect from "effect/Effect"
import type { ServerConfigShape } from "../config/ServerConfig.js"
import { encodeResponse } from "../protocol/Message.js"

/** The per-connection limits, read once from the configuration (see README "Limits and security"). */
export interface ConnectionLimits {
  /** `server.max_args_per_command`. */
  readonly maxArgs: number
  /** `misc.max_output_buffer_bytes`: unread output past this drops the connection. */
  readonly maxOutputBytes: number
  /** Unread output above which a read's remaining frames wait for the socket to drain. */
  readonly softOutputBytes: number
  /** `server.max_frame_bytes`, and `security.max_unauthenticated_frame_bytes` before AUTH. */
  readonly maxFrameBytes: number
  readonly unauthenticatedFrameBytes: number
  /** `misc.max_connections` (0: no limit). */
  readonly maxConnections: number
}

/** The limits of `config`. */
export const connectionLimits = (config: ServerConfigShape): ConnectionLimits => ({
  maxArgs: config.server.max_args_per_command,
  maxOutputBytes: config.misc.max_output_buffer_bytes,
  softOutputBytes: Math.min(SOFT_OUTPUT_BYTES, config.misc.max_output_buffer_bytes),
  maxFrameBytes: config.server.max_frame_bytes,
  unauthenticatedFrameBytes: Math.min(config.security.max_unauthenticated_frame_bytes, config.server.max_frame_bytes),
  maxConnections: config.misc.max_connections
})

/**
 * The work budget of one synchronous pass: it hands the rest of a read to the fiber once it has encoded
 * `BATCH_OUTPUT_BYTES` of replies, or (checked every `CHECK_EVERY` frames, so a pass of a few frames never reads
 * the time) once it has run for `BATCH_MILLIS`. The fiber then lets the event loop serve other connections.
 */
export const BATCH_OUTPUT_BYTES = 256 * 1024
export const BATCH_MILLIS = 5
export const CHECK_EVERY = 32
/** The soft output limit: the transport's high-water mark (1 MiB), past which reading the socket pauses too. */
const SOFT_OUTPUT_BYTES = 1024 * 1024

/**
 * Gives the event loop a turn (I/O callbacks of other sockets run first). `Effect.yieldNow` is not enough: the
 * Effect scheduler resumes a yielded fiber from a microtask, before any I/O is polled.
 */
export const yieldToEventLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  setImmediate(() => resume(Effect.void))
})

/** The one reply a connection over `misc.max_connections` gets before it is closed. */
export const MAX_CONNECTIONS_REPLY = encodeResponse({
  clientId: "",
  topic: "",
  status: "Error",
  result: "max connections reached"
})

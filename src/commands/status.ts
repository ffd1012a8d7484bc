/**
 * STATUS: the server's and shards' state, in Fleare's shape with true values.
 */
import * as Effect from "effect/Effect"
import type { Json } from "../protocol/gojson/Json.js"
import { marshal } from "../protocol/gojson/Marshal.js"
import type { ListenAddress } from "../server/Transport.js"
import { formatRfc3339Nano } from "../session/Timestamp.js"
import { type CommandContext, type CommandSpec, effectCommand } from "./Command.js"

const NANOS_PER_SECOND = 1_000_000_000n

/** `host:port` as Go's `net.JoinHostPort` writes it (an IPv6 host in brackets). */
const hostPort = (a: ListenAddress): string => (a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)

/**
 * The STATUS document. Fleare marshals a struct whose fields (`server_status`, `shard_info`, `up_time`) happen
 * to be in sorted order, and `shard_info` is a map (sorted keys, `shard_count` after the ids); `marshal` sorts
 * every object, so the added fields (`connections`, `pubsub`, `sessions`, `uptime_seconds`, `version`) fall in
 * sorted place among Fleare's without moving them relative to each other. `pubsub` holds the broker's counters:
 * subscribers and topics now, messages published and delivered and slow subscribers disconnected since start.
 * While the log cannot be written, a `persistence` field says why and since when (writes are refused
 * meanwhile); it is absent otherwise.
 */
export const statusJson = (ctx: CommandContext, sessions: number): string => {
  const { services, now } = ctx
  const host = hostPort(services.address())
  const shardInfo: { [key: string]: Json } = {}
  const stats = services.keyspace.stats(now)
  for (const s of stats) {
    shardInfo[s.id] = {
      ID: s.id,
      host_address: host,
      key_length: s.keys,
      name: `Shard ${s.id}`,
      total_size: `${s.bytes} bytes`
    }
  }
  shardInfo["shard_count"] = stats.length
  const pubsub = services.broker.stats()
  const up = now > services.startedAt ? (now - services.startedAt) / NANOS_PER_SECOND : 0n
  const failure = services.durability.failure()
  return marshal({
    connections: services.connections.size,
    ...(failure === undefined
      ? {}
      : {
          persistence: {
            error: failure.reason,
            failing_since: formatRfc3339Nano(BigInt(failure.sinceMillis) * 1_000_000n),
            writes: "refused"
          }
        }),
    pubsub: {
      messages_delivered: pubsub.delivered,
      messages_published: pubsub.published,
      slow_subscribers_disconnected: pubsub.slowDisconnects,
      subscribers: pubsub.subscribers,
      topics: pubsub.topics
    },
    server_status: "running",
    sessions,
    shard_info: shardInfo,
    up_time: formatRfc3339Nano(services.startedAt),
    uptime_seconds: Number(up),
    version: services.version
  })
}

const status = effectCommand({
  name: "STATUS",
  syntax: "STATUS",
  summary: "Returns the server's state as JSON: shards with live key counts and sizes, start time, connections.",
  class: "connection",
  // Arguments are ignored, as in Fleare.
  run: (ctx) => Effect.map(ctx.services.sessions.list, (all) => statusJson(ctx, all.length))
})

/** The STATUS command. */
export const statusCommands: ReadonlyArray<CommandSpec> = [status]

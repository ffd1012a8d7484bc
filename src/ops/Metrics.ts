/**
 * The server's metrics as Effect `Metric` counters and gauges, brought up to date from the plain counters
 * (ops/Counters.ts), the command specs' stats and the services' own figures each time `/metrics` is scraped
 * (`collect`). Counters advance by what their source counted since the previous collection, so they stay
 * monotonic; gauges are set. The request path never touches an Effect metric except the sampled latency
 * histogram (ops/Histograms.ts).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import { allCommands } from "../commands/registry.js"
import { VERSION } from "../version.js"
import { counters, ERROR_PREFIXES } from "./Counters.js"
import { fsyncDuration, requestDuration } from "./Histograms.js"
import type { OpsState } from "./Ops.js"
import type { ProcessStats } from "./ProcessStats.js"

const counter = (name: string, description: string) => Metric.counter(name, { description, incremental: true })
const gauge = (name: string, description: string) => Metric.gauge(name, { description })

/** Every metric `collect` maintains, by role. Names follow Prometheus conventions (`_total`, base units). */
export const metrics = {
  info: gauge("fleare_info", "Always 1; the version is a label"),
  up: gauge("fleare_ready", "1 when the log is replayed and the listener is up, 0 while starting or stopping"),
  uptime: gauge("fleare_uptime_seconds", "Seconds since the server started listening"),
  connections: gauge("fleare_connections", "Open client connections"),
  connectionsAccepted: counter("fleare_connections_accepted_total", "Client connections accepted"),
  connectionsRejected: counter("fleare_connections_rejected_total", "Client connections refused by a limit"),
  sessions: gauge("fleare_sessions", "Live sessions"),
  sessionsCreated: counter("fleare_sessions_created_total", "Sessions created (AUTH, or accept without auth)"),
  sessionsExpired: counter("fleare_sessions_expired_total", "Sessions removed after idling too long"),
  sessionsKilled: counter("fleare_sessions_killed_total", "Sessions ended by SESSION.KILL"),
  authFailures: counter("fleare_auth_failures_total", "AUTH attempts refused"),
  commands: counter("fleare_commands_total", "Commands run, by command and outcome (ok, error, internal)"),
  errors: counter("fleare_errors_total", "Error replies, by the prefix of their text"),
  bytesIn: counter("fleare_net_input_bytes_total", "Bytes received from clients"),
  bytesOut: counter("fleare_net_output_bytes_total", "Bytes of replies sent to clients"),
  reads: counter("fleare_reads_total", "Socket reads handled (each a batch of pipelined requests)"),
  keys: gauge("fleare_keys", "Keys held per shard (expired keys not yet removed excluded)"),
  memory: gauge("fleare_memory_bytes", "Estimated bytes of the keys and values held, per shard"),
  memoryLimit: gauge("fleare_memory_limit_bytes", "memory.max_size_mb in bytes (0: no limit)"),
  keysExpired: counter("fleare_keys_expired_total", "Keys removed because they expired"),
  keysEvicted: counter("fleare_keys_evicted_total", "Keys evicted to stay under the memory limit"),
  pubsubSubscribers: gauge("fleare_pubsub_subscribers", "Connections subscribed to at least one topic"),
  pubsubPublished: counter("fleare_pubsub_messages_published_total", "Pub/sub messages published"),
  pubsubDelivered: counter("fleare_pubsub_messages_delivered_total", "Pub/sub messages delivered to subscribers"),
  pubsubSlow: counter(
    "fleare_pubsub_slow_disconnects_total",
    "Subscribers disconnected for not reading their messages fast enough"
  ),
  walAppends: counter("fleare_wal_appends_total", "Records appended to the write-ahead log"),
  walWrites: counter("fleare_wal_writes_total", "Batches written to the write-ahead log (group commits)"),
  walFsyncs: counter("fleare_wal_fsyncs_total", "fsyncs of the write-ahead log and compacted files"),
  walBytes: gauge("fleare_wal_bytes", "Size of the write-ahead log file"),
  walCompactions: counter("fleare_wal_compactions_total", "Compactions of the write-ahead log completed"),
  walLastCompaction: gauge(
    "fleare_wal_last_compaction_timestamp_seconds",
    "When the last compaction completed, in epoch seconds (0: none since startup)"
  ),
  walLastCompactionDuration: gauge(
    "fleare_wal_last_compaction_duration_seconds",
    "How long the last compaction took, in seconds"
  ),
  cpuUser: counter("process_cpu_user_seconds_total", "User CPU time spent by the process, in seconds"),
  cpuSystem: counter("process_cpu_system_seconds_total", "System CPU time spent by the process, in seconds"),
  rss: gauge("process_resident_memory_bytes", "Resident memory of the process"),
  startTime: gauge("process_start_time_seconds", "When the process started, in epoch seconds"),
  heapUsed: gauge("nodejs_heap_used_bytes", "V8 heap in use"),
  heapTotal: gauge("nodejs_heap_total_bytes", "V8 heap allocated"),
  external: gauge("nodejs_external_memory_bytes", "Memory of C++ objects bound to JavaScript objects (buffers)"),
  loopDelayP50: gauge("nodejs_eventloop_delay_p50_seconds", "Median event-loop delay since the previous scrape"),
  loopDelayP99: gauge(
    "nodejs_eventloop_delay_p99_seconds",
    "99th percentile event-loop delay since the previous scrape"
  ),
  loopDelayMax: gauge("nodejs_eventloop_delay_max_seconds", "Largest event-loop delay since the previous scrape")
}

/** What each counter (and tagged series) had reached at the previous collection, to advance by the difference. */
const previous = new Map<string, number>()

/**
 * Advances `metric` (a series of an incremental counter, identified by `id`) to `value`. A series appears at 0 the
 * first time; a source that went backwards (a new service instance in the same process) is taken as a restart.
 */
const advance = (metric: Metric.Metric.Counter<number>, id: string, value: number): Effect.Effect<void> => {
  const before = previous.get(id)
  previous.set(id, value)
  if (before === undefined) return Metric.incrementBy(metric, value)
  if (value > before) return Metric.incrementBy(metric, value - before)
  if (value < before) return Metric.incrementBy(metric, value)
  return Effect.void
}

const tagged = <Type, In, Out>(
  metric: Metric.Metric<Type, In, Out>,
  tags: Readonly<Record<string, string>>
): Metric.Metric<Type, In, Out> => Object.entries(tags).reduce((m, [k, v]) => Metric.tagged(m, k, v), metric)

const OUTCOMES = ["ok", "error", "internal"] as const

/** Brings every metric up to date from its source (see the module comment). */
export const collect = (ops: OpsState, processStats: ProcessStats | undefined): Effect.Effect<void> =>
  Effect.gen(function* () {
    const m = metrics
    const nowNanos = yield* Clock.currentTimeNanos
    yield* Metric.set(tagged(m.info, { version: VERSION }), 1)
    yield* Metric.set(m.up, ops.ready ? 1 : 0)
    // Reading a histogram registers it, so both families are listed (empty) before their first observation.
    yield* Metric.value(requestDuration)
    yield* Metric.value(fsyncDuration)
    yield* advance(m.connectionsAccepted, "connectionsAccepted", counters.connectionsAccepted)
    yield* advance(m.connectionsRejected, "connectionsRejected", counters.connectionsRejected)
    yield* advance(m.sessionsCreated, "sessionsCreated", counters.sessionsCreated)
    yield* advance(m.sessionsKilled, "sessionsKilled", counters.sessionsKilled)
    yield* advance(m.authFailures, "authFailures", counters.authFailures)
    yield* advance(m.bytesIn, "bytesIn", counters.bytesIn)
    yield* advance(m.bytesOut, "bytesOut", counters.bytesOut)
    yield* advance(m.reads, "reads", counters.reads)
    for (let i = 0; i < ERROR_PREFIXES.length; i++) {
      const prefix = ERROR_PREFIXES[i]!
      yield* advance(tagged(m.errors, { prefix }), `errors/${prefix}`, counters.errorsByPrefix[i]!)
    }
    const commandRows = [...allCommands.map((c) => [c.name, c.stats] as const), ["AUTH", counters.auth] as const]
    for (const [name, stats] of commandRows)
      for (const outcome of OUTCOMES) {
        const n = stats[outcome]
        // Only the series that have counted something: about 60 commands x 3 outcomes would be mostly zeros.
        if (n > 0 || previous.has(`commands/${name}/${outcome}`))
          yield* advance(tagged(m.commands, { command: name, outcome }), `commands/${name}/${outcome}`, n)
      }
    const server = ops.server
    if (server !== undefined) {
      const pubsub = server.broker.stats()
      yield* Metric.set(m.pubsubSubscribers, pubsub.subscribers)
      yield* advance(m.pubsubPublished, "pubsubPublished", pubsub.published)
      yield* advance(m.pubsubDelivered, "pubsubDelivered", pubsub.delivered)
      yield* advance(m.pubsubSlow, "pubsubSlow", pubsub.slowDisconnects)
      yield* Metric.set(m.uptime, Math.max(0, Number(nowNanos - server.startedAt) / 1e9))
      yield* Metric.set(m.connections, server.connections.size)
      const sessionStats = server.sessions.stats?.()
      if (sessionStats !== undefined) {
        yield* Metric.set(m.sessions, sessionStats.sessions)
        yield* advance(m.sessionsExpired, "sessionsExpired", sessionStats.expired)
      }
      for (const shard of server.keyspace.stats(nowNanos)) {
        yield* Metric.set(tagged(m.keys, { shard: String(shard.id) }), shard.keys)
        yield* Metric.set(tagged(m.memory, { shard: String(shard.id) }), shard.bytes)
      }
      const memory = server.keyspace.memory()
      yield* Metric.set(m.memoryLimit, memory.maxBytes)
      yield* advance(m.keysExpired, "keysExpired", memory.expiredKeys)
      yield* advance(m.keysEvicted, "keysEvicted", memory.evictedKeys)
    }
    const wal = ops.wal?.()
    if (wal !== undefined) {
      yield* advance(m.walAppends, "walAppends", wal.records)
      yield* advance(m.walWrites, "walWrites", wal.writes)
      yield* advance(m.walFsyncs, "walFsyncs", wal.fsyncs)
      yield* Metric.set(m.walBytes, wal.bytes)
      yield* advance(m.walCompactions, "walCompactions", wal.rewrites)
      yield* Metric.set(m.walLastCompaction, wal.lastRewriteAt === undefined ? 0 : Number(wal.lastRewriteAt) / 1e9)
      yield* Metric.set(m.walLastCompactionDuration, wal.lastRewriteSeconds)
    }
    if (processStats !== undefined) {
      const p = processStats.read(Number(nowNanos) / 1e9)
      yield* advance(m.cpuUser, "cpuUser", p.cpuUserSeconds)
      yield* advance(m.cpuSystem, "cpuSystem", p.cpuSystemSeconds)
      yield* Metric.set(m.rss, p.residentBytes)
      yield* Metric.set(m.startTime, p.startTimeSeconds)
      yield* Metric.set(m.heapUsed, p.heapUsedBytes)
      yield* Metric.set(m.heapTotal, p.heapTotalBytes)
      yield* Metric.set(m.external, p.externalBytes)
      yield* Metric.set(m.loopDelayP50, p.eventLoopDelay.p50)
      yield* Metric.set(m.loopDelayP99, p.eventLoopDelay.p99)
      yield* Metric.set(m.loopDelayMax, p.eventLoopDelay.max)
    }
  })

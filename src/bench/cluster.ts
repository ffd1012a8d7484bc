/**
 * The cluster row of `npm run bench`: SET and GET through two fleare-ts servers on the Redis Cluster backend
 * (half of the connections on each), against ioredis straight to the same cluster (the same number of concurrent
 * requests, auto-pipelined as our servers' client is), in the same run. It starts its own local cluster (ports
 * 17400-17405) and stops it; without `redis-server` the row says it was skipped.
 */
import { Cluster } from "ioredis"
import { redisInstalled, startLocalCluster } from "../tools/redisCluster.js"
import { defaultLoadOptions, type LoadResult } from "./load.js"
import { fmtInt, fmtMs, latencyOf } from "./report.js"
import { mergeResults, runLoad } from "./runLoad.js"
import { Histogram } from "./stats.js"
import { oursSpec, startTarget } from "./target.js"
import { keyOf, valueOf } from "./workload.js"

const BASE_PORT = 17400
const CONNECTIONS = 50
const KEYS = 100_000

/** How long each cell runs. */
export interface ClusterBenchOptions {
  readonly compiled: boolean
  readonly seconds: number
  readonly warmup: number
}

interface Figures {
  readonly opsPerSec: number
  readonly p50: number
  readonly p99: number
  readonly errors: number
}

const ofResult = (r: LoadResult): Figures => {
  const l = latencyOf(r)
  return { opsPerSec: r.opsPerSec, p50: l.p50, p99: l.p99, errors: r.errors.total }
}

/** `concurrency` loops of SET or GET with ioredis for `seconds` after `warmup`. */
const direct = async (
  client: Cluster,
  op: "set" | "get",
  concurrency: number,
  warmup: number,
  seconds: number
): Promise<Figures> => {
  const hist = new Histogram()
  const value = valueOf(3)
  let measured = 0
  let errors = 0
  const start = performance.now()
  const measureFrom = start + warmup * 1000
  const end = measureFrom + seconds * 1000
  let seed = 1
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff
        const key = keyOf("key:", seed % KEYS)
        const t0 = process.hrtime.bigint()
        try {
          if (op === "set") await client.set(key, value)
          else await client.get(key)
        } catch {
          errors++
        }
        if (performance.now() >= measureFrom) {
          hist.record(Number(process.hrtime.bigint() - t0))
          measured++
        }
      }
    })
  )
  return { opsPerSec: measured / seconds, p50: hist.percentile(50), p99: hist.percentile(99), errors }
}

/** Runs the row; `markdown` is its table (or why it was skipped). */
export const measureCluster = async (
  o: ClusterBenchOptions,
  log: (s: string) => void
): Promise<{ markdown: string; failures: number }> => {
  if (!redisInstalled()) return { markdown: "\nCluster row: skipped (redis-server is not installed).\n", failures: 0 }
  log("cluster: starting a local Redis Cluster (3 masters, 3 replicas) and two fleare-ts servers on it ...")
  const cluster = await startLocalCluster({ basePort: BASE_PORT })
  const nodes = cluster.nodes.map((n) => `"${n}"`).join(", ")
  const config = `{store: {backend: redis-cluster, redis: {nodes: [${nodes}], key_prefix: "bench:"}}}`
  const servers = await Promise.all([
    startTarget(oursSpec(o.compiled, config, "fleare-ts A")),
    startTarget(oursSpec(o.compiled, config, "fleare-ts B"))
  ])
  const client = new Cluster(
    cluster.nodes.map((n) => ({ host: "127.0.0.1", port: Number(n.split(":")[1]) })),
    {
      enableAutoPipelining: true
    }
  )
  try {
    const rows: Array<string> = []
    for (const test of ["set", "get"] as const) {
      const through = ofResult(
        mergeResults(
          await Promise.all(
            servers.map((t) =>
              runLoad({
                ...defaultLoadOptions,
                host: "127.0.0.1",
                port: t.port,
                test,
                pipeline: 1,
                connections: CONNECTIONS / servers.length,
                durationS: o.seconds,
                warmupS: o.warmup,
                maxTimeS: o.warmup + o.seconds + 60
              })
            )
          )
        )
      )
      const straight = await direct(client, test, CONNECTIONS, o.warmup, o.seconds)
      log(
        `cluster ${test.toUpperCase()}: two fleare-ts ${fmtInt(through.opsPerSec)} ops/s, ioredis ${fmtInt(straight.opsPerSec)} ops/s`
      )
      rows.push(
        `| ${test.toUpperCase()} | ${fmtInt(through.opsPerSec)} | ${fmtMs(through.p50)} | ${fmtMs(through.p99)} | ` +
          `${fmtInt(straight.opsPerSec)} | ${fmtMs(straight.p50)} | ${fmtMs(straight.p99)} | ` +
          `${(through.opsPerSec / straight.opsPerSec).toFixed(2)} | ${through.errors + straight.errors} |`
      )
    }
    const markdown = [
      "",
      `Cluster: a local Redis Cluster (3 masters, 3 replicas, wait_replicas 0); ${CONNECTIONS} connections split over two fleare-ts servers on it (store.backend redis-cluster) against ${CONNECTIONS} concurrent requests from ioredis straight to the cluster, pipeline 1, 3-byte values, ${fmtInt(KEYS)} keys, ${o.seconds} s per cell. Latencies in ms.`,
      "",
      "| command | 2 x fleare-ts ops/s | p50 | p99 | ioredis direct ops/s | p50 | p99 | ratio | errors |",
      "| --- | --: | --: | --: | --: | --: | --: | --: | --: |",
      ...rows,
      ""
    ].join("\n")
    return { markdown, failures: 0 }
  } finally {
    client.disconnect()
    await Promise.all(servers.map((t) => t.stop()))
    await cluster.stop()
  }
}

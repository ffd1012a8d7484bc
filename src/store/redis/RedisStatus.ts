/**
 * STATUS on the Redis backend: Fleare's document with one shard per Redis master (its address, the fleare keys
 * it holds, its used memory as Redis reports it) and, under `store`, the sums. Counting a master's keys under
 * the prefix is a SCAN of that master: O(keys), fine for an admin's look, not for a monitoring loop.
 */
import * as Effect from "effect/Effect"
import type { Redis } from "ioredis"
import type { CommandContext } from "../../commands/Command.js"
import type { CommandError } from "../../errors.js"
import type { Json } from "../../protocol/gojson/Json.js"
import { marshal } from "../../protocol/gojson/Marshal.js"
import { formatRfc3339Nano } from "../../session/Timestamp.js"
import type { RedisClusterShape } from "./RedisCluster.js"
import { dataKey } from "./scripts.js"

const NANOS_PER_SECOND = 1_000_000_000n

/** One master's figures. */
export interface MasterStats {
  readonly address: string
  readonly keys: number
  readonly usedMemory: number
}

const countKeys = async (node: Redis, match: string): Promise<number> => {
  let cursor = "0"
  let n = 0
  do {
    const [next, keys] = await node.scan(cursor, "MATCH", match, "COUNT", 1000)
    n += keys.length
    cursor = next
  } while (cursor !== "0")
  return n
}

const usedMemory = (info: string): number => Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0)

/** Every master's address, key count under the prefix and used memory, in address order. */
export const masterStats = (cluster: RedisClusterShape): Effect.Effect<ReadonlyArray<MasterStats>, CommandError> =>
  cluster.use(async (c) => {
    const match = dataKey(cluster.keyPrefix, "*")
    const masters = c.nodes("master")
    const stats = await Promise.all(
      masters.map(async (node) => ({
        address: `${node.options.host}:${node.options.port}`,
        keys: await countKeys(node, match),
        usedMemory: usedMemory(await node.info("memory"))
      }))
    )
    return stats.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0))
  })

/** The STATUS document for the Redis backend (the memory backend's fields, shards = masters). */
export const clusterStatusJson = (
  ctx: CommandContext,
  masters: ReadonlyArray<MasterStats>,
  sessions: number
): string => {
  const { services, now } = ctx
  const shardInfo: { [key: string]: Json } = {}
  masters.forEach((m, i) => {
    shardInfo[String(i)] = {
      ID: String(i),
      host_address: m.address,
      key_length: m.keys,
      name: `Shard ${i}`,
      total_size: `${m.usedMemory} bytes`
    }
  })
  shardInfo["shard_count"] = masters.length
  const up = now > services.startedAt ? (now - services.startedAt) / NANOS_PER_SECOND : 0n
  return marshal({
    connections: services.connections.size,
    server_status: "running",
    sessions,
    shard_info: shardInfo,
    store: {
      backend: "redis-cluster",
      key_length: masters.reduce((n, m) => n + m.keys, 0),
      total_size: `${masters.reduce((n, m) => n + m.usedMemory, 0)} bytes`
    },
    up_time: formatRfc3339Nano(services.startedAt),
    uptime_seconds: Number(up),
    version: services.version
  })
}

/**
 * The keyspace: every key's typed value and expiry, split into shards the way Fleare maps keys (so STATUS's
 * per-shard counts match). All operations are synchronous: a command reads, computes and writes in one step,
 * which makes every read-modify-write atomic per key. Time is passed in (epoch nanoseconds from the Effect
 * Clock) so expiry is tested with `TestClock`.
 */
import { Context, Effect, Layer } from "effect"
import { ServerConfig } from "../config/ServerConfig.js"
import type { CommandFailed } from "../errors.js"
import { shardOf } from "./Shards.js"
import type { Value } from "./Value.js"

/** A stored key. `expiresAt` is absolute epoch nanoseconds; 0n means no expiry. */
export interface Entry {
  readonly value: Value
  readonly expiresAt: bigint
}

/** Per-shard figures for STATUS. */
export interface ShardStats {
  readonly id: string
  readonly keys: number
  readonly bytes: number
}

/** The keyspace service. */
export interface KeyspaceShape {
  /** The live entry of `key` at `now`, or undefined (an expired key is removed on the way: lazy expiry). */
  readonly get: (key: string, now: bigint) => Entry | undefined
  /**
   * Stores `value` under `key`, replacing any value and clearing its expiry unless `expiresAt` is given.
   * Returns a `CommandFailed` (OutOfMemoryError) when the memory limit refuses the write.
   */
  readonly set: (key: string, value: Value, now: bigint, expiresAt?: bigint) => CommandFailed | undefined
  /** Removes `key`; true if it was live. */
  readonly delete: (key: string, now: bigint) => boolean
  /** Sets (or with 0n removes) the expiry of a live key; false if the key is missing or expired. */
  readonly expire: (key: string, expiresAt: bigint, now: bigint) => boolean
  /** Number of live keys at `now`. */
  readonly size: (now: bigint) => number
  /** Per-shard counts and estimated bytes, in shard order. */
  readonly stats: (now: bigint) => ReadonlyArray<ShardStats>
}

export class Keyspace extends Context.Tag("fleare/Keyspace")<Keyspace, KeyspaceShape>() {
  /** An in-memory keyspace with `shardCount` shards. */
  static makeMemory = (options: { readonly shardCount: number }): KeyspaceShape => {
    const shards: Array<Map<string, Entry>> = Array.from({ length: options.shardCount }, () => new Map())
    const shardFor = (key: string) => shards[shardOf(key, options.shardCount)]!
    const isLive = (e: Entry, now: bigint) => e.expiresAt === 0n || now < e.expiresAt
    const get = (key: string, now: bigint): Entry | undefined => {
      const shard = shardFor(key)
      const e = shard.get(key)
      if (e === undefined) return undefined
      if (isLive(e, now)) return e
      shard.delete(key)
      return undefined
    }
    return {
      get,
      set: (key, value, _now, expiresAt = 0n) => {
        shardFor(key).set(key, { value, expiresAt })
        return undefined
      },
      delete: (key, now) => get(key, now) !== undefined && shardFor(key).delete(key),
      expire: (key, expiresAt, now) => {
        const e = get(key, now)
        if (e === undefined) return false
        shardFor(key).set(key, { value: e.value, expiresAt })
        return true
      },
      size: (now) => shards.reduce((n, s) => n + [...s.values()].filter((e) => isLive(e, now)).length, 0),
      stats: (now) =>
        shards.map((s, i) => ({ id: String(i), keys: [...s.values()].filter((e) => isLive(e, now)).length, bytes: 0 }))
    }
  }

  /** The in-memory keyspace configured from `shard.shard_count`. */
  static layerConfig: Layer.Layer<Keyspace, never, ServerConfig> = Layer.effect(
    Keyspace,
    Effect.map(ServerConfig, (c) => Keyspace.makeMemory({ shardCount: c.shard.shard_count }))
  )
}

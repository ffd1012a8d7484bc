import { describe, expect, it } from "@effect/vitest"
import { entryBytes } from "../../src/store/Memory.js"
import { shardOf } from "../../src/store/Shards.js"
import { VERSION } from "../../src/version.js"
import { withServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"

const RFC3339_NANO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/

/** Fleare's STATUS shape with fleare-ts's added fields, every object's keys sorted as Go marshals a map. */
const expectedStatus = (o: {
  readonly connections: number
  readonly sessions: number
  readonly host: string
  readonly shards: ReadonlyArray<{ readonly keys: number; readonly bytes: number }>
  readonly upTime: string
  readonly uptimeSeconds: number
}): string => {
  const ids = o.shards.map((_, i) => String(i)).sort()
  const shardInfo = ids
    .map((id) => {
      const s = o.shards[Number(id)]!
      return `"${id}":{"ID":"${id}","host_address":"${o.host}","key_length":${s.keys},"name":"Shard ${id}","total_size":"${s.bytes} bytes"}`
    })
    .join(",")
  return (
    `{"connections":${o.connections},"pubsub":{"messages_delivered":0,"messages_published":0,` +
    `"slow_subscribers_disconnected":0,"subscribers":0,"topics":0},"server_status":"running","sessions":${o.sessions},` +
    `"shard_info":{${shardInfo},"shard_count":${o.shards.length}},"up_time":"${o.upTime}",` +
    `"uptime_seconds":${o.uptimeSeconds},"version":"${VERSION}"}`
  )
}

describe("STATUS", () => {
  it("has Fleare's shape with true values: live keys, byte estimates, listen address, start time", async () => {
    const before = Date.now()
    await withServer({}, async ({ port }) => {
      const after = Date.now()
      const c = await WireClient.authed(port)
      const empty = await c.call("STATUS")
      expect(empty.status).toBe("Ok")
      expect(empty.clientId).toMatch(/^\d+-127\.0\.0\.1:\d+$/)
      const first = JSON.parse(empty.result) as { up_time: string; uptime_seconds: number }
      // up_time is when the server started (Effect Clock), not the time of the request
      expect(first.up_time).toMatch(RFC3339_NANO)
      const started = Date.parse(first.up_time)
      expect(started).toBeGreaterThanOrEqual(before - 1000)
      expect(started).toBeLessThanOrEqual(after + 1000)
      expect(first.uptime_seconds).toBeGreaterThanOrEqual(0)
      expect(first.uptime_seconds).toBeLessThan(30)
      const host = `127.0.0.1:${port}`
      expect(empty.result).toBe(
        expectedStatus({
          connections: 1,
          sessions: 1,
          host,
          shards: [
            { keys: 0, bytes: 0 },
            { keys: 0, bytes: 0 }
          ],
          upTime: first.up_time,
          uptimeSeconds: first.uptime_seconds
        })
      )

      const data: Array<[string, string]> = [
        ["alpha", "1"],
        ["b", "hello"],
        ["k2", "{}"],
        ["user:1", "ééé"],
        ["epsilon", ""]
      ]
      const shards = [
        { keys: 0, bytes: 0 },
        { keys: 0, bytes: 0 }
      ]
      for (const [k, v] of data) {
        expect((await c.call("SET", k, v)).status).toBe("Ok")
        const s = shards[shardOf(k, 2)]!
        s.keys += 1
        s.bytes += entryBytes(k, { kind: "Default", value: v })
      }
      // both shards are used, so the per-shard figures are really per shard
      expect(shards.every((s) => s.keys > 0)).toBe(true)
      const c2 = await WireClient.authed(port)
      // arguments are ignored
      const full = await c2.call("STATUS", "ignored", "args")
      const second = JSON.parse(full.result) as { up_time: string; uptime_seconds: number }
      expect(second.up_time).toBe(first.up_time)
      expect(full.result).toBe(
        expectedStatus({
          connections: 2,
          sessions: 2,
          host,
          shards,
          upTime: first.up_time,
          uptimeSeconds: second.uptime_seconds
        })
      )
      c.destroy()
      c2.destroy()
    })
  })

  it("counts only live keys: an expired key leaves key_length and total_size without being read", () =>
    withServer({}, async ({ port }) => {
      const c = await WireClient.authed(port)
      const keyLength = async () => {
        const info = JSON.parse((await c.call("STATUS")).result).shard_info as Record<string, { key_length: number }>
        return info["0"]!.key_length + info["1"]!.key_length
      }
      const totalSize = async () => {
        const info = JSON.parse((await c.call("STATUS")).result).shard_info as Record<string, { total_size: string }>
        return parseInt(info["0"]!.total_size, 10) + parseInt(info["1"]!.total_size, 10)
      }
      await c.call("SET", "stay", "v")
      await c.call("SET", "go", "v")
      await c.call("TTL.EXPIRE", "go", "1")
      expect(await keyLength()).toBe(2)
      await new Promise((resolve) => setTimeout(resolve, 1100))
      expect(await keyLength()).toBe(1)
      expect(await totalSize()).toBe(entryBytes("stay", { kind: "Default", value: "v" }))
      await c.call("DELETE", "stay")
      expect(await keyLength()).toBe(0)
      expect(await totalSize()).toBe(0)
      c.destroy()
    }))

  it('sorts shard ids as Go sorts map keys ("10" before "2"), shard_count last', () =>
    withServer({ shard: { shard_count: 11 } }, async ({ port }) => {
      const c = await WireClient.authed(port)
      const r = await c.call("STATUS")
      const info = r.result.slice(r.result.indexOf('"shard_info":{') + '"shard_info":{'.length)
      const keys = [...info.matchAll(/"(\d+|shard_count)":/g)].map((m) => m[1])
      expect(keys).toEqual(["0", "1", "10", "2", "3", "4", "5", "6", "7", "8", "9", "shard_count"])
      expect(JSON.parse(r.result).shard_info.shard_count).toBe(11)
      c.destroy()
    }))
})

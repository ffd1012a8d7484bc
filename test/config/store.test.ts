/** `store.*`: the defaults, the YAML keys, the `--store` / `--redis-nodes` flags over them, and their errors. */
import { NodeFileSystem } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ConfigSources, loadConfig } from "../../src/config/load.js"
import { runServerToExit } from "../support/process.js"

const load = (sources: ConfigSources) =>
  loadConfig(sources).pipe(Effect.provide(NodeFileSystem.layer), Effect.either, Effect.runPromise)

describe("store configuration", () => {
  it("defaults to the memory backend with the documented Redis settings", async () => {
    const r = await load({})
    expect(r._tag === "Right" && r.right.config.store).toEqual({
      backend: "memory",
      redis: {
        nodes: ["127.0.0.1:7000"],
        key_prefix: "fleare:",
        wait_replicas: 0,
        wait_timeout_ms: 1000,
        command_timeout_ms: 2000
      }
    })
  })

  it("reads store.* from YAML; --store and --redis-nodes win over it", async () => {
    const r = await load({
      configYaml: 'store: {backend: memory, redis: {nodes: ["10.0.0.1:7000"], key_prefix: "x:", wait_replicas: 1}}',
      store: "redis-cluster",
      redisNodes: ["127.0.0.1:17000", "127.0.0.1:17001"]
    })
    expect(r._tag).toBe("Right")
    if (r._tag !== "Right") return
    expect(r.right.config.store.backend).toBe("redis-cluster")
    expect(r.right.config.store.redis.nodes).toEqual(["127.0.0.1:17000", "127.0.0.1:17001"])
    expect(r.right.config.store.redis.key_prefix).toBe("x:")
    expect(r.right.config.store.redis.wait_replicas).toBe(1)
    expect(r.right.warnings).toEqual([])
  })

  it("refuses an unknown backend and a node that is not host:port, naming the key", async () => {
    const bad = await load({ configYaml: "store: {backend: etcd}" })
    expect(bad._tag === "Left" && bad.left.message).toContain("store.backend")
    const node = await load({ redisNodes: ["localhost"] })
    expect(node._tag === "Left" && node.left.message).toContain("store.redis.nodes[0]: expected host:port")
  })

  it("the server refuses a bad --store, and reports a cluster it cannot reach", async () => {
    const flag = await runServerToExit(["--store", "etcd"])
    expect(flag.code).toBe(2)
    expect(flag.output).toContain('--store: expected memory or redis-cluster, got "etcd"')
    // Nothing listens on port 1: startup fails with a clear message instead of serving errors.
    const down = await runServerToExit([
      "--store",
      "redis-cluster",
      "--redis-nodes",
      "127.0.0.1:1",
      "--config",
      "store: {redis: {command_timeout_ms: 500}}",
      "--port",
      "0"
    ])
    expect(down.code).toBe(1)
    expect(down.output).toContain("fleare-ts: Redis Cluster: store failed")
    expect(down.output).not.toContain("listening on")
  })
})

/**
 * Persistence through the real server in this process (FleareServer.layerNode, real TCP, real files): what a
 * client wrote is there after a restart, corruption and `repair`, `restore`, and backups.
 */
import { FileSystem } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Effect, Exit, Fiber, Layer, Logger, LogLevel, ManagedRuntime, TestClock } from "effect"
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { afterEach } from "vitest"
import { type DeepPartial, ServerConfig, type ServerConfigShape } from "../../src/config/ServerConfig.js"
import { backupOnce, runBackups } from "../../src/persistence/Backup.js"
import { PersistenceOptions, type PersistenceOptionsShape } from "../../src/persistence/Persistence.js"
import { encodeRecords, MAGIC } from "../../src/persistence/Record.js"
import { FleareServer } from "../../src/server/Server.js"
import { Keyspace } from "../../src/store/Keyspace.js"
import { WireClient } from "../support/wire.js"
import { collectLogs, FsLive, readRecords, tempDir } from "./support.js"

const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
const newDir = () => {
  const d = mkdtempSync(nodePath.join(tmpdir(), "fleare-server-"))
  dirs.push(d)
  return d
}

interface Running {
  readonly port: number
  readonly logs: Array<string>
  readonly close: () => Promise<void>
}

/** Starts the server with persistence in `dir`; rejects with the startup failure. */
const start = async (
  dir: string,
  patch: DeepPartial<ServerConfigShape> = {},
  options: PersistenceOptionsShape = { repair: false, restore: undefined }
): Promise<Running> => {
  const logs: Array<string> = []
  const config = ServerConfig.unsafeMake({
    ...patch,
    server: { host: "127.0.0.1", port: 0 },
    persistence: { enable: true, path: dir, ...patch.persistence }
  })
  const runtime = ManagedRuntime.make(
    FleareServer.layerNode.pipe(
      Layer.provide(ServerConfig.layer(config)),
      Layer.provide(PersistenceOptions.layer(options)),
      Layer.provide(collectLogs(logs)),
      Layer.provide(Logger.minimumLogLevel(LogLevel.Info))
    )
  )
  try {
    const server = await runtime.runPromise(FleareServer)
    return { port: server.address.port, logs, close: () => runtime.dispose() }
  } catch (e) {
    await runtime.dispose()
    throw e
  }
}

/** Runs `f` with an authenticated client against a server on `dir`, then closes both. */
const session = async <A>(
  dir: string,
  f: (c: WireClient) => Promise<A>,
  patch: DeepPartial<ServerConfigShape> = {},
  options?: PersistenceOptionsShape
): Promise<A> => {
  const s = await start(dir, patch, options)
  const c = await WireClient.authed(s.port)
  try {
    return await f(c)
  } finally {
    c.destroy()
    await s.close()
  }
}

describe("persistence through the server", () => {
  it("every kind of write is there after a restart, JSON.SETREF's references and TTLs included", async () => {
    const dir = newDir()
    await session(dir, async (c) => {
      await c.ok("SET", "plain", "hello")
      await c.ok("STR.SET", "s", "abc")
      await c.ok("STR.APPEND", "s", "def")
      await c.ok("NUM.INCR", "n", "41.5")
      await c.ok("NUM.INCR", "n")
      await c.ok("MAP.SET", "m", "f", '{"x":[1,2]}')
      await c.ok("LIST.PUSH", "l", "a", "2", "true")
      await c.ok("JSON.SET", "user:1", '{"name":"Ann"}')
      await c.ok("JSON.SETREF", "order:1", '{"id":7}', '{"buyer":"user:1"}')
      await c.ok("SET", "ttl", "t")
      expect(await c.ok("TTL.EXPIRE", "ttl", "1000")).toBe("1")
      await c.ok("SET", "gone", "g")
      await c.ok("DELETE", "gone")
    })
    await session(dir, async (c) => {
      expect(await c.ok("GET", "plain")).toBe("hello")
      expect(await c.ok("GET", "s")).toBe("abcdef")
      expect(await c.ok("GET", "n")).toBe("42.5")
      expect(await c.ok("MAP.GET", "m", "f")).toBe('{"x":[1,2]}')
      expect(await c.ok("GET", "l")).toBe('["a",2,true]')
      expect(await c.ok("JSON.GET", "order:1", "", "buyer")).toBe(
        '{"_buyer":{"name":"Ann"},"buyer":"$ref:user:1","id":7}'
      )
      const ttl = Number(await c.ok("TTL", "ttl"))
      expect(ttl).toBeGreaterThan(990)
      expect(ttl).toBeLessThanOrEqual(1000)
      expect(await c.ok("EXISTS", "gone")).toBe("0")
    })
  })

  it("the log is replayed before the server listens, with a summary line", async () => {
    const dir = newDir()
    await session(dir, async (c) => {
      for (let i = 0; i < 100; i++) c.send("SET", `k${i}`, `v${i}`)
      for (let i = 0; i < 100; i++) expect((await c.next()).status).toBe("Ok")
    })
    const s = await start(dir)
    try {
      const loaded = s.logs.findIndex((l) => /INFO loaded 100 keys from .*fleare\.wal \(100 records, /.test(l))
      const listening = s.logs.findIndex((l) => l.includes("listening on"))
      expect(loaded).toBeGreaterThanOrEqual(0)
      expect(loaded).toBeLessThan(listening)
    } finally {
      await s.close()
    }
  })

  it("corruption before the end stops startup naming the file and offset; repair starts with what precedes", async () => {
    const dir = newDir()
    await session(dir, async (c) => {
      for (let i = 0; i < 10; i++) await c.ok("SET", `k${i}`, `v${i}`)
    })
    const path = nodePath.join(dir, "fleare.wal")
    const bytes = readFileSync(path)
    // Damage the payload of the 5th record (records are 12 + 1 + 1 + 8 + 4 + 2 + 2 = 30 bytes).
    const recordBytes = (bytes.length - MAGIC.length) / 10
    expect(recordBytes).toBe(30)
    const offset = MAGIC.length + 4 * recordBytes
    bytes[offset + 20]! ^= 0x40
    writeFileSync(path, bytes)
    const failure = await start(dir).then(
      () => "started",
      (e: unknown) => String(e)
    )
    expect(failure).toContain(`corrupt record in ${path} at byte offset ${offset} (checksum mismatch)`)
    const repaired = await start(dir, {}, { repair: true, restore: undefined })
    try {
      const c = await WireClient.authed(repaired.port)
      expect(await c.ok("GET", "k3")).toBe("v3")
      expect(await c.ok("EXISTS", "k4")).toBe("0")
      c.destroy()
    } finally {
      await repaired.close()
    }
    const copies = readdirSync(dir).filter((n) => n.startsWith("fleare.wal.corrupt-"))
    expect(copies.length).toBe(1)
    expect(readFileSync(nodePath.join(dir, copies[0]!)).equals(bytes)).toBe(true)
  })

  it("a compaction the last run did not finish is removed at startup; the log itself loads", async () => {
    const dir = newDir()
    await session(dir, (c) => c.ok("SET", "k", "v"))
    writeFileSync(nodePath.join(dir, "fleare.wal.rewrite"), Buffer.concat([MAGIC, Buffer.from("half a snapshot")]))
    await session(dir, async (c) => expect(await c.ok("GET", "k")).toBe("v"))
    expect(readdirSync(dir)).toEqual(["fleare.wal"])
  })

  it("restore makes a backup the log (keeping the old log); without persistence it loads into memory", async () => {
    const source = newDir()
    await session(source, async (c) => {
      await c.ok("SET", "from", "backup")
      await c.ok("NUM.INCR", "n", "3")
    })
    const backup = nodePath.join(source, "fleare.wal")
    const target = newDir()
    await session(target, (c) => c.ok("SET", "old", "data"))
    await session(
      target,
      async (c) => expect(await c.ok("GET", "from")).toBe("backup"),
      {},
      {
        repair: false,
        restore: backup
      }
    )
    // The restored data is now the log: it survives a plain restart; the previous log was kept.
    await session(target, async (c) => {
      expect(await c.ok("GET", "from")).toBe("backup")
      expect(await c.ok("GET", "n")).toBe("3")
      expect(await c.ok("EXISTS", "old")).toBe("0")
    })
    expect(readdirSync(target).filter((n) => n.startsWith("fleare.wal.before-restore-")).length).toBe(1)
    // Persistence off: loaded into memory, nothing written.
    const empty = newDir()
    await session(
      empty,
      async (c) => expect(await c.ok("GET", "from")).toBe("backup"),
      {
        persistence: { enable: false, path: empty }
      },
      { repair: false, restore: backup }
    )
    expect(readdirSync(empty)).toEqual([])
  })

  it("with fsync everysec and no, acknowledged writes survive a restart too", async () => {
    for (const fsync of ["everysec", "no"] as const) {
      const dir = newDir()
      await session(
        dir,
        async (c) => {
          for (let i = 0; i < 50; i++) c.send("SET", `k${i}`, fsync)
          for (let i = 0; i < 50; i++) await c.next()
        },
        { persistence: { fsync } }
      )
      expect(readRecords(nodePath.join(dir, "fleare.wal")).length).toBe(50)
      await session(dir, async (c) => expect(await c.ok("GET", "k49")).toBe(fsync))
    }
  })
})

describe("backups", () => {
  it.scoped("every interval a consistent snapshot lands in backup_dir; only the newest `keep` stay (TestClock)", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = nodePath.join(yield* tempDir, "backups")
      const ks = Keyspace.makeMemory({ shardCount: 2 })
      const loop = yield* Effect.fork(
        runBackups(fs, ks, { dir, keep: 3, interval: "60 minutes" }).pipe(Effect.provide(collectLogs([])))
      )
      const listed = () => (existsSync(dir) ? readdirSync(dir).sort() : [])
      // The loop is asleep (its next backup scheduled) once the TestClock holds a pending sleep.
      const asleep = Effect.gen(function* () {
        for (let i = 0; i < 1000 && Chunk.isEmpty(yield* TestClock.sleeps()); i++)
          yield* Effect.promise(() => new Promise((r) => setTimeout(r, 5)))
      })
      yield* asleep
      yield* TestClock.adjust("59 minutes")
      expect(listed()).toEqual([])
      for (let round = 1; round <= 5; round++) {
        const now = yield* Clock.currentTimeNanos
        ks.set(`k${round}`, { kind: "Default", value: `v${round}` }, now)
        yield* TestClock.adjust(round === 1 ? "1 minute" : "60 minutes")
        yield* asleep
        expect(listed().length).toBe(Math.min(round, 3))
        expect(readRecords(nodePath.join(dir, listed().at(-1)!)).length).toBe(round)
      }
      const names = listed()
      expect(names.every((n) => /^fleare-\d{8}T\d{6}\.\d{9}Z\.backup$/.test(n))).toBe(true)
      expect(
        readRecords(nodePath.join(dir, names[2]!))
          .map((r) => r.key)
          .sort()
      ).toEqual(["k1", "k2", "k3", "k4", "k5"])
      yield* Fiber.interrupt(loop)
    }).pipe(Effect.provide(FsLive))
  )

  it.scoped("a backup leaves out expired keys and is loadable with restore", () =>
    Effect.gen(function* () {
      const fs = yield* FileSystem.FileSystem
      const dir = yield* tempDir
      const ks = Keyspace.makeMemory({ shardCount: 2 })
      const now = yield* Clock.currentTimeNanos
      ks.set("live", { kind: "Default", value: "1" }, now, now + 10n ** 12n)
      ks.set("expired", { kind: "Default", value: "2" }, now, now + 1n)
      yield* TestClock.adjust("1 millis")
      const r = yield* backupOnce(fs, ks, { dir, keep: 5 })
      expect(r.keys).toBe(1)
      expect(readRecords(r.path)).toEqual([
        { op: "set", key: "live", value: { kind: "Default", value: "1" }, expiresAt: now + 10n ** 12n }
      ])
      expect(r.bytes).toBe(MAGIC.length + encodeRecords(readRecords(r.path)).length)
      expect(Exit.isSuccess(yield* Effect.exit(fs.stat(`${r.path}.tmp`)))).toBe(false)
    }).pipe(Effect.provide(FsLive))
  )
})

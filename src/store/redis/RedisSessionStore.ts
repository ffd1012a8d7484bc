/**
 * Sessions shared by every server on a Redis Cluster. Each server keeps its own connections' sessions in the
 * in-memory store (exact `last_accessed_at`, a synchronous touch per request, idle expiry) and mirrors them into
 * the cluster, where SESSION.LIST on any server reads every server's:
 *
 *   <prefix>servers            set of server ids
 *   <prefix>sessions:<server>  hash session id → the session (JSON); expires HEARTBEAT_TTL after the server's
 *                              last heartbeat, so a dead server's sessions vanish within that bound
 *   <prefix>kill:<server>      list of session ids other servers asked this one to end (polled every 200 ms)
 *   <prefix>client-id          the counter client ids are numbered from, in blocks, unique across servers
 *
 * Once a second (the heartbeat) a server refreshes its hash's expiry and writes the sessions touched since,
 * so the shared `last_accessed_at` lags the owner's by at most about a second. SESSION.KILL of another server's
 * session removes it from that server's hash and queues the id on its kill list; the owner ends the session and
 * closes the connection on its next poll.
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import { ServerConfig } from "../../config/ServerConfig.js"
import { SessionStoreError, type StoreError, Unauthorized } from "../../errors.js"
import type { ConnectionRegistry } from "../../server/Connections.js"
import type { Role } from "../../session/Role.js"
import { type Session, SessionStatus } from "../../session/Session.js"
import { type SessionHandle, SessionStore, type SessionStoreShape } from "../../session/SessionStore.js"
import { RedisCluster } from "./RedisCluster.js"

/** How long a server's sessions outlive its last heartbeat (the bound on a dead server's sessions), in ms. */
export const HEARTBEAT_TTL_MS = 3000
const HEARTBEAT_EVERY = Duration.seconds(1)
const KILL_POLL_EVERY = Duration.millis(200)
/** Client ids are reserved this many at a time; the next block is fetched when half is used. */
const ID_BLOCK = 1000

/** The session as stored in the cluster. */
interface Shared {
  readonly id: string
  readonly u: string
  readonly r: string
  readonly c: string
  readonly a: string
}

const toShared = (s: Session): string =>
  JSON.stringify({
    id: s.sessionId,
    u: s.user.username,
    r: s.user.role,
    c: String(s.createdAt),
    a: String(s.lastAccessedAt)
  } satisfies Shared)

const fromShared = (json: string): Session | undefined => {
  try {
    const s = JSON.parse(json) as Shared
    return {
      sessionId: s.id,
      user: { username: s.u, role: s.r as Role },
      status: SessionStatus.active,
      createdAt: BigInt(s.c),
      lastAccessedAt: BigInt(s.a)
    }
  } catch {
    return undefined
  }
}

const byAge = (a: Session, b: Session): number =>
  a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.sessionId < b.sessionId ? -1 : 1

/** What the server needs from the shared sessions beyond the `SessionStore` service. */
export interface RedisSessionsShape {
  /** The next client id number, unique across servers. */
  readonly nextClientNumber: () => number
  /** Gives the store the server's connections, so a kill from another server closes the connection here. */
  readonly attach: (connections: ConnectionRegistry) => void
  /** This server's id in the cluster. */
  readonly serverId: string
}

/** The extras of the Redis session store (see `RedisSessionsShape`). */
export class RedisSessions extends Context.Tag("fleare/RedisSessions")<RedisSessions, RedisSessionsShape>() {}

/** How the shared store behaves. */
export interface RedisSessionStoreOptions {
  /** Idle timeout of a session (0: none), enforced by the server that holds it. */
  readonly idleTimeout: Duration.DurationInput
}

const make = (options: RedisSessionStoreOptions) =>
  Effect.gen(function* () {
    const cluster = yield* RedisCluster
    const prefix = cluster.keyPrefix
    const local = SessionStore.makeMemory(options.idleTimeout)
    const serverId = Math.random().toString(36).slice(2, 10) + Math.random().toString(36).slice(2, 6)
    const serversKey = prefix + "servers"
    const sessionsKey = (sid: string) => prefix + "sessions:" + sid
    const killKey = (sid: string) => prefix + "kill:" + sid
    const mine = sessionsKey(serverId)
    const toSessionError = (e: StoreError) => new SessionStoreError({ cause: e.cause })
    // This server's sessions and the last access time written to the cluster for each.
    const held = new Map<string, { readonly handle: SessionHandle; flushed: bigint }>()
    let registry: ConnectionRegistry | undefined
    const runFork = Runtime.runFork(yield* Effect.runtime<never>())

    // ---- client id numbers, reserved in blocks ----
    const reserve = cluster.use((c) => c.incrby(prefix + "client-id", ID_BLOCK))
    let next = 0
    let end = 0
    let pending: number | undefined
    let refilling = false
    const refill = () => {
      if (refilling) return
      refilling = true
      runFork(
        reserve.pipe(
          Effect.tap((last) => Effect.sync(() => (pending = last))),
          Effect.catchAll((e) => Effect.logWarning("could not reserve client ids", e.cause)),
          Effect.ensuring(Effect.sync(() => (refilling = false)))
        )
      )
    }
    const first = yield* reserve
    next = first - ID_BLOCK + 1
    end = first
    const nextClientNumber = (): number => {
      if (next > end && pending !== undefined) {
        next = pending - ID_BLOCK + 1
        end = pending
        pending = undefined
      }
      // Past the block with no new one yet (Redis unreachable): go on counting; uniqueness then rests on the
      // next block being far enough ahead, which a block's size makes likely but cannot promise.
      const n = next
      next += 1
      if (pending === undefined && end - next < ID_BLOCK / 2) refill()
      return n
    }

    // ---- mirroring this server's sessions ----
    const track = (handle: SessionHandle, now: bigint) => held.set(handle.sessionId, { handle, flushed: now })
    const dropLocal = (id: string) =>
      Effect.gen(function* () {
        const existed = yield* local.remove(id)
        held.delete(id)
        yield* cluster.use((c) => c.hdel(mine, id)).pipe(Effect.mapError(toSessionError))
        return existed
      })

    /** Writes the sessions touched since the last flush; everything when the hash had expired (an outage). */
    const heartbeat = Effect.gen(function* () {
      const now = yield* Effect.clockWith((c) => c.currentTimeNanos)
      // Sessions that ended here (idle too long, found expired by a touch) leave the shared list too.
      const gone = [...(yield* local.expireIdle(now))]
      const changed: Array<string> = []
      const flushed: Array<() => void> = []
      for (const [id, h] of held) {
        const s = h.handle.current()
        if (s.status !== SessionStatus.active) gone.push(id)
        else if (s.lastAccessedAt !== h.flushed) {
          changed.push(id, toShared(s))
          const at = s.lastAccessedAt
          flushed.push(() => (h.flushed = at))
        }
      }
      for (const id of gone) held.delete(id)
      if (gone.length > 0) yield* cluster.use((c) => c.hdel(mine, ...gone))
      // Two keys in different slots: two commands (pipelined by the client), not one transaction.
      const [, alive] = yield* cluster.use((c) =>
        Promise.all([c.sadd(serversKey, serverId), c.pexpire(mine, HEARTBEAT_TTL_MS).then((n) => n === 1)])
      )
      if (!alive && held.size > 0) {
        // The hash expired (Redis was unreachable for longer than the TTL, or restarted): write it whole.
        const all: Array<string> = []
        for (const [id, h] of held) all.push(id, toShared(h.handle.current()))
        yield* cluster.use((c) =>
          c
            .multi()
            .hset(mine, ...all)
            .pexpire(mine, HEARTBEAT_TTL_MS)
            .exec()
        )
      } else if (changed.length > 0) yield* cluster.use((c) => c.hset(mine, ...changed))
      for (const f of flushed) f()
    })

    /** Ends the sessions other servers asked this one to kill, closing their connections. */
    const pollKills = Effect.gen(function* () {
      const ids = yield* cluster.use((c) => c.lpop(killKey(serverId), 100))
      for (const id of ids ?? []) {
        yield* local.remove(id)
        held.delete(id)
        registry?.get(id)?.kill()
      }
    })

    // An outage is logged when it starts and when it ends, not on every failed tick.
    let failing = false
    const guarded = (what: string, task: Effect.Effect<void, StoreError | SessionStoreError>) =>
      task.pipe(
        Effect.zipRight(
          Effect.suspend(() => {
            if (!failing) return Effect.void
            failing = false
            return Effect.logInfo("shared sessions: Redis reachable again")
          })
        ),
        Effect.catchAll((e) => {
          if (failing) return Effect.void
          failing = true
          return Effect.logWarning(`shared sessions: ${what} failed (Redis unreachable?); retrying`, e.message)
        })
      )
    yield* Effect.forkScoped(Effect.repeat(guarded("heartbeat", heartbeat), Schedule.spaced(HEARTBEAT_EVERY)))
    yield* Effect.forkScoped(Effect.repeat(guarded("kill poll", pollKills), Schedule.spaced(KILL_POLL_EVERY)))
    // A server that stops cleanly takes its sessions with it.
    yield* Effect.addFinalizer(() =>
      cluster.use((c) => Promise.all([c.srem(serversKey, serverId), c.del(mine)])).pipe(Effect.ignore)
    )

    /** Every live session in the cluster: this server's from memory, the others' from their hashes. */
    const listAll = Effect.gen(function* () {
      const ownList = yield* local.list
      const servers = (yield* cluster.use((c) => c.smembers(serversKey))).filter((s) => s !== serverId)
      const hashes = yield* cluster.use((c) =>
        Promise.all(servers.map((sid) => c.hvals(sessionsKey(sid)).then((vals) => ({ sid, vals }))))
      )
      const all = [...ownList]
      const dead: Array<string> = []
      for (const { sid, vals } of hashes) {
        if (vals.length === 0) dead.push(sid)
        for (const v of vals) {
          const s = fromShared(v)
          if (s !== undefined) all.push(s)
        }
      }
      // A server whose hash is gone has no sessions left (or is dead): forget it until its next heartbeat.
      if (dead.length > 0) yield* cluster.use((c) => c.srem(serversKey, ...dead)).pipe(Effect.ignore)
      return all.sort(byAge)
    }).pipe(Effect.mapError((e) => (e._tag === "StoreError" ? toSessionError(e) : e)))

    const store: SessionStoreShape = {
      create: (sessionId, user, now) =>
        Effect.gen(function* () {
          const handle = yield* local.create(sessionId, user, now)
          const written = yield* Effect.either(
            cluster.use((c) =>
              Promise.all([
                c.multi().hset(mine, sessionId, toShared(handle.current())).pexpire(mine, HEARTBEAT_TTL_MS).exec(),
                c.sadd(serversKey, serverId)
              ])
            )
          )
          if (written._tag === "Left") {
            yield* local.remove(sessionId)
            return yield* toSessionError(written.left)
          }
          track(handle, now)
          return handle
        }),
      get: (sessionId) =>
        Effect.catchTag(local.get(sessionId), "Unauthorized", () =>
          Effect.flatMap(listAll, (all) => {
            const s = all.find((x) => x.sessionId === sessionId)
            return s === undefined ? Effect.fail(new Unauthorized()) : Effect.succeed(s)
          })
        ),
      remove: (sessionId) =>
        Effect.gen(function* () {
          if (held.has(sessionId)) return yield* dropLocal(sessionId)
          // Another server's session (ids are unique across servers, so at most one hash holds it).
          const servers = (yield* cluster.use((c) => c.smembers(serversKey))).filter((s) => s !== serverId)
          const removed = yield* cluster.use((c) =>
            Promise.all(servers.map((sid) => c.hdel(sessionsKey(sid), sessionId).then((n) => ({ sid, n }))))
          )
          const owner = removed.find((r) => r.n > 0)
          if (owner === undefined) return false
          yield* cluster.use((c) =>
            c.multi().rpush(killKey(owner.sid), sessionId).pexpire(killKey(owner.sid), 60_000).exec()
          )
          return true
        }).pipe(Effect.mapError((e) => (e._tag === "StoreError" ? toSessionError(e) : e))),
      list: listAll,
      expireIdle: (now) =>
        Effect.gen(function* () {
          const ids = yield* local.expireIdle(now)
          for (const id of ids) held.delete(id)
          if (ids.length > 0) yield* cluster.use((c) => c.hdel(mine, ...ids)).pipe(Effect.mapError(toSessionError))
          return ids
        })
    }
    const extras: RedisSessionsShape = {
      nextClientNumber,
      attach: (connections) => {
        registry = connections
      },
      serverId
    }
    return Context.make(SessionStore, store).pipe(Context.add(RedisSessions, extras))
  })

/** The shared session store on a Redis Cluster. */
export class RedisSessionStore {
  /** The store (and its extras for the server) over the `RedisCluster` connection. */
  static layer = (
    options: RedisSessionStoreOptions
  ): Layer.Layer<SessionStore | RedisSessions, StoreError, RedisCluster> => Layer.scopedContext(make(options))

  /** With the idle timeout from `security.session_idle_timeout_seconds`. */
  static layerConfig: Layer.Layer<SessionStore | RedisSessions, StoreError, RedisCluster | ServerConfig> =
    Layer.unwrapEffect(
      Effect.map(ServerConfig, (c) =>
        RedisSessionStore.layer({ idleTimeout: Duration.seconds(c.security.session_idle_timeout_seconds) })
      )
    )
}

/**
 * The session store: every live session by id. Sessions are created by AUTH, touched by every command,
 * expired after `security.session_idle_timeout_seconds` idle (on the next touch or read, and by a periodic
 * sweep) and removed on disconnect or SESSION.KILL. `layerMemory` keeps them in a Map; another layer (shared,
 * persistent) can be swapped in, and a failing one is how tests check `internal server error`.
 *
 * Touching happens on every request, so it is a synchronous method of the handle that `create` returns; the
 * rest of the API is Effects that may fail.
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { ServerConfig } from "../config/ServerConfig.js"
import { type SessionStoreError, Unauthorized } from "../errors.js"
import { type Session, SessionStatus, type SessionUser } from "./Session.js"
import { nowNanos } from "./Timestamp.js"

/** A connection's hold on its session. Times are epoch nanoseconds. */
export interface SessionHandle {
  readonly sessionId: string
  /**
   * Records an access at `now`. False when the session is gone — it had been idle longer than the timeout,
   * or was removed (SESSION.KILL) — and from then on it stays gone.
   */
  readonly touch: (now: bigint) => boolean
  /**
   * True while the session is live at `now`, without counting as an access (a pub/sub push to the connection
   * asks this: an expired session receives nothing more). Once false, it stays false.
   */
  readonly live: (now: bigint) => boolean
  /**
   * The session as it stands. Synchronous, as it serves SESSION on the hot path; a store that cannot answer
   * throws (a `SessionStoreError`), which the connection answers `internal server error` and logs.
   */
  readonly current: () => Session
}

/** The session store service. */
export interface SessionStoreShape {
  /** Creates (or replaces, on re-AUTH) the session `sessionId`, created and accessed at `now`. */
  readonly create: (
    sessionId: string,
    user: SessionUser,
    now: bigint
  ) => Effect.Effect<SessionHandle, SessionStoreError>
  /** The live session `sessionId`, or `Unauthorized`. */
  readonly get: (sessionId: string) => Effect.Effect<Session, Unauthorized | SessionStoreError>
  /** Removes a session; true if it existed. */
  readonly remove: (sessionId: string) => Effect.Effect<boolean, SessionStoreError>
  /** All live sessions, oldest first. */
  readonly list: Effect.Effect<ReadonlyArray<Session>, SessionStoreError>
  /** Removes the sessions idle longer than the timeout at `now`; returns their ids. */
  readonly expireIdle: (now: bigint) => Effect.Effect<ReadonlyArray<string>, SessionStoreError>
  /** Cheap figures for /metrics, read synchronously at scrape time (optional: a store may not keep them). */
  readonly stats?: () => SessionStoreStats
}

/** What `SessionStoreShape.stats` reports. */
export interface SessionStoreStats {
  /** Sessions held (an expired one counts until it is noticed or swept, within a second). */
  readonly sessions: number
  /** Sessions removed because they were idle too long, since the store was made. */
  readonly expired: number
}

/**
 * A stored session, which is also the handle its connection holds (one object per session: a server may hold
 * thousands). Mutable only in `lastAccessedAt` and `alive`, and only through the store and the handle.
 */
class Record implements SessionHandle {
  lastAccessedAt: bigint
  alive = true

  constructor(
    readonly sessionId: string,
    readonly user: SessionUser,
    readonly createdAt: bigint,
    private readonly store: MemoryStore
  ) {
    this.lastAccessedAt = createdAt
  }

  touch(now: bigint): boolean {
    if (!this.alive) return false
    if (this.store.isExpired(this, now)) {
      this.store.expire(this)
      return false
    }
    if (now > this.lastAccessedAt) this.lastAccessedAt = now
    return true
  }

  live(now: bigint): boolean {
    if (!this.alive) return false
    if (this.store.isExpired(this, now)) {
      this.store.drop(this)
      return false
    }
    return true
  }

  current(): Session {
    return toSession(this)
  }
}

const toSession = (r: Record): Session => ({
  sessionId: r.sessionId,
  user: r.user,
  status: r.alive ? SessionStatus.active : SessionStatus.expired,
  createdAt: r.createdAt,
  lastAccessedAt: r.lastAccessedAt
})

/** The in-memory store's sessions and idle rule. */
class MemoryStore {
  readonly sessions = new Map<string, Record>()
  /** Sessions dropped for idling too long. */
  expired = 0

  /** `timeoutNanos` of zero: sessions never expire by time. */
  constructor(private readonly timeoutNanos: bigint) {}

  /** Idle for longer than the timeout: exactly at the timeout the session is still alive. */
  isExpired(r: Record, now: bigint): boolean {
    return this.timeoutNanos > 0n && now - r.lastAccessedAt > this.timeoutNanos
  }

  /** Drops `r` for idling too long, counting it once. */
  expire(r: Record): void {
    if (r.alive && this.sessions.get(r.sessionId) === r) this.expired += 1
    this.drop(r)
  }

  drop(r: Record): void {
    r.alive = false
    if (this.sessions.get(r.sessionId) === r) this.sessions.delete(r.sessionId)
  }

  /** The live session `sessionId` at `now`, dropping it if it has expired. */
  live(sessionId: string, now: bigint): Record | undefined {
    const r = this.sessions.get(sessionId)
    if (r === undefined) return undefined
    if (this.isExpired(r, now)) {
      this.expire(r)
      return undefined
    }
    return r
  }
}

export class SessionStore extends Context.Tag("fleare/SessionStore")<SessionStore, SessionStoreShape>() {
  /** An in-memory store. `idleTimeout` of zero means sessions never expire by time. */
  static makeMemory = (idleTimeout: Duration.DurationInput): SessionStoreShape => {
    const timeout = Duration.toNanos(Duration.decode(idleTimeout))
    const store = new MemoryStore(timeout._tag === "Some" ? timeout.value : 0n)
    const sessions = store.sessions
    const unauthorized = new Unauthorized()
    return {
      create: (sessionId, user, now) =>
        Effect.sync(() => {
          const previous = sessions.get(sessionId)
          if (previous !== undefined) previous.alive = false
          const r = new Record(sessionId, user, now, store)
          sessions.set(sessionId, r)
          return r
        }),
      get: (sessionId) =>
        Effect.flatMap(nowNanos, (now) => {
          const r = store.live(sessionId, now)
          return r === undefined ? Effect.fail(unauthorized) : Effect.succeed(toSession(r))
        }),
      remove: (sessionId) =>
        Effect.sync(() => {
          const r = sessions.get(sessionId)
          if (r === undefined) return false
          store.drop(r)
          return true
        }),
      list: Effect.flatMap(nowNanos, (now) =>
        Effect.sync(() => [...sessions.keys()].flatMap((id) => store.live(id, now) ?? []).map(toSession))
      ),
      expireIdle: (now) => Effect.sync(() => [...sessions.keys()].filter((id) => store.live(id, now) === undefined)),
      stats: () => ({ sessions: sessions.size, expired: store.expired })
    }
  }

  /**
   * An in-memory store with a background sweep that removes idle sessions every second (or every timeout,
   * if shorter), on the Effect clock.
   */
  static layerMemory = (idleTimeout: Duration.DurationInput): Layer.Layer<SessionStore> =>
    Layer.scoped(
      SessionStore,
      Effect.gen(function* () {
        const store = SessionStore.makeMemory(idleTimeout)
        const timeout = Duration.decode(idleTimeout)
        if (Duration.greaterThan(timeout, Duration.zero)) {
          const every = Duration.min(timeout, Duration.seconds(1))
          yield* nowNanos.pipe(
            Effect.flatMap(store.expireIdle),
            Effect.catchAll((e) => Effect.logWarning("session sweep failed", e)),
            Effect.repeat(Schedule.spaced(every)),
            Effect.forkScoped
          )
        }
        return store
      })
    )

  /** The in-memory store with the idle timeout from the configuration. */
  static layerConfig: Layer.Layer<SessionStore, never, ServerConfig> = Layer.unwrapEffect(
    Effect.map(ServerConfig, (c) => SessionStore.layerMemory(Duration.seconds(c.security.session_idle_timeout_seconds)))
  )
}

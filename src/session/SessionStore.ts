/**
 * The session store: every live session by id. Sessions are created by AUTH, touched by every command,
 * expired after `security.session_idle_timeout_seconds` idle (lazily on access and by a periodic sweep) and
 * removed on disconnect or SESSION.KILL. `layerMemory` keeps them in a Map; another layer (shared, persistent)
 * can be swapped in, and a failing one is how tests check `internal server error`.
 */
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { ServerConfig } from "../config/ServerConfig.js"
import { SessionStoreError, Unauthorized } from "../errors.js"
import { makeSession, type Session, type SessionUser } from "./Session.js"
import { nowNanos } from "./Timestamp.js"

/** The session store service. All times are epoch nanoseconds. */
export interface SessionStoreShape {
  /** Creates (or replaces, on re-AUTH) the session `sessionId`, created and accessed at `now`. */
  readonly create: (sessionId: string, user: SessionUser, now: bigint) => Effect.Effect<Session, SessionStoreError>
  /**
   * Records an access at `now` and returns the session; fails `Unauthorized` if there is no such session or it
   * had been idle longer than the timeout (it is then removed).
   */
  readonly touch: (sessionId: string, now: bigint) => Effect.Effect<Session, Unauthorized | SessionStoreError>
  /** The live session `sessionId`, or `Unauthorized`. */
  readonly get: (sessionId: string) => Effect.Effect<Session, Unauthorized | SessionStoreError>
  /** Removes a session; true if it existed. */
  readonly remove: (sessionId: string) => Effect.Effect<boolean, SessionStoreError>
  /** All live sessions, oldest first. */
  readonly list: Effect.Effect<ReadonlyArray<Session>, SessionStoreError>
  /** Removes the sessions idle longer than the timeout at `now`; returns their ids. */
  readonly expireIdle: (now: bigint) => Effect.Effect<ReadonlyArray<string>, SessionStoreError>
}

export class SessionStore extends Context.Tag("fleare/SessionStore")<SessionStore, SessionStoreShape>() {
  /** An in-memory store. `idleTimeout` of zero means sessions never expire by time. */
  static makeMemory = (idleTimeout: Duration.DurationInput): SessionStoreShape => {
    const sessions = new Map<string, Session>()
    const timeoutNanos = Duration.toNanos(Duration.decode(idleTimeout)).pipe((o) => (o._tag === "Some" ? o.value : 0n))
    // Idle for longer than the timeout: exactly at the timeout the session is still alive.
    const isExpired = (s: Session, now: bigint): boolean => timeoutNanos > 0n && now - s.lastAccessedAt > timeoutNanos
    const live = (sessionId: string, now: bigint): Session | undefined => {
      const s = sessions.get(sessionId)
      if (s === undefined) return undefined
      if (isExpired(s, now)) {
        sessions.delete(sessionId)
        return undefined
      }
      return s
    }
    const unauthorized = new Unauthorized()
    return {
      create: (sessionId, user, now) =>
        Effect.sync(() => {
          const s = makeSession(sessionId, user, now)
          sessions.set(sessionId, s)
          return s
        }),
      touch: (sessionId, now) =>
        Effect.suspend(() => {
          const s = live(sessionId, now)
          if (s === undefined) return Effect.fail(unauthorized)
          if (now <= s.lastAccessedAt) return Effect.succeed(s)
          const touched: Session = { ...s, lastAccessedAt: now }
          sessions.set(sessionId, touched)
          return Effect.succeed(touched)
        }),
      get: (sessionId) =>
        Effect.flatMap(nowNanos, (now) => {
          const s = live(sessionId, now)
          return s === undefined ? Effect.fail(unauthorized) : Effect.succeed(s)
        }),
      remove: (sessionId) => Effect.sync(() => sessions.delete(sessionId)),
      list: Effect.flatMap(nowNanos, (now) =>
        Effect.sync(() => [...sessions.keys()].flatMap((id) => live(id, now) ?? []))
      ),
      expireIdle: (now) => Effect.sync(() => [...sessions.keys()].filter((id) => live(id, now) === undefined))
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

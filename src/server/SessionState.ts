/**
 * The state a connection actor holds: whether the connection has a live session.
 */
import type { SessionUser } from "../session/Session.js"
import type { SessionHandle } from "../session/SessionStore.js"

export type SessionState =
  /** No successful AUTH yet: every command but AUTH answers `unauthorized or session not found`. */
  | { readonly _tag: "Unauthenticated" }
  /** A live session; commands run as its user. */
  | { readonly _tag: "Active"; readonly session: SessionHandle; readonly user: SessionUser }
  /** The session expired or was removed (status 2); AUTH again to continue. */
  | { readonly _tag: "Expired"; readonly session: SessionHandle }

export const unauthenticated: SessionState = { _tag: "Unauthenticated" }
export const active = (session: SessionHandle, user: SessionUser): SessionState => ({ _tag: "Active", session, user })
export const expired = (session: SessionHandle): SessionState => ({ _tag: "Expired", session })

/**
 * The state a connection actor holds in its `Ref`: whether the connection has a live session.
 */
import type { Session } from "../session/Session.js"

export type SessionState =
  /** No successful AUTH yet: every command but AUTH answers `unauthorized or session not found`. */
  | { readonly _tag: "Unauthenticated" }
  /** A live session; commands run as its user. */
  | { readonly _tag: "Active"; readonly session: Session }
  /** The session expired or was removed (status 2); AUTH again to continue. */
  | { readonly _tag: "Expired"; readonly session: Session }

export const unauthenticated: SessionState = { _tag: "Unauthenticated" }
export const active = (session: Session): SessionState => ({ _tag: "Active", session })
export const expired = (session: Session): SessionState => ({ _tag: "Expired", session: { ...session, status: 2 } })

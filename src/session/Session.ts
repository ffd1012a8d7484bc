/**
 * A session: who is connected on a connection, since when, and when it was last used. Its JSON is exactly
 * what Fleare's `SESSION` returns (Go struct field order, capitalised user keys, masked password).
 */
import type { Role } from "./Role.js"
import { quote } from "../protocol/gojson/Marshal.js"
import { formatRfc3339Nano } from "./Timestamp.js"

/** Session status constants, as Fleare numbers them. */
export const SessionStatus = { pending: 0, active: 1, expired: 2 } as const
export type SessionStatus = (typeof SessionStatus)[keyof typeof SessionStatus]

/** The authenticated user of a session. The password is never held here: it is always shown masked. */
export interface SessionUser {
  readonly username: string
  readonly role: Role
}

/** One session. Times are epoch nanoseconds from the Effect Clock. */
export interface Session {
  readonly sessionId: string
  readonly user: SessionUser
  readonly status: SessionStatus
  readonly createdAt: bigint
  readonly lastAccessedAt: bigint
}

/** What every password looks like on the wire: exactly seven asterisks, whatever the password is. */
export const MASKED_PASSWORD = "*******"

/** A new active session, created and last accessed at `now`. */
export const makeSession = (sessionId: string, user: SessionUser, now: bigint): Session => ({
  sessionId,
  user,
  status: SessionStatus.active,
  createdAt: now,
  lastAccessedAt: now
})

/** The session as compact JSON in Fleare's field order. */
export const sessionJson = (s: Session): string =>
  `{"session_id":${quote(s.sessionId)},"user":{"Username":${quote(s.user.username)},` +
  `"Password":"${MASKED_PASSWORD}","Role":${quote(s.user.role)}},"status":${s.status},` +
  `"created_at":"${formatRfc3339Nano(s.createdAt)}","last_accessed_at":"${formatRfc3339Nano(s.lastAccessedAt)}"}`

/**
 * Roles and what each may run. Commands are classed in the command table; a role is a set of classes.
 * Fleare stores roles as free text and never checks them; fleare-ts enforces these four.
 */

/** The roles a configured user may have, in their canonical spelling. */
export const roles = ["root", "Admin", "User", "ReadOnly"] as const
export type Role = (typeof roles)[number]

/**
 * What a command does, for permission checks:
 * - `read`: reads data; `write`: changes data; `admin`: administers the server (SESSION.LIST, SESSION.KILL);
 * - `connection`: about the caller's own connection or the server's health (PING, SESSION, STATUS);
 * - `subscribe`: SUBSCRIBE/UNSUBSCRIBE; `publish`: PUBLISH.
 */
export type CommandClass = "read" | "write" | "admin" | "connection" | "subscribe" | "publish"

const allowed: Record<Role, ReadonlySet<CommandClass>> = {
  root: new Set(["read", "write", "admin", "connection", "subscribe", "publish"]),
  Admin: new Set(["read", "write", "admin", "connection", "subscribe", "publish"]),
  User: new Set(["read", "write", "connection", "subscribe", "publish"]),
  ReadOnly: new Set(["read", "connection", "subscribe"])
}

/** May a user of `role` run a command of `cls`? */
export const mayRun = (role: Role, cls: CommandClass): boolean => allowed[role].has(cls)

const CLASS_BITS: Readonly<Record<CommandClass, number>> = {
  read: 1,
  write: 2,
  admin: 4,
  connection: 8,
  subscribe: 16,
  publish: 32
}

/** A command class as one bit, for `roleMask`. */
export const classBit = (cls: CommandClass): number => CLASS_BITS[cls]

/**
 * The classes `role` may run, as a mask of `classBit`s: a connection computes it once per session, and a request
 * is checked with one AND (the same answer as `mayRun`).
 */
export const roleMask = (role: Role): number => {
  let mask = 0
  for (const cls of allowed[role]) mask |= CLASS_BITS[cls]
  return mask
}

/** Parses a role name case-insensitively into its canonical spelling; undefined for an unknown role. */
export const parseRole = (name: string): Role | undefined => {
  const lower = name.toLowerCase()
  return roles.find((r) => r.toLowerCase() === lower)
}

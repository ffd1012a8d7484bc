/**
 * The configured user accounts and the authentication decision of Fleare's handshake (`security.enable_auth`,
 * `security.users`). Failures carry Fleare's exact messages; the connection prefixes `ConnectionFailed: `.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ServerConfig } from "../config/ServerConfig.js"
import { AuthFailed } from "../errors.js"
import { randomBytes } from "node:crypto"
import { FifoLimiter } from "./FifoLimiter.js"
import { parseScryptHash, verifyPassword } from "./Password.js"
import { parseRole } from "./Role.js"
import type { SessionUser } from "./Session.js"

/** Fleare's handshake failure texts. */
export const AuthMessages = {
  missingCredentials: "failed to authenticate, please ensure your username and password are provided",
  wrongCredentials: "The username or password you entered is incorrect. Please try again with valid credentials.",
  authDisabled:
    "it looks like you entered a username or password but the server isn\u2019t using authentication right now",
  invalidArguments: "invalid arguments",
  userNotFound: (name: string) => `user not found ${name}`,
  /** fleare-ts: the remote address is locked out after too many failed AUTHs (issue 10). */
  lockedOut: (seconds: number) => `too many failed AUTH attempts from this address; try again in ${seconds} s`
} as const

interface Account {
  readonly username: string
  readonly password: string
  readonly user: SessionUser
  /** The stored form is an scrypt hash (else plain text). */
  readonly hashed: boolean
}

/**
 * How many scrypt derivations may run at once; the rest queue, first come first served. Node runs `crypto.scrypt` on libuv's thread
 * pool (4 threads unless `UV_THREADPOOL_SIZE` says more), which the log's file writes and fsyncs share: with
 * at most 2 hashes in flight, an AUTH flood leaves the other threads to the log (issue 10: 32 connections
 * hashing at once pushed `fsync: always` writes from 2 ms to seconds).
 */
export const MAX_CONCURRENT_HASHES = 2

/**
 * A stored form with the same scrypt parameters as the costliest configured hash and a random key no password
 * matches: verified for unknown users and for plain-text accounts, so every AUTH does the same work whatever
 * the user's stored form (user names cannot be told apart by timing). Undefined when no account is hashed:
 * every check is then one plain comparison.
 */
const dummyHashFor = (stored: ReadonlyArray<string>): string | undefined => {
  let best: { N: number; r: number; p: number; salt: Buffer; key: Buffer } | undefined
  for (const s of stored) {
    const h = parseScryptHash(s)
    if (h !== undefined && (best === undefined || h.N * h.r * h.p > best.N * best.r * best.p)) best = h
  }
  if (best === undefined) return undefined
  const salt = randomBytes(best.salt.length).toString("base64")
  const key = randomBytes(best.key.length).toString("base64")
  return `scrypt$${best.N}$${best.r}$${best.p}$${salt}$${key}`
}

/** The accounts service. */
export interface AccountsShape {
  /**
   * Decides an AUTH with these credentials (Fleare's table, §2.1 of the spec). Password hashing is queued;
   * `proceed`, when given, is asked once this check's turn comes: false skips the work and fails with the
   * wrong-credentials text (the caller's address got locked out meanwhile, or its connection was closed).
   */
  readonly authenticate: (
    username: string,
    password: string,
    proceed?: () => boolean
  ) => Effect.Effect<SessionUser, AuthFailed>
  /** The user a connection gets at accept when authentication is off; undefined when auth is on. */
  readonly anonymousUser: SessionUser | undefined
}

export class Accounts extends Context.Tag("fleare/Accounts")<Accounts, AccountsShape>() {
  /** Accounts from explicit settings. */
  static make = (options: {
    readonly enableAuth: boolean
    readonly users: ReadonlyArray<{ readonly username: string; readonly password: string; readonly role: string }>
  }): AccountsShape => {
    const accounts = new Map<string, Account>()
    for (const u of options.users) {
      const role = parseRole(u.role)
      // The config schema already refuses unknown roles; this guards direct callers of `make`.
      if (role === undefined) throw new Error(`unknown role "${u.role}" for user ${u.username}`)
      const hashed = parseScryptHash(u.password) !== undefined
      accounts.set(u.username, {
        username: u.username,
        password: u.password,
        user: { username: u.username, role },
        hashed
      })
    }
    const root = accounts.get("root")
    const dummy = dummyHashFor(options.users.map((u) => u.password))
    // Compared against when the user does not exist, so a wrong user costs the same work as a wrong password.
    const decoy = dummy ?? root?.password ?? "decoy"
    const hashing = new FifoLimiter(MAX_CONCURRENT_HASHES)
    /** One scrypt derivation (queued behind `hashing`) per check whenever any account is hashed. */
    const check = (account: Account | undefined, given: string, proceed?: () => boolean): Effect.Effect<boolean> => {
      const queued = (work: Effect.Effect<boolean>) => hashing.run(work, proceed, Effect.succeed(false))
      if (account === undefined)
        return dummy === undefined ? verifyPassword(decoy, given) : queued(verifyPassword(decoy, given))
      if (account.hashed) return queued(verifyPassword(account.password, given))
      if (dummy === undefined) return verifyPassword(account.password, given)
      return queued(Effect.zipRight(verifyPassword(dummy, given), verifyPassword(account.password, given)))
    }
    const wrong = new AuthFailed({ message: AuthMessages.wrongCredentials })
    const authenticate = (
      username: string,
      password: string,
      proceed?: () => boolean
    ): Effect.Effect<SessionUser, AuthFailed> => {
      if (!options.enableAuth) {
        if (username !== "" || password !== "")
          return Effect.fail(new AuthFailed({ message: AuthMessages.authDisabled }))
        return root
          ? Effect.succeed(root.user)
          : Effect.fail(new AuthFailed({ message: AuthMessages.userNotFound("root") }))
      }
      if (username === "" || password === "")
        return Effect.fail(new AuthFailed({ message: AuthMessages.missingCredentials }))
      const account = accounts.get(username)
      return check(account, password, proceed).pipe(
        Effect.flatMap((ok) => (ok && account ? Effect.succeed(account.user) : Effect.fail(wrong)))
      )
    }
    return { authenticate, anonymousUser: options.enableAuth ? undefined : root?.user }
  }

  /** Accounts from the server configuration. */
  static layer: Layer.Layer<Accounts, never, ServerConfig> = Layer.effect(
    Accounts,
    Effect.map(ServerConfig, (c) => Accounts.make({ enableAuth: c.security.enable_auth, users: c.security.users }))
  )
}

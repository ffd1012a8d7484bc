/**
 * The configured user accounts and the authentication decision of Fleare's handshake (`security.enable_auth`,
 * `security.users`). Failures carry Fleare's exact messages; the connection prefixes `ConnectionFailed: `.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ServerConfig } from "../config/ServerConfig.js"
import { AuthFailed } from "../errors.js"
import { verifyPassword } from "./Password.js"
import { parseRole } from "./Role.js"
import type { SessionUser } from "./Session.js"

/** Fleare's handshake failure texts. */
export const AuthMessages = {
  missingCredentials: "failed to authenticate, please ensure your username and password are provided",
  wrongCredentials: "The username or password you entered is incorrect. Please try again with valid credentials.",
  authDisabled:
    "it looks like you entered a username or password but the server isn\u2019t using authentication right now",
  invalidArguments: "invalid arguments",
  userNotFound: (name: string) => `user not found ${name}`
} as const

interface Account {
  readonly username: string
  readonly password: string
  readonly user: SessionUser
}

/** The accounts service. */
export interface AccountsShape {
  /** Decides an AUTH with these credentials (Fleare's table, §2.1 of the spec). */
  readonly authenticate: (username: string, password: string) => Effect.Effect<SessionUser, AuthFailed>
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
      accounts.set(u.username, { username: u.username, password: u.password, user: { username: u.username, role } })
    }
    const root = accounts.get("root")
    // Compared against when the user does not exist, so a wrong user costs the same time as a wrong password.
    const decoy = root?.password ?? "decoy"
    const wrong = new AuthFailed({ message: AuthMessages.wrongCredentials })
    const authenticate = (username: string, password: string): Effect.Effect<SessionUser, AuthFailed> => {
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
      return verifyPassword(account?.password ?? decoy, password).pipe(
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

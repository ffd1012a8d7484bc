import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { ServerConfig } from "../../src/config/ServerConfig.js"
import { Accounts, type AccountsShape, AuthMessages } from "../../src/session/Accounts.js"
import { hashPassword } from "../../src/session/Password.js"

const users = [
  { username: "root", password: "root", role: "root" },
  { username: "admin", password: "adm1n", role: "Admin" },
  { username: "reader", password: "r", role: "ReadOnly" }
]

/** The failure message of an AUTH, or "" when it succeeded. */
const failureOf = (accounts: AccountsShape, user: string, password: string) =>
  accounts.authenticate(user, password).pipe(Effect.match({ onFailure: (e) => e.message, onSuccess: () => "" }))

const wrong = "The username or password you entered is incorrect. Please try again with valid credentials."
const missing = "failed to authenticate, please ensure your username and password are provided"
const disabled =
  "it looks like you entered a username or password but the server isn\u2019t using authentication right now"

describe("Accounts", () => {
  it("AuthMessages are Fleare's exact texts", () => {
    expect(AuthMessages.wrongCredentials).toBe(wrong)
    expect(AuthMessages.missingCredentials).toBe(missing)
    expect(AuthMessages.authDisabled).toBe(disabled)
    expect(AuthMessages.authDisabled).toContain("isn\u2019t")
    expect(AuthMessages.invalidArguments).toBe("invalid arguments")
    expect(AuthMessages.userNotFound("root")).toBe("user not found root")
  })

  describe("enable_auth: true", () => {
    const accounts = Accounts.make({ enableAuth: true, users })

    it("has no anonymous user", () => {
      expect(accounts.anonymousUser).toBeUndefined()
    })

    it.effect("empty username or password: missing credentials", () =>
      Effect.gen(function* () {
        const e = yield* Effect.flip(accounts.authenticate("", ""))
        expect(e._tag).toBe("AuthFailed")
        expect(e.message).toBe(missing)
        expect(yield* failureOf(accounts, "root", "")).toBe(missing)
        expect(yield* failureOf(accounts, "", "root")).toBe(missing)
        expect(yield* failureOf(accounts, "nobody", "")).toBe(missing)
      })
    )

    it.effect("wrong password: incorrect credentials", () =>
      Effect.gen(function* () {
        const e = yield* Effect.flip(accounts.authenticate("root", "toor"))
        expect(e._tag).toBe("AuthFailed")
        expect(e.message).toBe(wrong)
        expect(yield* failureOf(accounts, "root", "Root")).toBe(wrong)
        expect(yield* failureOf(accounts, "admin", "root")).toBe(wrong)
      })
    )

    it.effect("unknown user answers the same text as a wrong password", () =>
      Effect.gen(function* () {
        expect(yield* failureOf(accounts, "nobody", "root")).toBe(wrong)
        expect(yield* failureOf(accounts, "nobody", "x")).toBe(wrong)
        // Usernames are case-sensitive, as in Fleare.
        expect(yield* failureOf(accounts, "ROOT", "root")).toBe(wrong)
      })
    )

    it.effect("correct credentials: the user with its role", () =>
      Effect.gen(function* () {
        expect(yield* accounts.authenticate("root", "root")).toEqual({ username: "root", role: "root" })
        expect(yield* accounts.authenticate("admin", "adm1n")).toEqual({ username: "admin", role: "Admin" })
        expect(yield* accounts.authenticate("reader", "r")).toEqual({ username: "reader", role: "ReadOnly" })
      })
    )

    it.effect("no root user: others still authenticate, unknown users are still 'incorrect'", () =>
      Effect.gen(function* () {
        const a = Accounts.make({ enableAuth: true, users: [{ username: "alice", password: "pw1", role: "User" }] })
        expect(yield* a.authenticate("alice", "pw1")).toEqual({ username: "alice", role: "User" })
        expect(yield* failureOf(a, "root", "root")).toBe(wrong)
        expect(yield* failureOf(a, "alice", "pw2")).toBe(wrong)
      })
    )
  })

  describe("enable_auth: false", () => {
    const accounts = Accounts.make({ enableAuth: false, users })

    it("gives connections the root user at accept", () => {
      expect(accounts.anonymousUser).toEqual({ username: "root", role: "root" })
    })

    it.effect("empty credentials: the configured root user", () =>
      Effect.gen(function* () {
        expect(yield* accounts.authenticate("", "")).toEqual({ username: "root", role: "root" })
      })
    )

    it.effect("any non-empty credential, even correct ones: auth is off", () =>
      Effect.gen(function* () {
        expect(yield* failureOf(accounts, "root", "root")).toBe(disabled)
        expect(yield* failureOf(accounts, "root", "")).toBe(disabled)
        expect(yield* failureOf(accounts, "", "x")).toBe(disabled)
        expect(yield* failureOf(accounts, "nobody", "wrong")).toBe(disabled)
      })
    )

    it.effect("no root user: empty credentials answer 'user not found root'", () =>
      Effect.gen(function* () {
        const a = Accounts.make({ enableAuth: false, users: [{ username: "alice", password: "pw1", role: "User" }] })
        expect(a.anonymousUser).toBeUndefined()
        expect(yield* failureOf(a, "", "")).toBe("user not found root")
        expect(yield* failureOf(a, "alice", "pw1")).toBe(disabled)
      })
    )
  })

  it.effect("an scrypt-hashed account authenticates with its password only", () =>
    Effect.gen(function* () {
      const hash = yield* hashPassword("s3cret")
      const a = Accounts.make({
        enableAuth: true,
        users: [
          { username: "root", password: hash, role: "root" },
          { username: "bob", password: "plain", role: "User" }
        ]
      })
      expect(yield* a.authenticate("root", "s3cret")).toEqual({ username: "root", role: "root" })
      expect(yield* failureOf(a, "root", "s3cre")).toBe(wrong)
      expect(yield* failureOf(a, "root", hash)).toBe(wrong)
      // Unknown users are checked against root's hash (same cost) and still answer "incorrect".
      expect(yield* failureOf(a, "nobody", "s3cret")).toBe(wrong)
      expect(yield* a.authenticate("bob", "plain")).toEqual({ username: "bob", role: "User" })
    })
  )

  it.effect("roles are parsed case-insensitively into their canonical spelling", () =>
    Effect.gen(function* () {
      const a = Accounts.make({
        enableAuth: true,
        users: [
          { username: "a", password: "p", role: "admin" },
          { username: "b", password: "p", role: "ROOT" },
          { username: "c", password: "p", role: "readonly" },
          { username: "d", password: "p", role: "uSeR" }
        ]
      })
      expect((yield* a.authenticate("a", "p")).role).toBe("Admin")
      expect((yield* a.authenticate("b", "p")).role).toBe("root")
      expect((yield* a.authenticate("c", "p")).role).toBe("ReadOnly")
      expect((yield* a.authenticate("d", "p")).role).toBe("User")
    })
  )

  it("an unknown role is refused, naming it", () => {
    expect(() =>
      Accounts.make({ enableAuth: true, users: [{ username: "x", password: "p", role: "wizard" }] })
    ).toThrow(/wizard/)
  })

  it.effect("Accounts.layer reads security.* from ServerConfig", () =>
    Effect.gen(function* () {
      const accounts = yield* Accounts
      expect(accounts.anonymousUser).toBeUndefined()
      expect(yield* accounts.authenticate("alice", "pw1")).toEqual({ username: "alice", role: "Admin" })
      expect(yield* failureOf(accounts, "root", "root")).toBe(wrong)
    }).pipe(
      Effect.provide(Accounts.layer),
      Effect.provide(
        ServerConfig.layer(
          ServerConfig.unsafeMake({ security: { users: [{ username: "alice", password: "pw1", role: "admin" }] } })
        )
      )
    )
  )
})

describe("equal cost whatever the stored form (issue 10)", () => {
  /** The median wall time of `n` AUTH attempts. */
  const medianMs = async (accounts: AccountsShape, user: string, password: string, n = 3): Promise<number> => {
    const times: Array<number> = []
    for (let i = 0; i < n; i++) {
      const t0 = performance.now()
      await Effect.runPromise(failureOf(accounts, user, password))
      times.push(performance.now() - t0)
    }
    return times.sort((a, b) => a - b)[Math.floor(n / 2)]!
  }

  it("unknown users and plain-password users cost one scrypt derivation, like a hashed user", async () => {
    const hash = await Effect.runPromise(hashPassword("secret"))
    const accounts = Accounts.make({
      enableAuth: true,
      users: [
        { username: "root", password: "root", role: "root" },
        { username: "hashed", password: hash, role: "User" }
      ]
    })
    expect(await Effect.runPromise(failureOf(accounts, "hashed", "secret"))).toBe("")
    expect(await Effect.runPromise(failureOf(accounts, "root", "root"))).toBe("")
    const hashedMs = await medianMs(accounts, "hashed", "wrong")
    const unknownMs = await medianMs(accounts, "nobody", "wrong")
    const plainMs = await medianMs(accounts, "root", "wrong")
    // An scrypt derivation takes tens of milliseconds; a plain comparison microseconds. The ratio is generous
    // (the machine is shared): without the dummy derivation it would be about 1/1000.
    expect(unknownMs).toBeGreaterThan(hashedMs * 0.3)
    expect(plainMs).toBeGreaterThan(hashedMs * 0.3)
  }, 20_000)
})

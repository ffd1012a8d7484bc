import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { DEFAULT_SCRYPT, hashPassword, parseScryptHash, verifyPassword } from "../../src/session/Password.js"

describe("Password", () => {
  it.effect("a hash verifies its password and nothing else", () =>
    Effect.gen(function* () {
      const hash = yield* hashPassword("s3cret pass")
      expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/]+=*\$[A-Za-z0-9+/]+=*$/)
      const parsed = parseScryptHash(hash)
      expect(parsed?.salt.length).toBe(16)
      expect(parsed?.key.length).toBe(DEFAULT_SCRYPT.keyLength)
      expect(yield* verifyPassword(hash, "s3cret pass")).toBe(true)
      expect(yield* verifyPassword(hash, "s3cret pas")).toBe(false)
      expect(yield* verifyPassword(hash, "S3cret pass")).toBe(false)
      expect(yield* verifyPassword(hash, "")).toBe(false)
      // The hash itself is not a password that opens it.
      expect(yield* verifyPassword(hash, hash)).toBe(false)
    })
  )

  it.effect("two hashes of one password differ (random salt) and both verify", () =>
    Effect.gen(function* () {
      const a = yield* hashPassword("same")
      const b = yield* hashPassword("same")
      expect(a).not.toBe(b)
      expect(parseScryptHash(a)?.salt.equals(parseScryptHash(b)!.salt)).toBe(false)
      expect(yield* verifyPassword(a, "same")).toBe(true)
      expect(yield* verifyPassword(b, "same")).toBe(true)
    })
  )

  it.effect("plain passwords compare exactly", () =>
    Effect.gen(function* () {
      expect(yield* verifyPassword("root", "root")).toBe(true)
      expect(yield* verifyPassword("root", "Root")).toBe(false)
      expect(yield* verifyPassword("root", "root ")).toBe(false)
      expect(yield* verifyPassword("root", "roo")).toBe(false)
      expect(yield* verifyPassword("root", "")).toBe(false)
      expect(yield* verifyPassword("", "")).toBe(true)
      expect(yield* verifyPassword("pässwörd €", "pässwörd €")).toBe(true)
      expect(yield* verifyPassword("a$b$c", "a$b$c")).toBe(true)
    })
  )

  it.effect("a malformed scrypt$ string is a plain password", () =>
    Effect.gen(function* () {
      const malformed = [
        "scrypt$",
        "scrypt$abc",
        "scrypt$32768$8$1$c2FsdA==", // five parts
        "scrypt$32768$8$1$c2FsdA==$a2V5$extra", // seven parts
        "scrypt$0$8$1$c2FsdA==$a2V5", // N not positive
        "scrypt$x$8$1$c2FsdA==$a2V5", // N not a number
        "scrypt$32768$8$1.5$c2FsdA==$a2V5", // p not an integer
        "scrypt$32768$8$1$$a2V5", // empty salt
        "scrypt$32768$8$1$c2FsdA==$", // empty key
        "SCRYPT$32768$8$1$c2FsdA==$a2V5" // prefix is case-sensitive
      ]
      for (const stored of malformed) {
        expect(parseScryptHash(stored)).toBeUndefined()
        expect(yield* verifyPassword(stored, stored)).toBe(true)
        expect(yield* verifyPassword(stored, "a2V5")).toBe(false)
      }
    })
  )

  it.effect("costs scrypt refuses or that are too large are not taken as hashes (the config refuses them)", () =>
    Effect.gen(function* () {
      expect(parseScryptHash("scrypt$3$8$1$c2FsdA==$a2V5")).toBeUndefined() // N not a power of two
      expect(parseScryptHash("scrypt$1099511627776$8$1$c2FsdA==$a2V5")).toBeUndefined() // N over 2^20
      expect(parseScryptHash("scrypt$2097152$8$1$c2FsdA==$a2V5")).toBeUndefined()
      expect(parseScryptHash("scrypt$1048576$8$1$c2FsdA==$a2V5")).toBeDefined()
    })
  )

  it.effect("a parseable hash whose parameters node's scrypt refuses never matches, and is no defect", () =>
    Effect.gen(function* () {
      const stored = "scrypt$16$8$99999999$c2FsdA==$a2V5" // p far over what node's memory limit allows
      expect(parseScryptHash(stored)).toBeDefined()
      expect(yield* verifyPassword(stored, stored)).toBe(false)
      expect(yield* verifyPassword(stored, "anything")).toBe(false)
    })
  )

  it.effect("a hash with its own cost parameters verifies with them", () =>
    Effect.gen(function* () {
      const hash = yield* hashPassword("pw")
      const h = parseScryptHash(hash)!
      // Fewer key bytes in the stored hash: the derived key is compared at the stored length.
      const truncated = `scrypt$${h.N}$${h.r}$${h.p}$${h.salt.toString("base64")}$${h.key.subarray(0, 16).toString("base64")}`
      expect(yield* verifyPassword(truncated, "pw")).toBe(true)
      expect(yield* verifyPassword(truncated, "px")).toBe(false)
    })
  )
})

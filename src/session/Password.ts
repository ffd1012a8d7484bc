/**
 * Stored passwords: plain text (as Fleare keeps them) or an scrypt hash written
 * `scrypt$<N>$<r>$<p>$<salt, base64>$<key, base64>` (what `npm run hash-password` prints).
 * Every comparison takes the same time whatever the input, so timing reveals nothing about the password.
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto"
import * as Effect from "effect/Effect"

/** scrypt cost parameters for new hashes: N=2^15, r=8, p=1 (about 32 MiB and tens of milliseconds). */
export const DEFAULT_SCRYPT = { N: 32768, r: 8, p: 1, keyLength: 32 } as const

interface ScryptHash {
  readonly N: number
  readonly r: number
  readonly p: number
  readonly salt: Buffer
  readonly key: Buffer
}

/** The largest scrypt cost accepted from a config: 2^20 already takes seconds and 1 GiB per AUTH. */
export const MAX_SCRYPT_N = 1 << 20

/** Parses `scrypt$N$r$p$salt$key`; undefined when `stored` is not in that format. */
export const parseScryptHash = (stored: string): ScryptHash | undefined => {
  const parts = stored.split("$")
  if (parts.length !== 6 || parts[0] !== "scrypt") return undefined
  const [N, r, p] = [Number(parts[1]), Number(parts[2]), Number(parts[3])]
  if (![N, r, p].every((n) => Number.isSafeInteger(n) && n > 0)) return undefined
  if (N > MAX_SCRYPT_N || (N & (N - 1)) !== 0 || r * p >= 1 << 30) return undefined
  const salt = Buffer.from(parts[4]!, "base64")
  const key = Buffer.from(parts[5]!, "base64")
  if (salt.length === 0 || key.length === 0) return undefined
  return { N, r, p, salt, key }
}

const scryptKey = (password: string, h: Omit<ScryptHash, "key">, keyLength: number): Effect.Effect<Buffer, Error> =>
  Effect.async<Buffer, Error>((resume) => {
    try {
      // maxmem must cover 128 * N * r bytes, or node refuses large N.
      scrypt(
        password,
        h.salt,
        keyLength,
        { N: h.N, r: h.r, p: h.p, maxmem: 256 * h.N * h.r + 1024 * 1024 },
        (err, key) => resume(err ? Effect.fail(err) : Effect.succeed(key))
      )
    } catch (e) {
      // node throws at once (not through the callback) for parameters it refuses, e.g. N not a power of two.
      resume(Effect.fail(e instanceof Error ? e : new Error(String(e))))
    }
  })

/** Hashes a password for the config file. */
export const hashPassword = (password: string): Effect.Effect<string, Error> =>
  Effect.gen(function* () {
    const salt = randomBytes(16)
    const { N, r, p, keyLength } = DEFAULT_SCRYPT
    const key = yield* scryptKey(password, { N, r, p, salt }, keyLength)
    return `scrypt$${N}$${r}$${p}$${salt.toString("base64")}$${key.toString("base64")}`
  })

const digest = (s: string | Buffer): Buffer => createHash("sha256").update(s).digest()

/**
 * Does `given` match `stored`? Plain passwords compare as SHA-256 digests with `timingSafeEqual` (equal length
 * whatever the inputs); scrypt hashes derive the key and compare it in constant time.
 */
export const verifyPassword = (stored: string, given: string): Effect.Effect<boolean> => {
  const hash = parseScryptHash(stored)
  if (hash === undefined) return Effect.sync(() => timingSafeEqual(digest(stored), digest(given)))
  return scryptKey(given, hash, hash.key.length).pipe(
    Effect.map((key) => timingSafeEqual(digest(key), digest(hash.key))),
    Effect.orElseSucceed(() => false)
  )
}

/**
 * Argument rules shared by the command families: key validation, Fleare's argument-to-value conversion
 * ("EnsureUnmarshal") and Go's integer parsing.
 */
import { fail, type CommandFailed } from "../errors.js"
import type { Json } from "../protocol/gojson/Json.js"
import { parse } from "../protocol/gojson/Parse.js"

/** Fleare's text for a key that is empty or longer than 200 bytes. */
export const KEY_ERROR_TEXT = "invalid key, must be a string and at least 1 to 200 characters long"

/** A key must be 1 to 200 bytes of UTF-8. Returns the error to answer, or undefined when the key is fine. */
export const checkKey = (key: string): CommandFailed | undefined => {
  // Fast path: a short string cannot be over 200 bytes even if every char takes 3 bytes (BMP) or 4 (pairs).
  if (key.length > 0 && key.length <= 50) return undefined
  const bytes = Buffer.byteLength(key)
  return bytes >= 1 && bytes <= 200 ? undefined : fail.key(KEY_ERROR_TEXT)
}

/** `InvalidKeyError: Key must be provided`, the common zero-argument error. */
export const keyMustBeProvided = (): CommandFailed => fail.key("Key must be provided")

/**
 * Fleare's EnsureUnmarshal: an argument that parses as JSON becomes that JSON value (`2` → 2, `true`,
 * `null`, `"A"` → "A", `{"x":1}`), anything else stays a plain string (`a`, `007`).
 */
export const ensureUnmarshal = (arg: string): Json => {
  const r = parse(arg)
  return r.ok ? r.value : arg
}

const INT_RE = /^[+-]?\d+$/

/**
 * Go's `strconv.Atoi` on 64-bit: optional sign and decimal digits, within the int64 range. Returns undefined
 * when it would fail. Values beyond 2^53 lose precision, as nothing here needs them exact.
 */
export const parseGoInt = (s: string): number | undefined => {
  if (!INT_RE.test(s)) return undefined
  const n = BigInt(s)
  if (n > 9223372036854775807n || n < -9223372036854775808n) return undefined
  return Number(n)
}

/**
 * Fleare's usual order of argument checks for a keyed command: no args → `InvalidKeyError: Key must be
 * provided`; a count `countOk` refuses → `InvalidArgumentError: <arityText>`; then the key itself. Returns the
 * error to answer, or undefined when the arguments are fine.
 */
export const checkKeyedArgs = (
  args: ReadonlyArray<string>,
  countOk: (count: number) => boolean,
  arityText: string
): CommandFailed | undefined => {
  if (args.length === 0) return keyMustBeProvided()
  if (!countOk(args.length)) return fail.argument(arityText)
  return checkKey(args[0]!)
}

/** For commands that take any number of arguments after the key. */
export const anyCount = (): boolean => true

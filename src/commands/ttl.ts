/**
 * Expiry commands: TTL, TTL.EXPIRE.
 */
import { fail } from "../errors.js"
import { checkKey } from "./args.js"
import { type CommandSpec, syncCommand } from "./Command.js"
import { parseDurationSeconds } from "./duration.js"

const NANOS_PER_SECOND = 1_000_000_000n

const ttl = syncCommand({
  name: "TTL",
  syntax: "TTL <key>",
  summary: "Returns the seconds a key has left, -1 if it has no expiry, -2 if it does not exist.",
  class: "read",
  run: (ctx, args) => {
    if (args.length !== 1) return fail.argument("Key must be provided")
    const key = args[0]!
    const bad = checkKey(key)
    if (bad !== undefined) return bad
    const entry = ctx.services.keyspace.get(key, ctx.now)
    if (entry === undefined) return "-2"
    if (entry.expiresAt === 0n) return "-1"
    // Whole seconds rounded up: a key given 10 s answers 10 until a full second has passed, and a live key
    // never answers 0 (Fleare subtracts unix seconds, which gives the same 10 right after TTL.EXPIRE k 10).
    const remaining = entry.expiresAt - ctx.now
    return String((remaining + NANOS_PER_SECOND - 1n) / NANOS_PER_SECOND)
  }
})

const expire = syncCommand({
  name: "TTL.EXPIRE",
  syntax: "TTL.EXPIRE <key> <seconds[s]|minutes[m]|hours[h]|days[d]>",
  summary: "Sets a key's time to live (0 or less removes it): 1 if the key exists, 0 if not.",
  class: "write",
  run: (ctx, args) => {
    if (args.length !== 2)
      return fail.argument(
        "Key and time must be provided, default seconds, Syntax: TTL.EXPIRE <key> <seconds[s]|minutes[m]|hours[h]|days[d]>"
      )
    const key = args[0]!
    // Fleare parses the duration before it checks the key.
    const seconds = parseDurationSeconds(args[1]!)
    if (seconds === undefined) return fail.argument("Invalid time value provided")
    const bad = checkKey(key)
    if (bad !== undefined) return bad
    const expiresAt = seconds > 0n ? ctx.now + seconds * NANOS_PER_SECOND : 0n
    return ctx.services.keyspace.expire(key, expiresAt, ctx.now) ? "1" : "0"
  }
})

/** The expiry commands. */
export const ttlCommands: ReadonlyArray<CommandSpec> = [ttl, expire]

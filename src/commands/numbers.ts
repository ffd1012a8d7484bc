/**
 * Number commands: NUM.SET, NUM.GET, NUM.INCR, NUM.DECR (SPEC §4.3, §3.3), with Part A.3's fixes: NUM.GET on
 * a missing key answers ``, NUM.DECR on a missing key stores `-delta`, and INCR/DECR are atomic per key.
 *
 * Numbers are parsed as Fleare does (Go's ParseInt, then ParseFloat: see store/GoNumber.ts), kept as float64
 * and written as Go's JSON of a float64 (`42`, `43.5`, `1e+21`; `007` → `7`). Non-finite values (`NaN`, `Inf`,
 * `-Infinity`, and `1e400`, which Go's ParseFloat refuses as out of range) answer "not a valid number": Go's
 * json.Marshal fails on NaN/±Inf and Fleare silently stored an empty value. The same error answers an INCR/DECR
 * whose result overflows to ±Inf, and the stored value is left unchanged.
 *
 * Kinds: NUM.GET/INCR/DECR answer the "must be a number" error for any existing key that is not of kind Number,
 * including a value written by SET (kind Default), as Fleare's `store.Number != obj.Kind` test does. NUM.SET
 * overwrites a key of any kind. Every write stores a new value, which discards the key's TTL (§4.7).
 */
import { fail, type CommandFailed } from "../errors.js"
import { formatNumber } from "../protocol/gojson/Marshal.js"
import { parseStorableNumber } from "../store/GoNumber.js"
import { checkKeyedArgs } from "./args.js"
import { syncCommand, type CommandContext, type CommandSpec } from "./Command.js"

const INVALID_ARGS = "invalid number of arguments"
const NOT_A_NUMBER = "provided value is not a valid number"
const MUST_BE_NUMBER = "the existing value for the provided key must be a number"

/** The live entry's number, or the kind error; `undefined` for a missing key. */
const readNumber = (ctx: CommandContext, key: string): number | CommandFailed | undefined => {
  const e = ctx.services.keyspace.get(key, ctx.now)
  if (e === undefined) return undefined
  return e.value.kind === "Number" ? e.value.value : fail.value(MUST_BE_NUMBER)
}

/** Stores a float64 under `key` and answers its text, or the memory limit's refusal. */
const store = (ctx: CommandContext, key: string, value: number): string | CommandFailed =>
  ctx.services.keyspace.set(key, { kind: "Number", value }, ctx.now) ?? formatNumber(value)

const numSet = syncCommand({
  name: "NUM.SET",
  syntax: "NUM.SET <key> <number>",
  summary: "Stores a number (integer or float) under the key, replacing any value (and its TTL).",
  class: "write",
  run: (ctx, args) => {
    const bad = checkKeyedArgs(args, (n) => n === 2, INVALID_ARGS)
    if (bad) return bad
    const key = args[0]!
    const value = parseStorableNumber(args[1]!)
    if (value === undefined) return fail.value(NOT_A_NUMBER)
    const e = store(ctx, key, value)
    return typeof e === "string" ? "" : e
  }
})

const numGet = syncCommand({
  name: "NUM.GET",
  syntax: "NUM.GET <key>",
  summary: "Returns the number stored under the key, or an empty result if it is missing.",
  class: "read",
  run: (ctx, args) => {
    const bad = checkKeyedArgs(args, (n) => n === 1, INVALID_ARGS)
    if (bad) return bad
    const key = args[0]!
    // Fleare dereferenced nil here and the server died; A.3 answers an empty result.
    const n = readNumber(ctx, key)
    if (n === undefined) return ""
    return typeof n === "number" ? formatNumber(n) : n
  }
})

/** NUM.INCR (sign 1) and NUM.DECR (sign -1): the same checks in Fleare's order, then one atomic update. */
const step = (name: string, verb: string, sign: 1 | -1) =>
  syncCommand({
    name,
    syntax: `${name} <key> [delta]`,
    summary: `${verb} the number under the key by delta (default 1) and returns it; a missing key counts as 0.`,
    class: "write",
    run: (ctx, args) => {
      const bad = checkKeyedArgs(args, (n) => n <= 2, INVALID_ARGS)
      if (bad) return bad
      const key = args[0]!
      // Fleare validates the delta before looking at the key.
      const delta = args.length === 2 ? parseStorableNumber(args[1]!) : 1
      if (delta === undefined) return fail.value(NOT_A_NUMBER)
      const current = readNumber(ctx, key)
      if (typeof current === "object") return current
      // A missing key: INCR stores +delta as Fleare does; DECR stores -delta (A.3; Fleare stored +delta), computed
      // as 0 - delta so that `NUM.DECR k 0` gives 0 rather than -0.
      const base = current ?? 0
      const next = sign === 1 ? (current === undefined ? delta : base + delta) : base - delta
      if (!Number.isFinite(next)) return fail.value(NOT_A_NUMBER)
      return store(ctx, key, next)
    }
  })

/** The NUM.* commands. */
export const numberCommands: ReadonlyArray<CommandSpec> = [
  numSet,
  numGet,
  step("NUM.INCR", "Increments", 1),
  step("NUM.DECR", "Decrements", -1)
]

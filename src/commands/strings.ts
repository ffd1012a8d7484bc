/**
 * String commands: STR.SET, STR.GET, STR.APPEND, STR.LENGTH, STR.RANGE (SPEC §4.2), with Part A.3's fixes:
 * STR.GET on a missing key answers `` and STR.RANGE clamps any start instead of crashing.
 *
 * Kinds: every STR.* command except STR.SET checks an existing key's kind and answers the "must be a string"
 * error for anything but kind String, including a value written by SET (kind Default), exactly as Fleare's
 * `store.String != obj.Kind` test does (§3.2: "each command checks the kind"). STR.SET, like SET, overwrites a
 * key of any kind. Every write stores a new value, which discards the key's TTL (§4.7).
 */
import { CommandFailed, fail } from "../errors.js"
import { anyCount, checkKeyedArgs, parseGoInt } from "./args.js"
import { syncCommand, type CommandContext, type CommandSpec } from "./Command.js"

const INVALID_ARGS = "invalid number of arguments"
const MUST_BE_STRING = "the existing value for the provided key must be a string"

/** Fleare's common preamble: no args, then an exact count, then the key (in that order). */
const checkArgs = (args: ReadonlyArray<string>, count: number): CommandFailed | undefined =>
  checkKeyedArgs(args, (n) => n === count, INVALID_ARGS)

/** The live entry's string, or the kind error; `undefined` for a missing key. */
const readString = (ctx: CommandContext, key: string): string | CommandFailed | undefined => {
  const e = ctx.services.keyspace.get(key, ctx.now)
  if (e === undefined) return undefined
  return e.value.kind === "String" ? e.value.value : fail.value(MUST_BE_STRING)
}

// Any UTF-16 surrogate means the string has code points beyond the BMP, so runes and UTF-16 units differ.
const SURROGATE = /[\ud800-\udfff]/

/**
 * Fleare's STR.RANGE on runes (code points): (1) a negative start counts from the end; (2) a negative length
 * means "to the end", else end = start + length; (3) clamp start to ≥ 0, end to ≤ the rune count, start to ≤
 * the rune count. Fleare then sliced `runes[start:end]`, which panicked when a start far below zero left end
 * below the clamped start (`-100 4`); here that range is simply empty. The offsets are whole int64 values and
 * the sums are exact (BigInt), so `-9223372036854775808 9223372036854775807` still means "end = count - 1",
 * with no float rounding and no int64 wrap-around.
 */
export const runeRange = (value: string, start: bigint, length: bigint): string => {
  const runes = SURROGATE.test(value) ? Array.from(value) : undefined
  const count = BigInt(runes === undefined ? value.length : runes.length)
  let from = start < 0n ? start + count : start
  let to = length < 0n ? count : from + length
  if (from < 0n) from = 0n
  if (to > count) to = count
  if (from > count) from = count
  if (to <= from) return ""
  return runes === undefined ? value.slice(Number(from), Number(to)) : runes.slice(Number(from), Number(to)).join("")
}

/** A STR.RANGE offset: Go's `strconv.Atoi` (sign and decimal digits within int64), exact. */
const offset = (arg: string): bigint | undefined => (parseGoInt(arg) === undefined ? undefined : BigInt(arg))

const strSet = syncCommand({
  name: "STR.SET",
  syntax: "STR.SET <key> <value>",
  summary: "Stores a string under the key, replacing any value (and its TTL).",
  class: "write",
  run: (ctx, args) => {
    const bad = checkArgs(args, 2)
    if (bad) return bad
    const e = ctx.services.keyspace.set(args[0]!, { kind: "String", value: args[1]! }, ctx.now)
    return e ?? ""
  }
})

const strGet = syncCommand({
  name: "STR.GET",
  syntax: "STR.GET <key>",
  summary: "Returns the string stored under the key, or an empty result if it is missing.",
  class: "read",
  run: (ctx, args) => {
    const bad = checkArgs(args, 1)
    if (bad) return bad
    // Fleare dereferenced nil here and the server died; A.3 answers an empty result.
    return readString(ctx, args[0]!) ?? ""
  }
})

const strAppend = syncCommand({
  name: "STR.APPEND",
  syntax: "STR.APPEND <key> [value ...]",
  summary: "Appends the values to the string under the key (created empty if missing).",
  class: "write",
  run: (ctx, args) => {
    const bad = checkKeyedArgs(args, anyCount, "")
    if (bad) return bad
    const key = args[0]!
    const current = readString(ctx, key)
    if (current instanceof CommandFailed) return current
    const text = args.slice(1).join("")
    const ks = ctx.services.keyspace
    // Read, concatenate and store in this one synchronous call: atomic per key, so no append is lost. On an
    // existing string the append is a change in place: a rope, not a copy, logged as the appended text.
    if (current !== undefined) return ks.mutate(key, { op: "append", text }, ctx.now) ?? ""
    return ks.set(key, { kind: "String", value: text }, ctx.now) ?? ""
  }
})

const strLength = syncCommand({
  name: "STR.LENGTH",
  syntax: "STR.LENGTH <key>",
  summary: "Returns the string's length in UTF-8 bytes, 0 if the key is missing.",
  class: "read",
  run: (ctx, args) => {
    const bad = checkArgs(args, 1)
    if (bad) return bad
    const s = readString(ctx, args[0]!)
    if (s === undefined) return "0"
    // Go's len() of the stored bytes: UTF-8 bytes, not UTF-16 units or code points.
    return typeof s === "string" ? String(Buffer.byteLength(s, "utf8")) : s
  }
})

const strRange = syncCommand({
  name: "STR.RANGE",
  syntax: "STR.RANGE <key> <start> <length>",
  summary: "Returns <length> characters from <start> (negative start counts from the end, negative length to the end).",
  class: "read",
  run: (ctx, args) => {
    const bad = checkArgs(args, 3)
    if (bad) return bad
    const start = offset(args[1]!)
    if (start === undefined) return fail.argument("start offsets must be valid integers")
    const length = offset(args[2]!)
    if (length === undefined) return fail.argument("end offsets must be valid integers")
    const s = readString(ctx, args[0]!)
    if (s === undefined) return fail.notFound("provided key does not exist")
    return typeof s === "string" ? runeRange(s, start, length) : s
  }
})

/** The STR.* commands. */
export const stringCommands: ReadonlyArray<CommandSpec> = [strSet, strGet, strAppend, strLength, strRange]

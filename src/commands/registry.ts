/**
 * The command table: every command by its upper-case name. Dispatch, role checks and help text all come
 * from here, so it is the one place a command is declared.
 */
import { hasNonAscii } from "../protocol/Utf8.js"
import type { CommandSpec } from "./Command.js"
import { jsonCommands } from "./json.js"
import { keyCommands } from "./keys.js"
import { listCommands } from "./lists.js"
import { mapCommands } from "./maps.js"
import { numberCommands } from "./numbers.js"
import { pubsubCommands } from "./pubsub.js"
import { statusCommands } from "./status.js"
import { stringCommands } from "./strings.js"
import { ttlCommands } from "./ttl.js"
import { systemCommands } from "./system.js"

/** Every command, in documentation order. */
export const allCommands: ReadonlyArray<CommandSpec> = [
  ...systemCommands,
  ...keyCommands,
  ...stringCommands,
  ...numberCommands,
  ...listCommands,
  ...mapCommands,
  ...jsonCommands,
  ...ttlCommands,
  ...statusCommands,
  ...pubsubCommands
]

/** Commands by upper-case name. */
export const commandTable: ReadonlyMap<string, CommandSpec> = new Map(allCommands.map((c) => [c.name, c]))

/** Finds a command by name, any case. */
export const lookupCommand = (name: string): CommandSpec | undefined =>
  commandTable.get(name) ?? commandTable.get(name.toUpperCase())

/** An ASCII name as lower-case bytes. */
const lowerBytes = (name: string): Uint8Array => Buffer.from(name.toLowerCase(), "latin1")

/** Whether `buf[start, end)` is the ASCII name `lower` (lower-case bytes), ignoring case. */
const bytesMatch = (buf: Buffer, start: number, end: number, lower: Uint8Array): boolean => {
  if (end - start !== lower.length) return false
  for (let i = 0; i < lower.length; i++) {
    const b = buf[start + i]!
    // Upper-case ASCII letters compare as lower-case; every other byte compares as itself.
    if ((b >= 0x41 && b <= 0x5a ? b | 0x20 : b) !== lower[i]) return false
  }
  return true
}

/** The command table by name length, each name as lower-case bytes. */
const byLength: ReadonlyArray<ReadonlyArray<readonly [Uint8Array, CommandSpec]> | undefined> = (() => {
  const table: Array<Array<readonly [Uint8Array, CommandSpec]>> = []
  for (const spec of allCommands) (table[spec.name.length] ??= []).push([lowerBytes(spec.name), spec])
  return table
})()

/**
 * `lookupCommand` on the bytes of a name, `buf[start, end)`, without making a string (the per-request path): an
 * ASCII name is matched byte by byte against the names of its length; any other goes through `lookupCommand`,
 * whose Unicode upper-casing can still map it to a command name (`ſet` is SET, as in Go's `strings.ToUpper`).
 */
export const lookupCommandBytes = (buf: Buffer, start: number, end: number): CommandSpec | undefined => {
  if (hasNonAscii(buf, start, end)) return lookupCommand(buf.toString("utf8", start, end))
  const candidates = byLength[end - start]
  if (candidates === undefined) return undefined
  for (const [lower, spec] of candidates) if (bytesMatch(buf, start, end, lower)) return spec
  return undefined
}

const AUTH = lowerBytes("auth")

/** Whether the name `buf[start, end)` is AUTH, in any case (the same upper-casing as `lookupCommand`). */
export const isAuthBytes = (buf: Buffer, start: number, end: number): boolean =>
  hasNonAscii(buf, start, end)
    ? buf.toString("utf8", start, end).toUpperCase() === "AUTH"
    : bytesMatch(buf, start, end, AUTH)

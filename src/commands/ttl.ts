/**
 * Expiry commands: TTL, TTL.EXPIRE.
 */
import type { CommandSpec } from "./Command.js"

/** (stub: filled in by the keyspace work) */
export const ttlCommands: ReadonlyArray<CommandSpec> = []

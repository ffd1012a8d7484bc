/**
 * STATUS: the server's and shards' state.
 */
import type { CommandSpec } from "./Command.js"

/** (stub: filled in by the keyspace work) */
export const statusCommands: ReadonlyArray<CommandSpec> = []

/**
 * Generic key commands: SET, GET, EXISTS, DELETE.
 */
import type { CommandSpec } from "./Command.js"

/** (stub: filled in by the keyspace work) */
export const keyCommands: ReadonlyArray<CommandSpec> = []

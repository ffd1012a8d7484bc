/**
 * Number commands: NUM.SET, NUM.GET, NUM.INCR, NUM.DECR.
 */
import type { CommandSpec } from "./Command.js"

/** (stub: filled in by the keyspace work) */
export const numberCommands: ReadonlyArray<CommandSpec> = []

/**
 * String commands: STR.SET, STR.GET, STR.APPEND, STR.LENGTH, STR.RANGE.
 */
import type { CommandSpec } from "./Command.js"

/** (stub: filled in by the keyspace work) */
export const stringCommands: ReadonlyArray<CommandSpec> = []

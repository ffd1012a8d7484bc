/**
 * Map commands: MAP.SET, MAP.CSET, MAP.GET, MAP.DEL.
 */
import type { CommandSpec } from "./Command.js"

/** (stub: filled in by the keyspace work) */
export const mapCommands: ReadonlyArray<CommandSpec> = []

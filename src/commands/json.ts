/**
 * JSON document commands: JSON.SET, JSON.GET, JSON.PGET, JSON.ADD, JSON.MERGE, JSON.REMOVE, JSON.SETREF.
 */
import type { CommandSpec } from "./Command.js"

/** (stub: filled in by the keyspace work) */
export const jsonCommands: ReadonlyArray<CommandSpec> = []

/**
 * List commands: LIST.SET, LIST.PUSH, LIST.ISET, LIST.GET, LIST.LEN, LIST.POP, LIST.GPOP, LIST.FIND, LIST.UPDATE.
 */
import type { CommandSpec } from "./Command.js"

/** (stub: filled in by the keyspace work) */
export const listCommands: ReadonlyArray<CommandSpec> = []

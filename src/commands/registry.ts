/**
 * The command table: every command by its upper-case name. Dispatch, role checks and help text all come
 * from here, so it is the one place a command is declared.
 */
import type { CommandSpec } from "./Command.js"
import { jsonCommands } from "./json.js"
import { keyCommands } from "./keys.js"
import { listCommands } from "./lists.js"
import { mapCommands } from "./maps.js"
import { numberCommands } from "./numbers.js"
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
  ...statusCommands
]

/** Commands by upper-case name. */
export const commandTable: ReadonlyMap<string, CommandSpec> = new Map(allCommands.map((c) => [c.name, c]))

/** Finds a command by name, any case. */
export const lookupCommand = (name: string): CommandSpec | undefined =>
  commandTable.get(name) ?? commandTable.get(name.toUpperCase())

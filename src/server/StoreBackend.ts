/**
 * The seam where a shared store (the Redis Cluster backend) plugs into the server. Without it the server runs
 * the command table as is over the in-memory `Keyspace` (the hot path, untouched). With it, chosen once at
 * startup: each command may be replaced by the backend's version (e.g. an Effect that fetches the keys a command
 * reads, runs the unchanged command over them and commits its writes), client ids are numbered cluster-wide, and
 * the backend gets the connection registry (to close a connection whose session another server killed).
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { CommandSpec } from "../commands/Command.js"
import type { ConnectionRegistry } from "./Connections.js"

/** What a store backend changes in the server. */
export interface StoreBackendShape {
  /** The command this backend runs in place of `spec` (called once per command at startup). */
  readonly adapt: (spec: CommandSpec) => CommandSpec
  /** The number `n` of the next client id `<n>-<ip>:<port>`, unique across every server sharing the store. */
  readonly nextClientNumber: () => number
  /** Called once when the server starts, with its live connections; runs for the life of the server's scope. */
  readonly attach: (connections: ConnectionRegistry) => Effect.Effect<void, never, Scope.Scope>
}

/** An optional service: present, the server runs its commands through it. */
export class StoreBackend extends Context.Tag("fleare/StoreBackend")<StoreBackend, StoreBackendShape>() {}

/**
 * The operations view of one server: where it is in its life (for `/health` and `/ready`) and the services its
 * figures are read from at scrape time. It is optional: `FleareServer.layer` and persistence register themselves
 * in it when it is provided (main.ts always provides it) and run exactly the same without it.
 */
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import type { ServerServices } from "../commands/Command.js"
import type { WalStats } from "../persistence/Wal.js"

/**
 * `starting`: the listener is not up yet (the log may be replaying); `serving`: the log is replayed and the
 * listener accepts; `stopping`: a shutdown is under way.
 */
export type Phase = "starting" | "serving" | "stopping"

/** See the module comment. Mutable: the server's layers update it as they come up and go down. */
export class OpsState {
  phase: Phase = "starting"
  /** Set once the server listens. */
  server: ServerServices | undefined = undefined
  /** Set when persistence is on, once the log is open. */
  wal: (() => WalStats) | undefined = undefined

  /** Whether the server is fully up: replayed and listening, not shutting down. */
  get ready(): boolean {
    return this.phase === "serving"
  }
}

/** The operations view as a service. */
export class Ops extends Context.Tag("fleare/Ops")<Ops, OpsState>() {
  /** A fresh view, in phase `starting`. */
  static layer: Layer.Layer<Ops> = Layer.sync(Ops, () => new OpsState())
}

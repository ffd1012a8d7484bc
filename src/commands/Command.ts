/**
 * A command's entry in the table: its name, how it is documented, what class of work it is (for role checks)
 * and its handler. Handlers are plain synchronous functions returning a `Reply` (the hot path: no Effect per
 * request); the few that need an Effect (a service call that may fail or wait) declare `kind: "effect"`.
 */
import type * as Effect from "effect/Effect"
import type { ServerConfigShape } from "../config/ServerConfig.js"
import type { CommandError } from "../errors.js"
import type { NoReply, OkResult, Reply } from "../protocol/Reply.js"
import type { BrokerShape, Subscriber } from "../pubsub/Broker.js"
import { type CommandClass, classBit } from "../session/Role.js"
import type { SessionUser } from "../session/Session.js"
import type { SessionHandle, SessionStoreShape } from "../session/SessionStore.js"
import type { ConnectionRegistry } from "../server/Connections.js"
import type { ListenAddress } from "../server/Transport.js"
import type { KeyspaceShape } from "../store/Keyspace.js"
import type { DurabilityShape } from "../persistence/Durability.js"
import { type CommandStats, newCommandStats } from "../ops/Counters.js"

/** The services a handler may use, resolved once when the server starts. */
export interface ServerServices {
  readonly config: ServerConfigShape
  readonly sessions: SessionStoreShape
  readonly keyspace: KeyspaceShape
  readonly durability: DurabilityShape
  readonly broker: BrokerShape
  readonly connections: ConnectionRegistry
  /** The address the server listens on (the real port when configured with 0). */
  readonly address: () => ListenAddress
  /** Epoch nanoseconds at which the server started. */
  readonly startedAt: bigint
  readonly version: string
}

/** What a handler knows about the request. */
export interface CommandContext {
  /** The connection's client id, which is also its session id. */
  readonly clientId: string
  /** The caller's authenticated user. */
  readonly user: SessionUser
  /** The caller's live session (touched at `now`). */
  readonly session: SessionHandle
  /** When the request was received, in epoch nanoseconds (Effect Clock). */
  readonly now: bigint
  readonly services: ServerServices
  /** The caller's connection as pub/sub sees it. */
  readonly pubsub: PubSubPort
}

/** A connection's pub/sub side, for SUBSCRIBE and UNSUBSCRIBE. */
export interface PubSubPort {
  /** The connection as a subscriber (made on first use; the same one afterwards). */
  readonly subscriber: () => Subscriber
  /** The connection's subscriber if it has one (it has subscribed before). */
  readonly existing: () => Subscriber | undefined
}

interface SpecBase {
  /** Canonical name, upper case (`STR.SET`). */
  readonly name: string
  /** Usage, e.g. `STR.RANGE <key> <start> <length>`. */
  readonly syntax: string
  /** One line saying what it does. */
  readonly summary: string
  /** What it does, for role checks. */
  readonly class: CommandClass
  /** `class` as a bit (`classBit`), tested against the session's role mask on every request. */
  readonly classBit: number
  /** How its runs ended: plain counters the connection bumps, read by `/metrics` (see ops/Counters.ts). */
  readonly stats: CommandStats
}

/** A synchronous command: all of its work happens in one step (atomic per key). */
export interface SyncCommand extends SpecBase {
  readonly kind: "sync"
  readonly run: (ctx: CommandContext, args: ReadonlyArray<string>) => Reply
}

/** A command that needs an Effect (a service that may fail or wait). `NO_REPLY`: send no frame at all. */
export interface EffectCommand extends SpecBase {
  readonly kind: "effect"
  readonly run: (ctx: CommandContext, args: ReadonlyArray<string>) => Effect.Effect<OkResult | NoReply, CommandError>
}

export type CommandSpec = SyncCommand | EffectCommand

/** What a command declares; `kind`, `classBit` and `stats` are added by `syncCommand` and `effectCommand`. */
type Declared<S extends CommandSpec> = Omit<S, "kind" | "stats" | "classBit">

// Every spec is built here, field by field in one order, so that all of them share one hidden class: the request
// path reads `kind`, `classBit`, `run` and `stats` of whichever spec a frame names, and those reads stay monomorphic.
const build = <S extends CommandSpec>(kind: S["kind"], spec: Declared<SyncCommand> | Declared<EffectCommand>): S =>
  ({
    kind,
    name: spec.name,
    syntax: spec.syntax,
    summary: spec.summary,
    class: spec.class,
    classBit: classBit(spec.class),
    run: spec.run,
    stats: newCommandStats()
  }) as S

/** Declares a synchronous command. */
export const syncCommand = (spec: Declared<SyncCommand>): SyncCommand => build<SyncCommand>("sync", spec)

/** Declares a command whose handler returns an Effect. */
export const effectCommand = (spec: Declared<EffectCommand>): EffectCommand => build<EffectCommand>("effect", spec)

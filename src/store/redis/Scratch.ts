/**
 * The keyspace one command runs against on the Redis backend: the entries fetched for it, and the writes it
 * makes, recorded rather than applied. It follows the in-memory keyspace's rules exactly (expiry at `now`, an
 * expiry in the past removes the key, SET clears the expiry), so the unchanged synchronous command answers the
 * same bytes.
 *
 * A key the command reads that was not fetched is noted in `missing` and read as absent: the runner then fetches
 * it and runs the command again from scratch, so the per-command key hints only save round trips. A write needs
 * no read: `set` of a key never fetched is a blind write (SET replaces whatever was there).
 */
import type { CommandFailed } from "../../errors.js"
import type { Entry, KeyspaceObserver, KeyspaceShape, MemoryStats, ShardStats } from "../Keyspace.js"
import { applyMutation, appliesTo, type Mutation, privateCopy } from "../Mutation.js"
import type { Value } from "../Value.js"
import { ANY_VERSION } from "./scripts.js"

/** A fetched key: its entry (undefined if absent) and the version the commit will expect. */
export interface Fetched {
  readonly entry: Entry | undefined
  readonly version: string
}

/** What a command did to one key, as the commit applies it. */
export type Write =
  | { readonly op: "set"; readonly value: Value; readonly expiresAt: bigint; readonly expected: string }
  | { readonly op: "delete"; readonly expected: string }
  /** A new expiry for the value in place (the value is kept for later reads by the same command). */
  | { readonly op: "expire"; readonly value: Value; readonly expiresAt: bigint; readonly expected: string }

const unsupported = (what: string): never => {
  throw new Error(`${what} is not available on the Redis backend`)
}

/** The keyspace of one command's run. */
export class Scratch implements KeyspaceShape {
  /** Keys read that were not fetched (the runner fetches them and runs again). */
  readonly missing: Array<string> = []
  /** Each key's last write, in the order first written. */
  readonly writes = new Map<string, Write>()

  constructor(private readonly fetched: ReadonlyMap<string, Fetched>) {}

  /** The expected version for a write of `key`: what was read, or any for a key never fetched. */
  private expected(key: string): string {
    return this.fetched.get(key)?.version ?? ANY_VERSION
  }

  /** The entry of `key` as this command sees it (its own writes first), or "unknown" if never fetched. */
  private state(key: string): Entry | undefined | "unknown" {
    const w = this.writes.get(key)
    if (w !== undefined) return w.op === "delete" ? undefined : { value: w.value, expiresAt: w.expiresAt }
    const f = this.fetched.get(key)
    return f === undefined ? "unknown" : f.entry
  }

  private live(key: string, now: bigint): Entry | undefined {
    const s = this.state(key)
    if (s === "unknown") {
      this.missing.push(key)
      return undefined
    }
    if (s === undefined || (s.expiresAt !== 0n && now >= s.expiresAt)) return undefined
    return s
  }

  get(key: string, now: bigint): Entry | undefined {
    return this.live(key, now)
  }

  set(key: string, value: Value, now: bigint, expiresAt: bigint = 0n): CommandFailed | undefined {
    const expected = this.expected(key)
    // An expiry already past removes the key (DEL of an absent key changes nothing).
    if (expiresAt !== 0n && expiresAt <= now) this.writes.set(key, { op: "delete", expected })
    else this.writes.set(key, { op: "set", value, expiresAt, expected })
    return undefined
  }

  delete(key: string, now: bigint): boolean {
    if (this.live(key, now) === undefined) return false
    this.writes.set(key, { op: "delete", expected: this.expected(key) })
    return true
  }

  expire(key: string, expiresAt: bigint, now: bigint): boolean {
    const e = this.live(key, now)
    if (e === undefined) return false
    const expected = this.expected(key)
    const prior = this.writes.get(key)
    if (expiresAt !== 0n && expiresAt <= now) this.writes.set(key, { op: "delete", expected })
    // A value this command wrote is committed whole with its new expiry; a fetched one only gets the expiry.
    else if (prior?.op === "set") this.writes.set(key, { ...prior, expiresAt })
    else this.writes.set(key, { op: "expire", value: e.value, expiresAt, expected })
    return true
  }

  /**
   * A change in place becomes a write of the whole new value here: the commit replaces the key's value under its
   * version check, so the change is atomic per key across servers. The fetched value is copied first (the same
   * entry may be read again if the command runs again).
   */
  mutate(key: string, change: Mutation, now: bigint, expiresAt: bigint = 0n): CommandFailed | undefined {
    const e = this.live(key, now)
    if (e === undefined || !appliesTo(e.value, change))
      throw new Error(`keyspace: ${change.op} does not apply to key ${JSON.stringify(key)}`)
    const prior = this.writes.get(key)
    const own = prior?.op === "set" ? e.value : privateCopy(e.value)
    this.writes.set(key, { op: "set", value: applyMutation(own, change), expiresAt, expected: this.expected(key) })
    return undefined
  }

  nextExpiry(): bigint | undefined {
    return undefined
  }

  size(): number {
    return unsupported("size")
  }
  stats(): ReadonlyArray<ShardStats> {
    return unsupported("stats")
  }
  sweep(): number {
    return 0
  }
  memory(): MemoryStats {
    return unsupported("memory")
  }
  entries(): IterableIterator<readonly [string, Entry]> {
    return unsupported("entries")
  }
  observe(_observer: KeyspaceObserver | undefined): void {
    unsupported("observe")
  }
  restore(): void {
    unsupported("restore")
  }
}

/** A keyspace that refuses every use: what commands see outside the Redis runner (a command missed by it fails loudly). */
export const unavailableKeyspace: KeyspaceShape = {
  get: () => unsupported("the local keyspace"),
  set: () => unsupported("the local keyspace"),
  mutate: () => unsupported("the local keyspace"),
  nextExpiry: () => undefined,
  delete: () => unsupported("the local keyspace"),
  expire: () => unsupported("the local keyspace"),
  size: () => unsupported("the local keyspace"),
  stats: () => unsupported("the local keyspace"),
  sweep: () => 0,
  memory: () => unsupported("the local keyspace"),
  entries: () => unsupported("the local keyspace"),
  observe: () => undefined,
  restore: () => unsupported("the local keyspace")
}

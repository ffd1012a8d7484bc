/**
 * The keyspace on a Redis Cluster: how a command runs when several servers share the data. The command itself is
 * the unchanged synchronous function of the memory backend (the Go-exact code stays the one source of truth):
 *
 *   1. fetch the keys it will read (a hint per command; any other key it reads is fetched and it runs again),
 *      each from the node that owns its slot, with its version;
 *   2. run the command over those entries (`Scratch`), which records its writes instead of applying them;
 *   3. commit each written key with a script that checks the key's version is still the one read and applies
 *      the write, a new version and the absolute expiry in one step; on a conflict, retry from 1 (bounded, with
 *      jitter); with `wait_replicas > 0`, WAIT on the same node before answering.
 *
 * So a read-modify-write (NUM.INCR, LIST.PUSH, MAP.SET, JSON.ADD) is atomic per key across every server, and a
 * reply is sent only once its write is committed. On one server, writes to the same key are batched: queued
 * behind the one in flight, then run in order over one fetch and committed together, so conflicts only arise
 * between servers and a hot key costs a round of Redis calls per batch, not per command. Multi-key reads (EXISTS,
 * JSON.GET's references) are one read per key, not a snapshot across slots.
 */
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import type { CommandContext, SyncCommand } from "../../commands/Command.js"
import { type CommandError, isCommandError, StoreError } from "../../errors.js"
import { decodeValue } from "../../persistence/Record.js"
import type { OkResult } from "../../protocol/Reply.js"
import { KindNumber, storedText, type Value } from "../Value.js"
import { type FleareRedis, RedisCluster, type RedisClusterShape } from "./RedisCluster.js"
import { type Fetched, Scratch, type Write } from "./Scratch.js"
import { ABSENT, dataKey } from "./scripts.js"

/** How many times a command runs again after a version conflict before it gives up (`internal server error`). */
const MAX_ATTEMPTS = 200
/** How many extra fetch rounds a command may need for keys it reads beyond its hint (JSON.GET's references). */
const MAX_FETCH_ROUNDS = 64

/** The most write commands on one key that run as one batch. */
const MAX_BATCH = 64

const NO_KEYS: ReadonlyArray<string> = []

/** A command to run, with its deadline (epoch ms) and where its outcome goes. */
interface Job {
  readonly spec: SyncCommand
  readonly ctx: CommandContext
  readonly args: ReadonlyArray<string>
  readonly deadline: number
  readonly done: (outcome: Exit.Exit<OkResult, CommandError>) => void
}

/**
 * The keys a command is known to read, fetched before it runs. A write that does not depend on the old value
 * (SET, STR.SET, JSON.SET) reads nothing: its commit replaces whatever is there.
 */
export const readKeys = (name: string, args: ReadonlyArray<string>): ReadonlyArray<string> => {
  switch (name) {
    case "SET":
    case "STR.SET":
    case "JSON.SET":
      return NO_KEYS
    case "EXISTS":
      return args
    default:
      return args.length > 0 ? [args[0]!] : NO_KEYS
  }
}

const kindByNumber = new Map<string, Value["kind"]>(
  Object.entries(KindNumber).map(([kind, n]) => [String(n), kind as Value["kind"]])
)

const NANOS_PER_MILLI = 1_000_000n

/** A key's hash fields (`n`, `t`, `v`, `e`) as fetched. */
const toFetched = (key: string, fields: ReadonlyArray<string | null>): Fetched => {
  const [n, t, v, e] = fields
  if (n === null || n === undefined) return { entry: undefined, version: ABSENT }
  const kind = kindByNumber.get(t ?? "")
  const value = kind === undefined ? `unknown kind ${t}` : decodeValue(kind, v ?? "")
  if (typeof value === "string") throw new StoreError({ cause: `key ${key}: ${value}` })
  return { entry: { value, expiresAt: BigInt(e ?? "0") }, version: n }
}

/** The command's own writes, committed: each key's script arguments. */
const commitArgs = (w: Write, version: string): Array<string> => {
  const ms = (e: bigint) => (e === 0n ? "0" : String((e + NANOS_PER_MILLI - 1n) / NANOS_PER_MILLI))
  switch (w.op) {
    case "delete":
      return [w.expected, "d", "", "", "", "0", "0"]
    case "set":
      return [
        w.expected,
        "s",
        version,
        String(KindNumber[w.value.kind]),
        storedText(w.value),
        String(w.expiresAt),
        ms(w.expiresAt)
      ]
    case "expire":
      return [w.expected, "x", version, "", "", String(w.expiresAt), ms(w.expiresAt)]
  }
}

/** A pipeline with the commit script (ioredis types custom commands on the client only). */
interface CommitPipeline {
  fleareCommit(key: string, ...args: Array<string>): CommitPipeline
  wait(replicas: number, timeoutMs: number): CommitPipeline
  exec(): Promise<Array<[Error | null, unknown]> | null>
}

/** The Redis keyspace: runs a synchronous command against the shared data. */
export interface RedisKeyspaceShape {
  /** Runs `spec` as the memory backend would, but over the cluster's data (see the module doc). */
  readonly run: (
    spec: SyncCommand,
    ctx: CommandContext,
    args: ReadonlyArray<string>
  ) => Effect.Effect<OkResult, CommandError>
  /** The cluster connection it uses. */
  readonly cluster: RedisClusterShape
}

const make = Effect.gen(function* () {
  const cluster = yield* RedisCluster
  const { keyPrefix: prefix, waitReplicas, waitTimeoutMs } = cluster
  const runFork = Runtime.runFork(yield* Effect.runtime<never>())
  let lastLogged = 0
  const logStoreError = (e: StoreError) =>
    Effect.clockWith((clock) => {
      const now = clock.unsafeCurrentTimeMillis()
      if (now - lastLogged < 1000) return Effect.void
      lastLogged = now
      return Effect.logError("Redis store failed; commands answer internal server error", e.cause)
    })
  // A version is unique to a write: this process's random token and a counter.
  const token = Math.random().toString(36).slice(2, 10) + Math.random().toString(36).slice(2, 6)
  let counter = 0
  const nextVersion = () => `${token}.${(counter += 1).toString(36)}`

  const fetch = (deadline: number, keys: ReadonlyArray<string>, into: Map<string, Fetched>) =>
    cluster
      .callUntil(deadline, (c) => Promise.all(keys.map((k) => c.hmget(dataKey(prefix, k), "n", "t", "v", "e"))))
      .pipe(
        Effect.flatMap((rows) =>
          Effect.try({
            try: () => rows.forEach((row, i) => into.set(keys[i]!, toFetched(keys[i]!, row))),
            catch: (e) => (e instanceof StoreError ? e : new StoreError({ cause: e }))
          })
        )
      )

  /** Commits one key's write; true when applied, false on a version conflict. */
  const commitOne = (deadline: number, key: string, w: Write): Effect.Effect<boolean, StoreError> => {
    const args = commitArgs(w, nextVersion())
    const redisKey = dataKey(prefix, key)
    if (waitReplicas === 0)
      return cluster
        .callUntil(deadline, (c) =>
          c.fleareCommit(redisKey, ...(args as [string, string, string, string, string, string, string]))
        )
        .pipe(Effect.map((r) => r === 1))
    // The commit and WAIT go in one pipeline to the node that owns the key's slot.
    return cluster
      .callUntil(deadline, (c: FleareRedis) =>
        (c.pipeline() as unknown as CommitPipeline)
          .fleareCommit(redisKey, ...args)
          .wait(waitReplicas, waitTimeoutMs)
          .exec()
      )
      .pipe(
        Effect.flatMap((results) => {
          const [commit, wait] = results ?? []
          if (commit === undefined || commit[0] !== null)
            return Effect.fail(new StoreError({ cause: commit?.[0] ?? "no reply" }))
          if (commit[1] !== 1) return Effect.succeed(false)
          if (wait === undefined || wait[0] !== null)
            return Effect.fail(new StoreError({ cause: wait?.[0] ?? "no reply" }))
          return (wait[1] as number) >= waitReplicas
            ? Effect.succeed(true)
            : Effect.fail(
                new StoreError({ cause: `WAIT: ${wait[1]} of ${waitReplicas} replicas acknowledged in time` })
              )
        })
      )
  }

  /** One attempt: fetch, run (fetching more while it reads keys it did not hint), commit. Undefined: conflict. */
  /**
   * One attempt at a batch of commands (usually one): fetch, run each in order over the same entries (each sees
   * the writes of those before it, fetching more while they read keys they did not hint), commit. Each command's
   * outcome, or undefined on a version conflict (the whole batch runs again).
   */
  const attempt = (deadline: number, jobs: ReadonlyArray<Job>) =>
    Effect.gen(function* () {
      const fetched = new Map<string, Fetched>()
      let toFetch = [...new Set(jobs.flatMap((j) => readKeys(j.spec.name, j.args)))]
      for (let round = 0; ; round++) {
        if (toFetch.length > 0) yield* fetch(deadline, toFetch, fetched)
        const scratch = new Scratch(fetched)
        const outcomes = jobs.map((j): Exit.Exit<OkResult, CommandError> => {
          try {
            const reply = j.spec.run({ ...j.ctx, services: { ...j.ctx.services, keyspace: scratch } }, j.args)
            return isCommandError(reply) ? Exit.fail(reply) : Exit.succeed(reply)
          } catch (defect) {
            return Exit.die(defect)
          }
        })
        if (scratch.missing.length > 0) {
          if (round >= MAX_FETCH_ROUNDS) return yield* new StoreError({ cause: "a command reads too many keys" })
          toFetch = [...new Set(scratch.missing)].filter((k) => !fetched.has(k))
          continue
        }
        for (const [key, w] of scratch.writes) if (!(yield* commitOne(deadline, key, w))) return undefined
        return outcomes
      }
    })

  /** Runs a batch until it commits (retrying on conflicts), or fails every command of it with a StoreError. */
  const runBatch = (jobs: ReadonlyArray<Job>): Effect.Effect<ReadonlyArray<Exit.Exit<OkResult, CommandError>>> => {
    const deadline = Math.min(...jobs.map((j) => j.deadline))
    return Effect.gen(function* () {
      for (let i = 0; i < MAX_ATTEMPTS; i++) {
        const outcomes = yield* attempt(deadline, jobs)
        if (outcomes !== undefined) return outcomes
        // Another server wrote the key meanwhile: back off a little (random, growing) and run again.
        yield* Effect.sleep(Duration.millis(Math.random() * Math.min(20, 1 + i)))
      }
      return yield* new StoreError({ cause: `gave up after ${MAX_ATTEMPTS} version conflicts` })
    }).pipe(
      Effect.tapError(logStoreError),
      Effect.catchAll((e) => Effect.succeed(jobs.map(() => Exit.fail(e))))
    )
  }

  /**
   * Write commands waiting for their key's batch. A key's first writer starts a fiber that takes everything
   * queued for the key, runs it as one batch (one fetch, one commit per key written), answers each command, and
   * goes on until the queue is empty: writes to one key from one server cost one round of Redis calls per batch,
   * not per command, and never conflict with each other.
   */
  const queues = new Map<string, Array<Job>>()

  const drain = (key: string, queue: Array<Job>): Effect.Effect<void> =>
    Effect.suspend(() => {
      if (queue.length === 0) {
        queues.delete(key)
        return Effect.void
      }
      const jobs = queue.splice(0, MAX_BATCH)
      return Effect.flatMap(runBatch(jobs), (outcomes) => {
        jobs.forEach((j, i) => j.done(outcomes[i]!))
        return drain(key, queue)
      })
    })

  const enqueue = (key: string, job: Omit<Job, "done">): Effect.Effect<OkResult, CommandError> =>
    Effect.async<OkResult, CommandError>((resume) => {
      const queued: Job = { ...job, done: resume }
      const queue = queues.get(key)
      if (queue !== undefined) return void queue.push(queued)
      const fresh = [queued]
      queues.set(key, fresh)
      // The batch runs in its own fiber: a connection that goes away does not take the others' writes with it.
      runFork(
        drain(key, fresh).pipe(
          Effect.catchAllCause((cause) =>
            Effect.sync(() => {
              queues.delete(key)
              for (const j of fresh.splice(0)) j.done(Exit.failCause(cause))
            })
          )
        )
      )
    })

  const run = (
    spec: SyncCommand,
    ctx: CommandContext,
    args: ReadonlyArray<string>
  ): Effect.Effect<OkResult, CommandError> =>
    Effect.clockWith((clock) => {
      // One deadline for the whole command (queueing, fetches, retries, commit): every Redis call checks it.
      const deadline = clock.unsafeCurrentTimeMillis() + cluster.commandTimeoutMs
      if (spec.class === "write" && args.length > 0) return enqueue(args[0]!, { spec, ctx, args, deadline })
      return Effect.flatMap(runBatch([{ spec, ctx, args, deadline, done: () => {} }]), (outcomes) => outcomes[0]!)
    })

  return { run, cluster } satisfies RedisKeyspaceShape
})

/** The Redis keyspace service. */
export class RedisKeyspace extends Context.Tag("fleare/RedisKeyspace")<RedisKeyspace, RedisKeyspaceShape>() {
  /** Over the `RedisCluster` connection. */
  static layer: Layer.Layer<RedisKeyspace, never, RedisCluster> = Layer.effect(RedisKeyspace, make)
}

/**
 * A socket-free micro-benchmark of the connection actor's fast path, for measuring what the request path's own
 * work costs (e.g. the metrics counters): PING (or `--set`: SET, `--get`: GET, `--incr`: NUM.INCR) frames, `--pipeline N` per read
 * (default 1), fed straight to the actor's fast-path handler as the transport does when the actor's fiber is
 * parked; prints CPU nanoseconds per read and per request (5 rounds of 1,000,000 requests: min and median).
 * SET and GET use one key unless `--keys N` spreads them over N keys (written first), drawn at random, as
 * `npm run bench` does with 100,000. Compare two checkouts by running it in each:
 *
 *   npx tsx src/bench/fastPath.ts [--set | --get | --incr] [--pipeline N] [--keys N] [--limited [--policy P]]
 *
 * `--limited` runs the server with Fleare's default memory section (1024 MB, LRU) instead of no limit; `--policy`
 * (LRU, LFU, FIFO or noeviction) changes its eviction policy.
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import { ServerConfig } from "../config/ServerConfig.js"
import { Durability } from "../persistence/Durability.js"
import { encodeCommand } from "../protocol/Message.js"
import { FleareServer } from "../server/Server.js"
import { type Conn, type FastPathHandler, Transport } from "../server/Transport.js"
import { Accounts } from "../session/Accounts.js"
import { SessionStore } from "../session/SessionStore.js"
import { Keyspace } from "../store/Keyspace.js"
import { Broker } from "../pubsub/Broker.js"
import { keyOf } from "./workload.js"

const ROUNDS = 5
const REQUESTS = 1_000_000
const POOL = Number(process.env.POOL ?? 1024)

type Test = "PING" | "SET" | "GET" | "NUM.INCR"

interface Options {
  readonly test: Test
  readonly pipeline: number
  readonly keys: number
  /** Fleare's default memory section (1024 MB, LRU), as `npm run bench`'s limited rows. */
  readonly limited: boolean
  /** The limited configuration's eviction policy (default LRU). */
  readonly policy: "LRU" | "LFU" | "FIFO" | "noeviction"
}

/** The reads to feed: each `pipeline` frames of `test`, over `keys` keys drawn by a fixed PRNG. */
const readsOf = (o: Options, count: number): Array<Buffer> => {
  let seed = 1
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0)
  const key = () => keyOf("key:", next() % o.keys)
  const frame = () =>
    o.test === "PING" ? encodeCommand("PING", []) : encodeCommand(o.test, o.test === "SET" ? [key(), "abc"] : [key()])

  return Array.from({ length: count }, () => Buffer.concat(Array.from({ length: o.pipeline }, frame)))
}

const program = (o: Options) =>
  Effect.gen(function* () {
    let handler: ((conn: Conn) => Effect.Effect<void>) | undefined
    const transport = Layer.succeed(Transport, {
      serve: (_address, h) =>
        Effect.sync(() => {
          handler = h
          return { host: "127.0.0.1", port: 1 }
        })
    })
    const layer = FleareServer.layer.pipe(
      Layer.provide(
        Layer.mergeAll(
          transport,
          SessionStore.layerConfig,
          Accounts.layer,
          Keyspace.layerConfig,
          Broker.layerMemory,
          Layer.succeed(Durability, Durability.none)
        )
      ),
      Layer.provide(
        ServerConfig.layer(
          ServerConfig.unsafeMake({
            server: { port: 0 },
            ...(o.limited ? { memory: { max_size_mb: 1024, eviction_policy: o.policy } } : {})
          })
        )
      )
    )
    return yield* Effect.scoped(
      Effect.gen(function* () {
        yield* Layer.build(layer)
        let fast: FastPathHandler | undefined
        let waiter: ((chunks: ReadonlyArray<Buffer>) => void) | undefined
        let writes = 0
        const conn: Conn = {
          remoteAddress: "127.0.0.1",
          remotePort: 1,
          read: Effect.async<ReadonlyArray<Buffer> | undefined>((resume) => {
            waiter = (chunks) => resume(Effect.succeed(chunks))
          }),
          write: () => {
            writes += 1
          },
          end: () => {},
          kill: () => {},
          setFastPath: (h) => {
            fast = h
          },
          pendingOutputBytes: () => 0,
          setOnDrain: () => {},
          drained: () => Effect.void,
          abort: () => {}
        }
        Runtime.runFork(yield* Effect.runtime<never>())(handler!(conn))
        while (waiter === undefined) yield* Effect.yieldNow()
        const wake = waiter
        waiter = undefined
        wake([Buffer.from(encodeCommand("AUTH", ["root", "root"]))])
        // AUTH runs in the fiber; once answered, the fiber parks in `read` again and the fast path takes over.
        while (writes < 1 || waiter === undefined) yield* Effect.sleep("1 millis")
        if (o.keys > 1)
          for (let k = 0; k < o.keys; k++)
            fast!.fastPath(
              o.test === "NUM.INCR"
                ? encodeCommand("NUM.INCR", [keyOf("key:", k)])
                : encodeCommand("SET", [keyOf("key:", k), "abc"])
            )
        // A pool of distinct reads (a new key per frame) cycled through: `POOL` of them (default 1,024), small in memory.
        const reads = readsOf(o, o.keys > 1 ? Math.min(POOL, Math.ceil(REQUESTS / o.pipeline)) : 1)
        const readCount = Math.ceil(REQUESTS / o.pipeline)
        const perRequest: Array<number> = []
        for (let round = 0; round < ROUNDS; round++) {
          const start = process.cpuUsage()
          for (let i = 0; i < readCount; i++)
            if (fast!.fastPath(reads[i % reads.length]!) !== "handled") throw new Error("the fast path declined")
          const used = process.cpuUsage(start)
          perRequest.push(((used.user + used.system) * 1000) / (readCount * o.pipeline))
        }
        perRequest.sort((a, b) => a - b)
        const [min, med] = [perRequest[0]!, perRequest[ROUNDS >> 1]!]
        return `${o.test} x${o.pipeline} per read, ${o.keys} key(s)${o.limited ? `, limited (${o.policy})` : ""}: CPU ns per request: min ${min.toFixed(0)}, median ${med.toFixed(0)}; per read: min ${(min * o.pipeline).toFixed(0)}`
      })
    )
  })

const argv = process.argv
const flag = (name: string, fallback: number): number => {
  const i = argv.indexOf(name)
  const n = i < 0 ? fallback : Number(argv[i + 1])
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer`)
  return n
}
const policyOf = (p: string | undefined): Options["policy"] => {
  if (p === "LRU" || p === "LFU" || p === "FIFO" || p === "noeviction") return p
  throw new Error("--policy must be LRU, LFU, FIFO or noeviction")
}
const options: Options = {
  test: argv.includes("--set") ? "SET" : argv.includes("--get") ? "GET" : argv.includes("--incr") ? "NUM.INCR" : "PING",
  pipeline: flag("--pipeline", 1),
  keys: flag("--keys", 1),
  limited: argv.includes("--limited"),
  policy: policyOf(argv.includes("--policy") ? argv[argv.indexOf("--policy") + 1] : "LRU")
}

Effect.runPromise(program(options)).then(
  (line) => process.stdout.write(`${line}\n`),
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`)
    process.exitCode = 1
  }
)

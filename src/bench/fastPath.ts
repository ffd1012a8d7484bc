/**
 * A socket-free micro-benchmark of the connection actor's fast path, for measuring what the request path's own
 * work costs (e.g. the metrics counters): one PING (or `--set`: one SET) frame per read, fed straight to the
 * actor's fast-path handler as the transport does when the actor's fiber is parked; prints CPU nanoseconds per
 * read (5 rounds of 1,000,000 reads: min and median). Compare two checkouts by running it in each:
 *
 *   npx tsx src/bench/fastPath.ts [--set]
 */
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Runtime from "effect/Runtime"
import { ServerConfig } from "../config/ServerConfig.js"
import { Durability } from "../persistence/Durability.js"
import { encodeCommand } from "../protocol/Message.js"
import { FleareServer } from "../server/Server.js"
import { type Conn, Transport } from "../server/Transport.js"
import { Accounts } from "../session/Accounts.js"
import { SessionStore } from "../session/SessionStore.js"
import { Keyspace } from "../store/Keyspace.js"
import { Broker } from "../pubsub/Broker.js"

type FastPath = (chunk: Buffer) => "handled" | "wake" | "decline"

const ROUNDS = 5
const READS = 1_000_000

const program = (set: boolean) =>
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
      Layer.provide(ServerConfig.layer(ServerConfig.unsafeMake({ server: { port: 0 } })))
    )
    return yield* Effect.scoped(
      Effect.gen(function* () {
        yield* Layer.build(layer)
        let fast: FastPath | undefined
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
        const frame = Buffer.from(set ? encodeCommand("SET", ["key:1", "abc"]) : encodeCommand("PING", []))
        const perRead: Array<number> = []
        for (let round = 0; round < ROUNDS; round++) {
          const start = process.cpuUsage()
          for (let i = 0; i < READS; i++) if (fast!(frame) !== "handled") throw new Error("the fast path declined")
          const used = process.cpuUsage(start)
          perRead.push(((used.user + used.system) * 1000) / READS)
        }
        perRead.sort((a, b) => a - b)
        return `${set ? "SET" : "PING"}: CPU ns per read: min ${perRead[0]!.toFixed(0)}, median ${perRead[ROUNDS >> 1]!.toFixed(0)}`
      })
    )
  })

Effect.runPromise(program(process.argv.includes("--set"))).then(
  (line) => process.stdout.write(`${line}\n`),
  (e: unknown) => {
    process.stderr.write(`${String(e)}\n`)
    process.exitCode = 1
  }
)

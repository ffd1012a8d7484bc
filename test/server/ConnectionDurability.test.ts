/**
 * The connection actor's side of a log that cannot be written, over an in-memory transport (the fiber path) with
 * a Durability the test controls: writes are refused up front while the log fails, a write whose batch fails is
 * answered with the error while a read's reply stands, and a write that ran before the failure was seen (the
 * read waited for the fiber meanwhile) is not acknowledged.
 */
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Layer } from "effect"
import { Durability, DurabilityError, type DurabilityShape } from "../../src/persistence/Durability.js"
import { SessionStore } from "../../src/session/SessionStore.js"
import { memoryServer } from "../support/MemoryTransport.js"

const ENOSPC = "ENOSPC: no space left on device, write"
const UNLOGGED = `PersistenceError: the log cannot be written (${ENOSPC}); this write is applied in memory but not logged`
const REFUSED = `PersistenceError: writes are refused while the log cannot be written (${ENOSPC}); nothing was changed`

const logError = new DurabilityError({ cause: new Error(ENOSPC), reason: ENOSPC, sinceMillis: 0 })

/** What the test's Durability answers. */
interface Control {
  /** What `barrier()` returns. */
  barrier: Effect.Effect<void, DurabilityError> | undefined
  /** What `failure()` returns, by call number (0-based); the last entry repeats. */
  failures: Array<DurabilityError | undefined>
  calls: number
}

const serverWith = (control: Control) => {
  const durability: DurabilityShape = {
    barrier: () => control.barrier,
    afterDurable: () => false,
    failure: () => control.failures[Math.min(control.calls++, control.failures.length - 1)]
  }
  return memoryServer({
    sessions: SessionStore.layerMemory(Duration.seconds(0)),
    durability: Layer.succeed(Durability, durability)
  })
}

describe("a connection while the log cannot be written", () => {
  it.scoped("refuses writes up front (nothing changes) and answers reads, PING and SESSION", () => {
    const control: Control = { barrier: undefined, failures: [undefined], calls: 0 }
    const { layer, connect } = serverWith(control)
    return Effect.gen(function* () {
      const c = yield* connect()
      expect((yield* c.call("AUTH", "root", "root")).result).toBe("Connected")
      expect((yield* c.call("SET", "a", "1")).status).toBe("Ok")
      control.failures = [logError]
      expect(yield* c.call("SET", "a", "2")).toMatchObject({ status: "Error", result: REFUSED })
      expect(yield* c.call("LIST.PUSH", "l", "x")).toMatchObject({ status: "Error", result: REFUSED })
      expect(yield* c.call("GET", "a")).toMatchObject({ status: "Ok", result: "1" })
      expect(yield* c.call("PING")).toMatchObject({ status: "Ok", result: "PONG " })
      expect((yield* c.call("SESSION")).status).toBe("Ok")
      control.failures = [undefined]
      expect((yield* c.call("SET", "a", "3")).status).toBe("Ok")
      expect(yield* c.call("GET", "a")).toMatchObject({ status: "Ok", result: "3" })
    }).pipe(Effect.provide(layer))
  })

  it.scoped("a write whose batch fails is answered with the error; a read's reply stands", () => {
    const control: Control = { barrier: undefined, failures: [undefined], calls: 0 }
    const { layer, connect } = serverWith(control)
    return Effect.gen(function* () {
      const c = yield* connect()
      yield* c.call("AUTH", "root", "root")
      control.barrier = Effect.fail(logError)
      expect(yield* c.call("SET", "a", "1")).toMatchObject({ status: "Error", result: UNLOGGED })
      expect(yield* c.call("GET", "a")).toMatchObject({ status: "Ok", result: "1" })
    }).pipe(Effect.provide(layer))
  })

  it.scoped("a write that ran before the log began failing is not acknowledged, even with nothing to wait for", () => {
    // The SET's own check sees a writable log; by the time its reply is sent, the log fails (and no barrier
    // remains to wait for: a failing log has none).
    const control: Control = { barrier: undefined, failures: [undefined, logError], calls: 0 }
    const { layer, connect } = serverWith(control)
    return Effect.gen(function* () {
      const c = yield* connect()
      yield* c.call("AUTH", "root", "root")
      control.calls = 0
      expect(yield* c.call("SET", "a", "1")).toMatchObject({ status: "Error", result: UNLOGGED })
    }).pipe(Effect.provide(layer))
  })
})

/**
 * A defect that escapes a connection actor (here: the transport's read dies, as a bug in it would) ends that
 * connection only: it is logged once, with the connection's address and client id, the connection is released,
 * and the server goes on serving the others.
 */
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, HashMap, Logger, Option } from "effect"
import { memoryServer } from "../support/MemoryTransport.js"

interface LogLine {
  readonly message: string
  readonly cause: string
  readonly clientId: string | undefined
}

describe("a defect in a connection actor", () => {
  it.scoped("is logged once with the connection's client id, and the server serves the other connections", () => {
    const { layer, connect } = memoryServer()
    const logs: Array<LogLine> = []
    const capture = Logger.make(({ message, cause, annotations }) => {
      const clientId = HashMap.get(annotations, "clientId").pipe(Option.map(String), Option.getOrUndefined)
      logs.push({ message: String(message), cause: Cause.pretty(cause), clientId })
    })
    const defectLines = () => logs.filter((l) => l.message.includes("connection ended by a defect"))
    return Effect.gen(function* () {
      const healthy = yield* connect()
      expect((yield* healthy.call("AUTH", "root", "root")).result).toBe("Connected")
      yield* connect(50999, { dieOnRead: new Error("transport bug") })
      // The actor's fiber and its release run in the server's runtime: give them turns until the line is logged.
      for (let i = 0; i < 1000 && defectLines().length === 0; i++) yield* Effect.yieldNow()
      const lines = defectLines()
      expect(lines).toHaveLength(1)
      expect(lines[0]!.cause).toContain("transport bug")
      expect(lines[0]!.clientId).toMatch(/^\d+-127\.0\.0\.1:50999$/)
      // Released: its "connection closed" line follows, and the other connection is served as before.
      for (let i = 0; i < 1000 && !logs.some((l) => l.message === "connection closed"); i++) yield* Effect.yieldNow()
      expect(logs.some((l) => l.message === "connection closed" && l.clientId === lines[0]!.clientId)).toBe(true)
      expect((yield* healthy.call("PING", "still", "here")).result).toBe("PONG still here")
      const other = yield* connect()
      expect((yield* other.call("AUTH", "root", "root")).result).toBe("Connected")
    }).pipe(Effect.provide(layer), Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
  })
})

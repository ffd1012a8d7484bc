import { describe, expect, it } from "@effect/vitest"
import { EventEmitter } from "node:events"
import { exitOnSecondSignal, type SignalSource } from "../../src/server/Signals.js"

const setup = () => {
  const emitter = new EventEmitter()
  const exits: Array<number> = []
  exitOnSecondSignal(emitter as unknown as SignalSource, (code) => exits.push(code))
  return { emit: (s: "SIGINT" | "SIGTERM") => emitter.emit(s), exits }
}

describe("second signal", () => {
  it("the first signal does not exit (the graceful shutdown runs)", () => {
    const { emit, exits } = setup()
    emit("SIGTERM")
    expect(exits).toEqual([])
  })

  it("a second SIGTERM exits at once with 143, a second SIGINT with 130, whichever came first", () => {
    const a = setup()
    a.emit("SIGTERM")
    a.emit("SIGTERM")
    expect(a.exits).toEqual([143])
    const b = setup()
    b.emit("SIGTERM")
    b.emit("SIGINT")
    expect(b.exits).toEqual([130])
    const c = setup()
    c.emit("SIGINT")
    c.emit("SIGINT")
    expect(c.exits).toEqual([130])
  })
})

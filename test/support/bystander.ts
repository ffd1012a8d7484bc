/**
 * A bystander: an authenticated connection that sends PING every 20 ms and records each round trip, to feel
 * what every other client feels while an attack runs. `stop()` returns the worst and the count.
 */
import { WireClient } from "./wire.js"

export interface BystanderReport {
  readonly worstMs: number
  readonly count: number
  readonly failures: number
}

export interface Bystander {
  readonly stop: () => Promise<BystanderReport>
}

/** Starts pinging `port` every `everyMs` (each PING waits for its reply before the next is due). */
export const startBystander = async (port: number, everyMs = 20): Promise<Bystander> => {
  const client = await WireClient.authed(port)
  let running = true
  let worstMs = 0
  let count = 0
  let failures = 0
  const loop = (async () => {
    while (running) {
      const t0 = performance.now()
      try {
        const r = await client.call("PING", "bystander")
        if (r.result !== "PONG bystander") failures++
      } catch {
        failures++
        break
      }
      const ms = performance.now() - t0
      worstMs = Math.max(worstMs, ms)
      count++
      await new Promise((r) => setTimeout(r, everyMs))
    }
  })()
  return {
    stop: async () => {
      running = false
      await loop
      client.destroy()
      return { worstMs, count, failures }
    }
  }
}

/** The bystander's worst PING over `ms` of quiet: the baseline an attack's figure is compared with. */
export const baselineWorstMs = async (port: number, ms = 500): Promise<number> => {
  const b = await startBystander(port)
  await new Promise((r) => setTimeout(r, ms))
  return (await b.stop()).worstMs
}

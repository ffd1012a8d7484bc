/**
 * A bystander: an authenticated connection that sends PING every 20 ms and records each round trip, to feel
 * what every other client feels while an attack runs. It runs in its own node process, so the figures are the
 * server's, not those of a test process busy playing the attacker. `stop()` returns the worst and the count.
 */
import { spawn } from "node:child_process"
import { encodeCommand } from "../../src/protocol/Message.js"

export interface BystanderReport {
  readonly worstMs: number
  readonly count: number
  readonly failures: number
}

export interface Bystander {
  readonly stop: () => Promise<BystanderReport>
}

/** The child: AUTH, then one PING every `every` ms after the previous reply; prints a report when stdin ends. */
const SCRIPT = `
const net = require("node:net")
const [port, every, auth, ping] = process.argv.slice(1)
const authFrame = Buffer.from(auth, "hex"), pingFrame = Buffer.from(ping, "hex")
let buf = Buffer.alloc(0), authed = false, sentAt = 0, worst = 0, count = 0, failures = 0, timer
const s = net.connect({ port: Number(port), host: "127.0.0.1", noDelay: true })
const send = () => { sentAt = performance.now(); s.write(pingFrame) }
s.on("connect", () => s.write(authFrame))
s.on("data", (d) => {
  buf = Buffer.concat([buf, d])
  while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
    const body = buf.subarray(4, 4 + buf.readUInt32BE(0))
    buf = buf.subarray(4 + body.length)
    if (!authed) { authed = true; process.stdout.write("ready\\n"); send(); continue }
    const ms = performance.now() - sentAt
    if (!body.includes("PONG bystander")) failures++
    worst = Math.max(worst, ms); count++
    timer = setTimeout(send, Number(every))
  }
})
s.on("error", () => { failures++ })
s.on("close", () => { failures++ })
process.stdin.on("end", () => {
  s.removeAllListeners("close"); clearTimeout(timer); s.destroy()
  process.stdout.write(JSON.stringify({ worstMs: worst, count, failures }) + "\\n")
  process.exit(0)
})
process.stdin.resume()
`

/** Starts pinging `port` every `everyMs` (each PING waits for its reply before the next is due). */
export const startBystander = async (port: number, everyMs = 20): Promise<Bystander> => {
  const child = spawn(
    process.execPath,
    [
      "-e",
      SCRIPT,
      String(port),
      String(everyMs),
      encodeCommand("AUTH", ["root", "root"]).toString("hex"),
      encodeCommand("PING", ["bystander"]).toString("hex")
    ],
    { stdio: ["pipe", "pipe", "inherit"] }
  )
  let out = ""
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("bystander did not authenticate")), 10_000)
    const check = () => {
      if (out.includes("ready")) {
        clearTimeout(timer)
        child.stdout!.off("data", check)
        resolve()
      }
    }
    child.stdout!.on("data", check)
    child.once("exit", () => reject(new Error(`bystander exited: ${out}`)))
  })
  return {
    stop: () =>
      new Promise<BystanderReport>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill("SIGKILL")
          reject(new Error("bystander did not report"))
        }, 10_000)
        child.once("exit", () => {
          clearTimeout(timer)
          const line = out.split("\n").find((l) => l.startsWith("{"))
          if (line === undefined) reject(new Error(`bystander reported nothing: ${out}`))
          else resolve(JSON.parse(line) as BystanderReport)
        })
        child.stdin!.end()
      })
  }
}

/** The bystander's worst PING over `ms` of quiet: the baseline an attack's figure is compared with. */
export const baselineWorstMs = async (port: number, ms = 500): Promise<number> => {
  const b = await startBystander(port)
  await new Promise((r) => setTimeout(r, ms))
  return (await b.stop()).worstMs
}

/**
 * `fleare-benchmark` end to end: the bin shim runs the CLI as a child process against the real server
 * (in-process, port 0); and its flag parsing.
 */
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { parseCli } from "../../src/bench/cli.js"
import { startServer, type TestServer } from "../support/server.js"

const bin = fileURLToPath(new URL("../../bin/fleare-benchmark", import.meta.url))

const runBin = (args: ReadonlyArray<string>): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    // From another directory, to check the shim finds its package by itself.
    execFile(process.execPath, [bin, ...args], { cwd: "/", timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : -1) : 0, stdout, stderr })
    )
  })

interface JsonReport {
  readonly errors: number
  readonly results: ReadonlyArray<{
    readonly test: string
    readonly sent: number
    readonly measured: number
    readonly errors: { readonly total: number }
    readonly latencyNs: { readonly count: number }
    readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number }
  }>
}

describe("fleare-benchmark", () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startServer()
  })
  afterAll(() => server.close())

  it("runs the tests given with -t and reports them as JSON", async () => {
    const { code, stdout } = await runBin([
      "-p",
      String(server.port),
      "-t",
      "set,get,ping",
      "-n",
      "300",
      "-c",
      "3",
      "-P",
      "2",
      "--json"
    ])
    expect(code).toBe(0)
    const report = JSON.parse(stdout) as JsonReport
    expect(report.errors).toBe(0)
    expect(report.results.map((r) => [r.test, r.sent, r.measured, r.errors.total, r.latencyNs.count])).toEqual([
      ["set", 300, 300, 0, 300],
      ["get", 300, 300, 0, 300],
      ["ping", 300, 300, 0, 300]
    ])
    for (const { latencyMs: l } of report.results) {
      expect(l.p50).toBeGreaterThan(0)
      expect(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max).toBe(true)
    }
  })

  it("splits the connections and requests over worker threads", async () => {
    const { code, stdout } = await runBin([
      "-p",
      String(server.port),
      "-t",
      "incr",
      "-n",
      "301",
      "-c",
      "4",
      "--workers",
      "2",
      "--json"
    ])
    expect(code).toBe(0)
    const report = JSON.parse(stdout) as JsonReport
    expect(report.results.map((r) => [r.test, r.sent, r.measured, r.errors.total])).toEqual([["incr", 301, 301, 0]])
  })

  it("exits 3 and prints the error texts when replies are wrong", async () => {
    // Values written with -d 3 read back with -d 4: every GET of a written key is wrong.
    const base = ["-p", String(server.port), "-c", "2", "-n", "50", "-r", "50", "--key-pattern", "sequential"]
    expect((await runBin([...base, "-t", "set", "-d", "3"])).code).toBe(0)
    const { code, stdout } = await runBin([...base, "-t", "get", "-d", "4"])
    expect(code).toBe(3)
    expect(stdout).toContain(
      '  errors: 50\n    50 x GET: expected "" or the 4-byte value SET writes, got "xxx" (3 bytes)'
    )
  })

  it("exits 1 when it cannot authenticate, 2 on bad flags", async () => {
    const auth = await runBin(["-p", String(server.port), "--password", "nope", "-t", "ping", "-n", "10"])
    expect(auth.code).toBe(1)
    expect(auth.stderr).toContain("AUTH as root failed")
    const remote = await runBin(["-h", "10.1.2.3", "-t", "ping"])
    expect(remote.code).toBe(2)
    expect(remote.stderr).toContain("refusing to load a non-loopback host (10.1.2.3) without --allow-remote")
  })
})

describe("parseCli", () => {
  it("has redis-benchmark's defaults", () => {
    const c = parseCli([])!
    expect(c.tests).toEqual(["ping", "set", "get", "incr", "session"])
    expect([c.base.host, c.base.port, c.base.connections, c.base.pipeline, c.base.requests, c.base.durationS]).toEqual([
      "127.0.0.1",
      9219,
      50,
      1,
      100_000,
      undefined
    ])
    expect([c.base.user, c.base.password, c.base.dataSize, c.base.keyspace, c.workers, c.json]).toEqual([
      "root",
      "root",
      3,
      100_000,
      1,
      false
    ])
  })

  it("reads every flag", () => {
    const c = parseCli(
      "-h ::1 -p 7000 --user u -a pw -c 8 -P 16 --duration 2.5 --warmup 1 -t GET,session -d 100 -r 42 --key-pattern sequential --seed 9 --workers 2 --max-time 10 --json".split(
        " "
      )
    )!
    expect(c).toEqual({
      base: expect.objectContaining({
        host: "::1",
        port: 7000,
        user: "u",
        password: "pw",
        connections: 8,
        pipeline: 16,
        requests: undefined,
        durationS: 2.5,
        warmupS: 1,
        dataSize: 100,
        keyspace: 42,
        keyPattern: "sequential",
        seed: 9,
        maxTimeS: 10
      }),
      tests: ["get", "session"],
      workers: 2,
      json: true
    })
    expect(parseCli(["--no-auth"])!.base.user).toBeUndefined()
    expect(parseCli(["--help"])).toBeUndefined()
  })

  it("refuses wrong flags", () => {
    expect(() => parseCli(["-t", "ping,flush"])).toThrow('unknown test "flush"')
    expect(() => parseCli(["-n", "10", "--duration", "1"])).toThrow("give -n or --duration, not both")
    expect(() => parseCli(["-c", "0"])).toThrow("-c must be an integer >= 1")
    expect(() => parseCli(["--duration", "20", "--max-time", "5"])).toThrow("exceed --max-time")
    expect(() => parseCli(["--key-pattern", "zigzag"])).toThrow("--key-pattern must be random or sequential")
    expect(() => parseCli(["--bogus"])).toThrow()
  })
})

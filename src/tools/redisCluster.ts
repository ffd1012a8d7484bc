/**
 * A local Redis Cluster for trying fleare-ts with several servers, for tests and for benchmarks: three masters
 * and three replicas of Debian's `redis-server` on loopback ports, each node in its own folder of a temp dir.
 *
 *   npm run redis-cluster -- up [--port 17000]     start 6 nodes on ports 17000-17005, wait for cluster_state:ok
 *   npm run redis-cluster -- down [--port 17000]   stop them and remove their folder
 *
 * `up` runs the nodes as daemons (they outlive the command); tests call `startLocalCluster` with
 * `daemonize: false`, which keeps each node a child process it can SIGKILL, restart and stop. Nothing is saved to
 * disk (no RDB, no AOF): the data lives as long as the nodes.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"

const run = promisify(execFile)

/** The first port of the cluster `npm run redis-cluster` starts (nodes on this port and the next five). */
export const DEFAULT_BASE_PORT = 17000

/** How to start a local cluster. */
export interface LocalClusterOptions {
  /** The first of six consecutive ports (default 17000). */
  readonly basePort?: number
  /** Where the nodes keep their files (default a folder in the system's temp dir named after the port). */
  readonly dir?: string
  /** `cluster-node-timeout` in ms: how long a master may be unreachable before its replica takes over. */
  readonly nodeTimeoutMs?: number
  /** True: daemons that outlive this process; false (default): child processes of this one. */
  readonly daemonize?: boolean
}

/** A running local cluster. */
export interface LocalCluster {
  readonly ports: ReadonlyArray<number>
  readonly dir: string
  /** `127.0.0.1:<port>` of every node, the seed list for `store.redis.nodes`. */
  readonly nodes: ReadonlyArray<string>
  /** Sends SIGKILL to the node on `port` (a crash: no shutdown, no save). */
  readonly kill: (port: number) => void
  /** Starts the node on `port` again with its cluster config (after `kill`). */
  readonly restart: (port: number) => Promise<void>
  /** Stops every node and removes the folder. */
  readonly stop: () => Promise<void>
}

/** Whether `redis-server` and `redis-cli` are installed. */
export const redisInstalled = (): boolean =>
  ["redis-server", "redis-cli"].every((cmd) =>
    (process.env["PATH"] ?? "").split(":").some((p) => p !== "" && existsSync(join(p, cmd)))
  )

const dirFor = (basePort: number) => join(tmpdir(), `fleare-redis-cluster-${basePort}`)

const cli = async (port: number, ...args: Array<string>): Promise<string> =>
  (await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout: 10_000 })).stdout

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls `check` every 100 ms until it answers true, for at most `ms`. */
const waitFor = async (what: string, ms: number, check: () => Promise<boolean>): Promise<void> => {
  const deadline = performance.now() + ms
  for (;;) {
    if (await check().catch(() => false)) return
    if (performance.now() > deadline) throw new Error(`redis-cluster: timed out waiting for ${what}`)
    await sleep(100)
  }
}

const nodeArgs = (port: number, dir: string, nodeTimeoutMs: number, daemonize: boolean): Array<string> => [
  "--port",
  String(port),
  "--bind",
  "127.0.0.1",
  "--cluster-enabled",
  "yes",
  "--cluster-config-file",
  join(dir, "nodes.conf"),
  "--cluster-node-timeout",
  String(nodeTimeoutMs),
  "--dir",
  dir,
  "--save",
  "",
  "--appendonly",
  "no",
  "--protected-mode",
  "no",
  "--daemonize",
  daemonize ? "yes" : "no",
  "--pidfile",
  join(dir, "redis.pid"),
  "--logfile",
  join(dir, "redis.log")
]

/** Starts six nodes, joins them as 3 masters with a replica each, and waits until the cluster serves. */
export const startLocalCluster = async (options: LocalClusterOptions = {}): Promise<LocalCluster> => {
  const basePort = options.basePort ?? DEFAULT_BASE_PORT
  const dir = options.dir ?? dirFor(basePort)
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 5000
  const daemonize = options.daemonize ?? false
  const ports = Array.from({ length: 6 }, (_, i) => basePort + i)
  rmSync(dir, { recursive: true, force: true })
  const children = new Map<number, ChildProcess>()
  const startNode = async (port: number) => {
    const nodeDir = join(dir, String(port))
    mkdirSync(nodeDir, { recursive: true })
    const args = nodeArgs(port, nodeDir, nodeTimeoutMs, daemonize)
    if (daemonize) await run("redis-server", args)
    else children.set(port, spawn("redis-server", args, { stdio: "ignore" }))
    await waitFor(`redis-server on port ${port}`, 10_000, async () => (await cli(port, "ping")).trim() === "PONG")
  }
  const stop = async () => {
    await Promise.all(ports.map((port) => stopNode(port, children.get(port))))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await Promise.all(ports.map(startNode))
    const nodes = ports.map((p) => `127.0.0.1:${p}`)
    await run("redis-cli", ["--cluster", "create", ...nodes, "--cluster-replicas", "1", "--cluster-yes"], {
      timeout: 30_000
    })
    await waitReady(ports)
    return {
      ports,
      dir,
      nodes,
      kill: (port) => {
        const child = children.get(port)
        if (child !== undefined) child.kill("SIGKILL")
        else process.kill(pidOf(port, dir), "SIGKILL")
      },
      restart: startNode,
      stop
    }
  } catch (e) {
    await stop()
    throw e
  }
}

/** Waits until every node says cluster_state:ok and every master has its replica connected. */
const waitReady = async (ports: ReadonlyArray<number>): Promise<void> => {
  await waitFor("cluster_state:ok", 30_000, async () => {
    const infos = await Promise.all(ports.map((p) => cli(p, "cluster", "info")))
    return infos.every((i) => i.includes("cluster_state:ok"))
  })
  await waitFor("replicas in sync", 30_000, async () => {
    const infos = await Promise.all(ports.map((p) => cli(p, "info", "replication")))
    const masters = infos.filter((i) => i.includes("role:master"))
    return masters.length === 3 && masters.every((i) => /connected_slaves:1\b/.test(i) && /state=online/.test(i))
  })
}

const pidOf = (port: number, dir: string): number =>
  Number(readFileSync(join(dir, String(port), "redis.pid"), "utf8").trim())

const stopNode = async (port: number, child: ChildProcess | undefined): Promise<void> => {
  if (child !== undefined) {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
    child.kill("SIGTERM")
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000)
    await exited
    clearTimeout(timer)
    return
  }
  await cli(port, "shutdown", "nosave").catch(() => undefined)
}

/** Stops the daemons `up` started on `basePort`..`basePort + 5` and removes their folder. */
export const stopLocalCluster = async (basePort: number = DEFAULT_BASE_PORT): Promise<void> => {
  const dir = dirFor(basePort)
  await Promise.all(Array.from({ length: 6 }, (_, i) => stopNode(basePort + i, undefined)))
  rmSync(dir, { recursive: true, force: true })
}

const main = async (argv: ReadonlyArray<string>): Promise<number> => {
  const [command, ...rest] = argv
  const portFlag = rest.indexOf("--port")
  const basePort = portFlag >= 0 ? Number(rest[portFlag + 1]) : DEFAULT_BASE_PORT
  if (!Number.isInteger(basePort) || basePort < 1 || basePort > 65530) {
    process.stderr.write(`redis-cluster: --port: expected a port number, got "${rest[portFlag + 1]}"\n`)
    return 2
  }
  if (command === "up") {
    if (!redisInstalled()) {
      process.stderr.write("redis-cluster: redis-server is not installed (Debian: apt-get install redis-server)\n")
      return 1
    }
    const cluster = await startLocalCluster({ basePort, daemonize: true })
    process.stdout.write(
      `Redis Cluster up: 3 masters, 3 replicas in ${cluster.dir}\n` +
        `  store.redis.nodes: [${cluster.nodes.map((n) => `"${n}"`).join(", ")}]\n` +
        `  fleare-ts --store redis-cluster --redis-nodes ${cluster.nodes.join(",")}\n` +
        `Stop it with: npm run redis-cluster -- down${basePort === DEFAULT_BASE_PORT ? "" : ` --port ${basePort}`}\n`
    )
    return 0
  }
  if (command === "down") {
    await stopLocalCluster(basePort)
    process.stdout.write(`Redis Cluster on ports ${basePort}-${basePort + 5} stopped\n`)
    return 0
  }
  process.stderr.write("usage: npm run redis-cluster -- up|down [--port 17000]\n")
  return 2
}

if (process.argv[1] !== undefined && /redisCluster\.[tj]s$/.test(process.argv[1]))
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`redis-cluster: ${e instanceof Error ? e.message : String(e)}\n`)
      process.exitCode = 1
    }
  )

/**
 * `npm run bench:ab`: two builds of fleare-ts side by side (before and after a change), interleaved cell by
 * cell as the main bench interleaves fleare-ts and the baseline, medians of the rounds. It answers "did this
 * change cost throughput?" with the same load loop, connections and CPU reading as `npm run bench`.
 *
 *   npm run bench:ab -- --a /tmp/before/dist/fleare-server.mjs [--b dist/fleare-server.mjs] [--ref COMMIT]
 *
 * `--ref COMMIT` builds the bundle of that commit first (a git worktree under the system temp dir, this
 * checkout's node_modules linked in) and uses it as A. B defaults to this checkout's bundle, rebuilt.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import { parseArgs } from "node:util"
import { defaultLoadOptions } from "./load.js"
import { fmtInt } from "./report.js"
import { runLoad } from "./runLoad.js"
import { median } from "./stats.js"
import { oursSpec, packageRoot, startTarget, type Target } from "./target.js"
import { isTestName, type TestName } from "./workload.js"

const USAGE = `usage: npm run bench:ab -- (--a BUNDLE | --ref COMMIT) [--b BUNDLE] [--config YAML]
       [--tests LIST] [--pipelines LIST] [--rounds N] [--seconds S] [--warmup S] [--connections N]

  --a BUNDLE        the "before" server bundle (a dist/fleare-server.mjs)
  --ref COMMIT      build the bundle of COMMIT and use it as A
  --b BUNDLE        the "after" bundle                  [this checkout's dist/fleare-server.mjs, rebuilt]
  --a-node-options=OPTS, --b-node-options=OPTS
                    node options for A or B after the start script's (e.g. a flag under test)
  --config YAML     server config for both               [{persistence: {enable: false}}]
  --tests LIST      commands                              [set,get]
  --pipelines LIST  pipeline depths                       [1,16]
  --rounds N        interleaved rounds, medians reported  [5]
  --seconds S       measured seconds per cell and side    [3]
  --warmup S        unmeasured seconds before each cell   [0.5]
  --connections N   connections                           [50]`

/** One build under test. */
interface Side {
  readonly label: string
  readonly target: Target
}

/** A side's figures in one cell, one per round. */
interface CellFigures {
  readonly side: Side
  readonly ops: Array<number>
  readonly cpu: Array<number>
}

/** Builds COMMIT's bundle in a temporary worktree; returns the bundle's path and how to remove the worktree. */
const buildRef = (commit: string): { bundle: string; cleanup: () => void } => {
  const dir = mkdtempSync(join(tmpdir(), "fleare-ab-"))
  const git = (...args: Array<string>) => execFileSync("git", args, { cwd: packageRoot, stdio: "inherit" })
  git("worktree", "add", "--detach", dir, commit)
  let removed = false
  const cleanup = () => {
    if (removed) return
    removed = true
    try {
      git("worktree", "remove", "--force", dir)
    } catch {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  // An interrupted run (target.ts exits on SIGINT/SIGTERM) skips `finally`: remove the worktree on the way out.
  process.once("exit", cleanup)
  try {
    symlinkSync(join(packageRoot, "node_modules"), join(dir, "node_modules"))
    execFileSync(process.execPath, [join(dir, "scripts/transpile.mjs")], { stdio: "inherit" })
  } catch (e) {
    cleanup()
    throw e
  }
  return { bundle: join(dir, "dist/fleare-server.mjs"), cleanup }
}

const main = async (): Promise<number> => {
  const { values } = parseArgs({
    options: {
      a: { type: "string" },
      b: { type: "string" },
      "a-node-options": { type: "string" },
      "b-node-options": { type: "string" },
      ref: { type: "string" },
      config: { type: "string" },
      tests: { type: "string" },
      pipelines: { type: "string" },
      rounds: { type: "string" },
      seconds: { type: "string" },
      warmup: { type: "string" },
      connections: { type: "string" },
      help: { type: "boolean" }
    }
  })
  if (values.help || (values.a === undefined) === (values.ref === undefined)) {
    console.log(USAGE)
    return values.help ? 0 : 2
  }
  const tests = (values.tests ?? "set,get").split(",").map((t) => t.trim())
  for (const t of tests) if (!isTestName(t)) throw new Error(`unknown test ${t}`)
  const pipelines = (values.pipelines ?? "1,16").split(",").map(Number)
  const rounds = Number(values.rounds ?? 5)
  const seconds = Number(values.seconds ?? 3)
  const warmup = Number(values.warmup ?? 0.5)
  const connections = Number(values.connections ?? 50)
  const config = values.config ?? "{persistence: {enable: false}}"

  const ref = values.ref === undefined ? undefined : buildRef(values.ref)
  try {
    if (values.b === undefined)
      execFileSync(process.execPath, [join(packageRoot, "scripts/transpile.mjs")], { stdio: "inherit" })
    const bundleA = ref?.bundle ?? resolve(values.a!)
    const bundleB = resolve(values.b ?? join(packageRoot, "dist/fleare-server.mjs"))
    for (const b of [bundleA, bundleB]) if (!existsSync(b)) throw new Error(`no bundle at ${b}`)
    const optionsOf = (s: string | undefined) => (s ?? "").split(" ").filter((o) => o !== "")
    const start = async (label: string, bundle: string, nodeOptions: ReadonlyArray<string>): Promise<Side> => ({
      label,
      target: await startTarget(oursSpec(true, config, label, bundle, nodeOptions))
    })
    const aOptions = optionsOf(values["a-node-options"])
    const bOptions = optionsOf(values["b-node-options"])
    const sides = [await start("A", bundleA, aOptions), await start("B", bundleB, bOptions)]
    const described = (bundle: string, o: ReadonlyArray<string>) =>
      o.length > 0 ? `${bundle} (${o.join(" ")})` : bundle
    console.log(
      `A: ${described(values.ref ?? bundleA, aOptions)}\nB: ${described(bundleB, bOptions)}\nconfig: ${config}`
    )
    console.log(`${rounds} rounds x ${seconds} s per cell, ${connections} connections, interleaved\n`)
    const rows: Array<string> = []
    try {
      for (const test of tests as Array<TestName>)
        for (const pipeline of pipelines) {
          const cell: Array<CellFigures> = sides.map((side) => ({ side, ops: [], cpu: [] }))
          for (let r = 0; r < rounds; r++) {
            // The side that goes first alternates, so neither always meets a warmer or cooler machine.
            const order = r % 2 === 0 ? cell : [...cell].reverse()
            for (const f of order) {
              const { label, target } = f.side
              const cpu0 = target.cpuSeconds()
              const res = await runLoad({
                ...defaultLoadOptions,
                host: "127.0.0.1",
                port: target.port,
                test,
                pipeline,
                connections,
                durationS: seconds,
                warmupS: warmup,
                maxTimeS: warmup + seconds + 60
              })
              if (res.errors.total > 0) throw new Error(`${label} ${test} P${pipeline}: ${res.errors.total} errors`)
              f.ops.push(res.opsPerSec)
              f.cpu.push(((target.cpuSeconds() - cpu0) * 1e6) / res.received)
            }
          }
          const [a, b] = cell as [CellFigures, CellFigures]
          const row = `| ${test.toUpperCase()} | ${pipeline} | ${fmtInt(median(a.ops))} | ${fmtInt(median(b.ops))} | ${(median(b.ops) / median(a.ops)).toFixed(3)} | ${median(a.cpu).toFixed(2)} | ${median(b.cpu).toFixed(2)} | ${(median(b.cpu) / median(a.cpu)).toFixed(3)} |`
          console.error(row)
          rows.push(row)
        }
    } finally {
      for (const s of sides) await s.target.stop()
    }
    console.log(
      "| command | pipeline | A ops/s | B ops/s | B / A | A CPU us/req | B CPU us/req | B / A CPU |\n| --- | --: | --: | --: | --: | --: | --: | --: |"
    )
    for (const r of rows) console.log(r)
    return 0
  } finally {
    ref?.cleanup()
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(`bench:ab: ${e instanceof Error ? e.message : String(e)}`)
    process.exit(1)
  }
)

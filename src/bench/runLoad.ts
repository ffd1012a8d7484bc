/**
 * Running a load: in this thread, or split over worker threads (src/bench/worker.ts) whose results are merged.
 */
import { Worker } from "node:worker_threads"
import { LoadSetupError } from "./connect.js"
import { type LoadOptions, type LoadResult, LoadRun } from "./load.js"
import { ErrorTally, Histogram } from "./stats.js"

/** Splits `total` into `parts` near-equal integers (the first ones get the remainder). */
const split = (total: number, parts: number): Array<number> =>
  Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0))

/** Merges the results of worker threads that ran the same test side by side. */
export const mergeResults = (results: ReadonlyArray<LoadResult>): LoadResult => {
  const first = results[0]!
  const hist = new Histogram()
  const errors = new ErrorTally()
  for (const r of results) {
    hist.merge(r.latencyNs)
    errors.merge(r.errors)
  }
  const sum = (f: (r: LoadResult) => number) => results.reduce((a, r) => a + f(r), 0)
  const measured = sum((r) => r.measured)
  const elapsedS = Math.max(...results.map((r) => r.elapsedS))
  return {
    ...first,
    connections: sum((r) => r.connections),
    sent: sum((r) => r.sent),
    received: sum((r) => r.received),
    measured,
    elapsedS,
    opsPerSec: elapsedS > 0 ? measured / elapsedS : 0,
    latencyNs: hist.toData(),
    errors: errors.toData(),
    stopReason:
      results.find((r) => r.stopReason !== "requests" && r.stopReason !== "duration")?.stopReason ?? first.stopReason
  }
}

/** Messages between `runLoad` and a worker thread (src/bench/worker.ts). */
export type WorkerMessage =
  | { readonly type: "ready" }
  | { readonly type: "failed"; readonly message: string }
  | { readonly type: "result"; readonly result: LoadResult }

/**
 * A worker thread's entry. Built (dist/bench/*.js, as the installed bin runs): worker.js itself. From source
 * (under tsx): registers tsx in the thread, then loads worker.ts (Node 20 does not apply an `--import tsx`
 * given in a worker's execArgv to the worker's own entry module).
 */
const workerBootstrap = (): string =>
  import.meta.url.endsWith(".ts")
    ? `import(${JSON.stringify(import.meta.resolve("tsx/esm/api"))})` +
      `.then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL("./worker.ts", import.meta.url).href)}) })`
    : `import(${JSON.stringify(new URL("./worker.js", import.meta.url).href)})`

/**
 * Runs one test. With `workers` > 1 the connections (and the request budget, and a sequential key range) are
 * split over that many worker threads, which all connect before any starts; their results are merged.
 */
export const runLoad = async (opts: LoadOptions, workers = 1): Promise<LoadResult> => {
  const k = Math.max(1, Math.min(workers, opts.connections))
  if (k === 1) {
    const run = new LoadRun(opts)
    await run.connect()
    return run.run()
  }
  const conns = split(opts.connections, k)
  const budgets = opts.requests === undefined ? undefined : split(opts.requests, k)
  let keyStart = opts.keyStart
  const shares: Array<LoadOptions> = conns.map((connections, i) => {
    const requests = budgets?.[i]
    const share = { ...opts, connections, requests, keyStart, seed: opts.seed + 1000 * i }
    keyStart += requests ?? 0
    return share
  })
  const bootstrap = workerBootstrap()
  const threads = shares.map((share) => new Worker(bootstrap, { eval: true, workerData: share }))
  const next = (w: Worker) =>
    new Promise<WorkerMessage>((resolve, reject) => {
      const onMessage = (m: WorkerMessage) => {
        w.off("error", onError)
        resolve(m)
      }
      const onError = (e: Error) => {
        w.off("message", onMessage)
        reject(e)
      }
      w.once("message", onMessage)
      w.once("error", onError)
    })
  try {
    const ready = await Promise.all(threads.map(next))
    const failed = ready.find((m) => m.type === "failed")
    if (failed !== undefined && failed.type === "failed") throw new LoadSetupError(failed.message)
    const done = threads.map(next)
    for (const w of threads) w.postMessage("go")
    const results = (await Promise.all(done)).map((m) => {
      if (m.type !== "result") throw new LoadSetupError(m.type === "failed" ? m.message : "worker sent no result")
      return m.result
    })
    return mergeResults(results)
  } finally {
    await Promise.all(threads.map((w) => w.terminate()))
  }
}

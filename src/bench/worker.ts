/**
 * A worker thread of `runLoad` (src/bench/load.ts): connects its share of the connections, says "ready", waits
 * for "go", runs and posts its result.
 */
import { parentPort, workerData } from "node:worker_threads"
import { type LoadOptions, LoadRun } from "./load.js"
import type { WorkerMessage } from "./runLoad.js"

const port = parentPort
if (port === null) throw new Error("src/bench/worker.ts runs only as a worker thread")
const post = (m: WorkerMessage) => port.postMessage(m)
const run = new LoadRun(workerData as LoadOptions)
run.connect().then(
  () => {
    port.once("message", () => {
      void run.run().then((result) => post({ type: "result", result }))
    })
    post({ type: "ready" })
  },
  (e: unknown) => post({ type: "failed", message: e instanceof Error ? e.message : String(e) })
)

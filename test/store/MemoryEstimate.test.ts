/**
 * `memory.max_size_mb` bounds memory (issue 10): for every value shape, filling a keyspace to its limit grows
 * the real heap (`process.memoryUsage()`'s `heapUsed` plus `arrayBuffers`, where the key table's typed columns
 * live, after full collections) by between half and twice the
 * estimate. Each shape fills a fresh child process (`test/support/fillMemory.ts`, run with `--expose-gc`), so
 * no other shape's garbage or this worker's heap blurs the figure. Before, 64 MB of lists of `{}` were
 * estimated at 62 MB while the process grew by 540 MB-2 GB.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const LIMIT = 16 * 1024 * 1024

interface Fill {
  readonly shape: string
  readonly keys: number
  readonly estimate: number
  readonly heap: number
}

const fill = (shape: string, policy = "noeviction"): Promise<Fill> =>
  new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--expose-gc", "--import", "tsx", "test/support/fillMemory.ts", String(LIMIT), policy, shape],
      { cwd: root, timeout: 60_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`${shape}: ${error.message}\n${stderr}`))
        const [result] = JSON.parse(stdout) as Array<Fill>
        if (result === undefined) return reject(new Error(`${shape}: no such shape`))
        resolve(result)
      }
    )
  })

const SHAPES = [
  "SET short strings",
  "STR.SET 100-byte strings",
  "STR.APPEND 200 pieces",
  "NUM.SET numbers",
  "LIST.SET of {}",
  "LIST.PUSH of {}",
  "LIST.SET of small objects",
  "LIST.SET of numbers",
  "MAP.SET 20 fields",
  "MAP.SET 2000 fields",
  "deep JSON map",
  "JSON.SET documents"
]

describe("the size estimate tracks the real heap within 2×", () => {
  for (const shape of SHAPES) {
    it(`${shape}, filled to a 16 MiB limit`, async () => {
      const r = await fill(shape)
      // Filled to the limit: the estimate is what the limit allowed.
      expect(r.estimate).toBeGreaterThan(0.9 * LIMIT)
      expect(r.estimate).toBeLessThanOrEqual(LIMIT)
      const ratio = r.heap / r.estimate
      expect({ shape, ratio: ratio > 0.5 && ratio < 2 ? "within 2×" : ratio }).toEqual({ shape, ratio: "within 2×" })
    }, 90_000)
  }

  it("with LRU and LFU (their columns of the key table), short strings and JSON documents too", async () => {
    for (const policy of ["LRU", "LFU"])
      for (const shape of ["SET short strings", "JSON.SET documents"]) {
        const r = await fill(shape, policy)
        const ratio = r.heap / r.estimate
        expect({ policy, shape, ratio: ratio > 0.5 && ratio < 2 ? "within 2×" : ratio }).toEqual({
          policy,
          shape,
          ratio: "within 2×"
        })
      }
  }, 180_000)
})

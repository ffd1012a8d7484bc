/**
 * The status page in a real headless browser (Debian's chromium through playwright-core) while a scripted
 * workload runs against the real server program: it shows the connection, the session, the keys, each command's
 * count, the memory against the limit, charts with a line per busy command, no scripts, and it reloads itself
 * (new writes show up without the test navigating). With FLEARE_SCREENSHOT=<file> it also saves a screenshot (how
 * docs/status-page.png is made).
 */
import { execFileSync } from "node:child_process"
import { existsSync } from "node:fs"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { type BrowserContext, chromium } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type OpsServer, spawnWithMetrics } from "../support/ops.js"
import { WireClient } from "../support/wire.js"

const CHROMIUM = "/usr/bin/chromium"
const profile = mkdtempSync(nodePath.join(tmpdir(), "fleare-chromium-"))
let browser: BrowserContext | undefined
let server: OpsServer | undefined

beforeAll(() => {
  // CI runs as root on Debian: install the browser when it is missing (a few minutes at most).
  if (!existsSync(CHROMIUM)) {
    execFileSync("apt-get", ["update"], { stdio: "inherit", timeout: 300_000 })
    execFileSync("apt-get", ["install", "-y", "chromium"], { stdio: "inherit", timeout: 600_000 })
  }
}, 900_000)

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  rmSync(profile, { recursive: true, force: true })
})

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe("the status page", () => {
  it("shows the workload's connections, sessions, keys, commands and memory, and refreshes itself", async () => {
    server = await spawnWithMetrics(["--config", "{metrics: {sample_seconds: 0.25}, memory: {max_size_mb: 64}}"])
    const c = await WireClient.authed(server.port)
    // Writes and reads in waves over about a second, so several samples see traffic.
    for (let wave = 0; wave < 4; wave++) {
      for (let i = 0; i < 50; i++) c.send("SET", `key:${wave * 50 + i}`, `value ${i}`)
      for (let i = 0; i < 25; i++) c.send("GET", `key:${wave * 50 + i}`)
      for (let i = 0; i < 75; i++) expect((await c.next()).status).toBe("Ok")
      await sleep(300)
    }

    // A new empty profile (playwright passes it as --user-data-dir).
    browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1000, height: 760 },
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync"
      ]
    })
    const page = await browser.newPage()
    const response = await page.goto(`http://127.0.0.1:${server.metricsPort}/`)
    expect(response?.status()).toBe(200)
    expect(await page.title()).toBe("fleare-ts status")
    const text = async (selector: string) => (await page.locator(selector).innerText()).trim()
    expect(await text("#phase")).toBe("serving")
    expect(await text("#connections")).toBe("1")
    expect(await text("#sessions")).toBe("1")
    expect(await text("#keys")).toBe("200")
    expect(await text("#memory")).toMatch(/ of 64\.0 MiB$/)
    expect(await text('tr[data-command="SET"] td:nth-child(3)')).toBe("200")
    expect(await text('tr[data-command="GET"] td:nth-child(3)')).toBe("100")
    expect(await text('tr[data-command="AUTH"] td:nth-child(3)')).toBe("1")
    // A line per busy command in the ops/s chart, a line each for connections and sessions, memory and its limit.
    const lines = async (chart: string) =>
      page.locator(`#${chart} polyline title`).evaluateAll((ts) => ts.map((t) => t.textContent))
    expect(await lines("chart-ops")).toEqual(expect.arrayContaining(["total", "SET", "GET"]))
    expect(await lines("chart-connections")).toEqual(["connections", "sessions"])
    expect(await lines("chart-memory")).toEqual(["used", "limit"])
    // The ops/s line went above zero at some point of the window.
    const opsPeak = await page
      .locator('#chart-ops polyline:has(title:text-is("total"))')
      .getAttribute("points")
      .then((pts) => Math.min(...(pts ?? "").split(" ").map((p) => Number(p.split(",")[1]))))
    expect(opsPeak).toBeLessThan(140 - 18)
    // Plain HTML and SVG: nothing to run.
    expect(await page.evaluate("document.scripts.length")).toBe(0)
    expect(await page.locator('meta[http-equiv="refresh"]').getAttribute("content")).toBe("1")

    // More writes: the page shows them after its own reload, without the test navigating.
    for (let i = 200; i < 250; i++) c.send("SET", `key:${i}`, "more")
    for (let i = 200; i < 250; i++) expect((await c.next()).status).toBe("Ok")
    await page.waitForFunction('document.querySelector("#keys")?.textContent?.trim() === "250"', undefined, {
      timeout: 15_000
    })
    expect(await text('tr[data-command="SET"] td:nth-child(3)')).toBe("250")
    const shot = process.env["FLEARE_SCREENSHOT"]
    if (shot !== undefined && shot !== "") await page.screenshot({ path: shot, fullPage: true })
    c.destroy()
  }, 120_000)
})

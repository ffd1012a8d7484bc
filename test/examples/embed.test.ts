/**
 * examples/embed as a user gets it: the package is built and packed (`npm pack`, with the package's `files`
 * list), the tarball is installed into a temporary copy of the example beside a host Effect that is NOT the
 * development pin (effect 3.21.5, @effect/platform 0.96.3, @effect/platform-node 0.107.0: the bottom of the peer
 * ranges), and the example is type-checked, its program run, its TestClock test run, and the package's bins run
 * from the built JS (the example has no tsx). Also: the README's Embedding section shows the example's files
 * exactly.
 *
 * The build and the install take most of the time (npm installs from its cache after the first run); every step
 * has a time limit, and the temporary directory is removed at the end.
 */
import { execFile, spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = fileURLToPath(new URL("../..", import.meta.url))
const example = path.join(root, "examples", "embed")
const run = promisify(execFile)

/** The host versions the example installs (its package.json), which must differ from the development pins. */
const exampleManifest = JSON.parse(fs.readFileSync(path.join(example, "package.json"), "utf8")) as {
  dependencies: Record<string, string>
}
const rootManifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
  devDependencies: Record<string, string>
  peerDependencies: Record<string, string>
}

/** Runs a command in `cwd` with a time limit; resolves with its output, rejects with it on failure. */
const sh = async (cwd: string, command: string, args: ReadonlyArray<string>, timeout = 120_000) => {
  try {
    return await run(command, [...args], {
      cwd,
      timeout,
      killSignal: "SIGKILL",
      env: { ...process.env, NO_COLOR: "1", npm_config_update_notifier: "false" },
      maxBuffer: 16 * 1024 * 1024
    })
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${command} ${args.join(" ")} failed in ${cwd}: ${err.message}\n${err.stdout}\n${err.stderr}`)
  }
}

/** The text of the README block that follows the line `marker` (a fenced block), as in the file. */
const readmeBlockAfter = (readme: string, marker: string): string => {
  const start = readme.indexOf(marker)
  expect(start, `README has no line ${marker}`).toBeGreaterThanOrEqual(0)
  const m = /```(?:ts|typescript)\n([\s\S]*?)```/.exec(readme.slice(start))
  expect(m, `no code block after ${marker}`).not.toBeNull()
  return m![1]!
}

describe("the README's Embedding section", () => {
  it("shows examples/embed's program and test exactly", () => {
    const readme = fs.readFileSync(path.join(root, "README.md"), "utf8")
    for (const file of ["src/main.ts", "test/expiry.test.ts"]) {
      expect(readmeBlockAfter(readme, `<!-- examples/embed/${file} -->`)).toBe(
        fs.readFileSync(path.join(example, file), "utf8")
      )
    }
  })
})

describe("examples/embed against the packed package", () => {
  let work: string
  let app: string
  let packedFiles: Array<string>
  let pkg: string
  let stage: string

  beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "fleare-embed-"))
    // The package as `npm pack` makes it, built as `npm run build` does into a staging copy, so this test never
    // rewrites the checkout's dist/ (other tests may be running its bins). The copy sits under the checkout's
    // node_modules/.cache so that scripts/entry.mjs, which loads the built index.js, finds Effect.
    const cache = path.join(root, "node_modules", ".cache")
    fs.mkdirSync(cache, { recursive: true })
    stage = fs.mkdtempSync(path.join(cache, "fleare-embed-"))
    pkg = path.join(stage, "pkg")
    fs.mkdirSync(pkg)
    for (const f of ["package.json", "README.md"]) fs.copyFileSync(path.join(root, f), path.join(pkg, f))
    fs.cpSync(path.join(root, "bin"), path.join(pkg, "bin"), { recursive: true })
    const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
    await sh(root, process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", path.join(pkg, "dist")])
    await sh(root, process.execPath, [path.join(root, "scripts", "entry.mjs"), path.join(pkg, "dist")])
    const packed = await sh(pkg, "npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", work])
    const info = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>
    packedFiles = info[0]!.files.map((f) => f.path)
    const tarball = path.join(work, info[0]!.filename)

    app = path.join(work, "app")
    fs.cpSync(example, app, {
      recursive: true,
      filter: (src) => !/[/\\](node_modules|dist|package-lock\.json)$/.test(src)
    })
    const manifest = JSON.parse(fs.readFileSync(path.join(app, "package.json"), "utf8")) as {
      dependencies: Record<string, string>
    }
    manifest.dependencies["fleare-ts"] = `file:${tarball}`
    fs.writeFileSync(path.join(app, "package.json"), JSON.stringify(manifest, null, 2))
    await sh(app, "npm", ["install", "--no-audit", "--no-fund", "--prefer-offline"], 180_000)
  }, 300_000)

  afterAll(() => {
    if (work !== undefined) fs.rmSync(work, { recursive: true, force: true })
    if (stage !== undefined) fs.rmSync(stage, { recursive: true, force: true })
  })

  it("the host Effect differs from the development pin and lies in the peer range", () => {
    const host = exampleManifest.dependencies["effect"]!
    expect(host).not.toBe(rootManifest.devDependencies["effect"])
    expect(rootManifest.peerDependencies["effect"]).toBe(`>=${host} <4.0.0`)
    expect(rootManifest.peerDependencies["@effect/platform"]).toMatch(
      new RegExp(`^>=${exampleManifest.dependencies["@effect/platform"]!.replace(/\./g, "\\.")} `)
    )
    expect(rootManifest.peerDependencies["@effect/platform-node"]).toMatch(
      new RegExp(`^>=${exampleManifest.dependencies["@effect/platform-node"]!.replace(/\./g, "\\.")} `)
    )
  })

  it("ships built JS and type declarations, the bins, and no sources, tests or source maps", () => {
    for (const f of [
      "dist/entry.js",
      "dist/index.js",
      "dist/index.d.ts",
      "dist/main.js",
      "dist/cli/main.js",
      "dist/bench/cli.js"
    ])
      expect(packedFiles).toContain(f)
    for (const f of ["bin/fleare-server", "bin/fleare-cli", "bin/fleare-benchmark", "bin/launch.mjs", "README.md"])
      expect(packedFiles).toContain(f)
    expect(
      packedFiles.filter((f) => /^(src|test|examples|scripts)\/|\.map$|\.ts$/.test(f) && !f.endsWith(".d.ts"))
    ).toEqual([])
  })

  it("installs with one copy of Effect: the host's", async () => {
    const installed = JSON.parse(fs.readFileSync(path.join(app, "node_modules/effect/package.json"), "utf8")) as {
      version: string
    }
    expect(installed.version).toBe(exampleManifest.dependencies["effect"])
    expect(fs.existsSync(path.join(app, "node_modules/fleare-ts/node_modules/effect"))).toBe(false)
    expect(fs.existsSync(path.join(app, "node_modules/tsx"))).toBe(false)
  })

  it("type-checks, and its program starts the server on port 0, talks to it and shuts down", async () => {
    await sh(app, process.execPath, [path.join(app, "node_modules/typescript/bin/tsc")])
    const { stdout } = await sh(app, process.execPath, ["dist/src/main.js"], 60_000)
    expect(stdout).toMatch(/fleare-ts \S+ listening on 127\.0\.0\.1:\d+/)
    expect(stdout).toContain("greeting=hello visits=1")
  }, 180_000)

  it("its TestClock test passes", async () => {
    const { stdout } = await sh(app, process.execPath, [path.join(app, "node_modules/vitest/vitest.mjs"), "run"])
    expect(stdout).toContain("2 passed")
  }, 120_000)

  it("on Effect 4 (an install that skipped the peer check) a bin exits and an import throws, saying what to install", async () => {
    const host = path.join(work, "effect4")
    fs.mkdirSync(path.join(host, "node_modules", "effect"), { recursive: true })
    fs.writeFileSync(
      path.join(host, "node_modules", "effect", "package.json"),
      JSON.stringify({ name: "effect", version: "4.1.5" })
    )
    fs.cpSync(pkg, path.join(host, "node_modules", "fleare-ts"), { recursive: true })
    const r = await sh(host, process.execPath, ["node_modules/fleare-ts/bin/fleare-cli", "--help"]).catch(
      (e: Error) => e.message
    )
    expect(r).toContain(
      "fleare-ts needs effect 3.x, but this app has effect 4.1.5. Install a 3.x version beside it (npm install effect@^3"
    )
    // And an import of the package throws the same Error (the entry checks before loading anything of Effect).
    const imported = await sh(host, process.execPath, [
      "--input-type=module",
      "-e",
      `import("fleare-ts").then(() => console.log("loaded"), (e) => console.log(e.message))`
    ])
    expect(imported.stdout).toMatch(/^fleare-ts needs effect 3\.x, but this app has effect 4\.1\.5\. /)
  })

  it("the bins run from the built JS, with no TypeScript loader installed", async () => {
    const bin = (name: string) => path.join(app, "node_modules", ".bin", name)
    expect((await sh(app, bin("fleare-server"), ["--version"], 30_000)).stdout).toMatch(/^fleare-ts\nVersion: v/)
    expect((await sh(app, bin("fleare-cli"), ["version"], 30_000)).stdout).toMatch(/^fleare-cli\nVersion: v/)
    expect((await sh(app, bin("fleare-benchmark"), ["--help"], 30_000)).stdout).toContain("usage: fleare-benchmark")
  }, 120_000)

  it("fleare-server serves: it logs where it listens, and stops on SIGTERM", async () => {
    const child = spawn(path.join(app, "node_modules", ".bin", "fleare-server"), ["--port", "0"], {
      cwd: app,
      stdio: ["ignore", "pipe", "pipe"]
    })
    try {
      let out = ""
      const listening = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening on" line:\n${out}`)), 60_000)
        const onData = (d: Buffer) => {
          out += d.toString()
          const m = /listening on (127\.0\.0\.1:\d+)/.exec(out)
          if (m !== null) {
            clearTimeout(timer)
            resolve(m[1]!)
          }
        }
        child.stdout.on("data", onData)
        child.stderr.on("data", onData)
      })
      expect(listening).toMatch(/^127\.0\.0\.1:[1-9]\d*$/)
      const code = await new Promise<number | null>((resolve) => {
        child.once("close", resolve)
        child.kill("SIGTERM")
      })
      expect(code).toBe(0)
    } finally {
      child.kill("SIGKILL")
    }
  }, 90_000)
})

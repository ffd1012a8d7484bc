#!/usr/bin/env node
// `prepare` (run by npm install, npm ci, npm pack, and npx on first use in a clone): builds dist/ as
// `npm run build` does (tsc: JavaScript and type declarations; then scripts/entry.mjs: dist/entry.js) unless it
// is already up to date, i.e. dist/entry.js exists and dist/index.d.ts is at least as new as every file in src/
// (tsc writes every output at once; `npm start`'s esbuild pass writes only .js files, so the declarations are
// the mark of a full build).
import { spawnSync } from "node:child_process"
import { existsSync, readdirSync, statSync } from "node:fs"
import { createRequire } from "node:module"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (t, e) => Math.max(t, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs),
    0
  )
const mark = join(root, "dist", "index.d.ts")
const entry = join(root, "dist", "entry.js")
if (existsSync(entry) && existsSync(mark) && statSync(mark).mtimeMs >= newest(join(root, "src"))) {
  console.log("dist/ is up to date")
} else {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
  const run = (args) => spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" }).status ?? 1
  process.exitCode = run([tsc, "-p", "tsconfig.build.json"]) || run([join(root, "scripts", "entry.mjs")])
}

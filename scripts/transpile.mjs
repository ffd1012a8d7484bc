#!/usr/bin/env node
// Fast transpile of src/ to dist/ with esbuild (no type check: `npm run typecheck` and `npm test` do that).
// `npm start` runs the server from dist/ so it starts without tsx's loader (less memory, no per-closure
// naming overhead); this takes well under a second.
import { build } from "esbuild"
import { readdirSync, statSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const files = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return files(path)
    return /\.(ts|mjs)$/.test(name) && !name.endsWith(".d.ts") ? [path] : []
  })

await build({
  entryPoints: files(join(root, "src")),
  outdir: join(root, "dist"),
  outbase: join(root, "src"),
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: true,
  logLevel: "warning"
})

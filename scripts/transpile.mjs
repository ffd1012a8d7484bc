#!/usr/bin/env node
// Fast build of what `npm start` and the compiled CLI run, with esbuild (no type check: `npm run typecheck` and
// `npm test` do that); well under a second.
//   - dist/fleare-server.mjs: the server (src/main.ts) as one bundled module. Bundling drops every module of
//     Effect and the platform packages that the server does not use: idle RSS about 60 MB instead of about 87
//     MB for the same code loaded module by module. A source map is written beside it; Node reads it only under
//     `--enable-source-maps`, which is left off by default because parsing it costs about 45 MB of RSS.
//   - dist/**: every src module transpiled one to one (the CLI's launcher runs dist/cli/main.js).
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

const common = { format: "esm", platform: "node", target: "node20", sourcemap: true, logLevel: "warning" }

await Promise.all([
  build({ ...common, entryPoints: files(join(root, "src")), outdir: join(root, "dist"), outbase: join(root, "src") }),
  build({
    ...common,
    entryPoints: [join(root, "src/main.ts")],
    outfile: join(root, "dist/fleare-server.mjs"),
    bundle: true,
    // Loaded from node_modules only when the Redis Cluster backend starts: the memory backend never parses it.
    external: ["ioredis"],
    // Bundled CommonJS dependencies call `require` for Node's built-ins; an ES module has none of its own.
    banner: {
      js: "import { createRequire as __fleareRequire } from 'node:module'; const require = __fleareRequire(import.meta.url);"
    }
  })
])

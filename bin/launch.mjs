// Shared by the bin launchers: loads one of the package's entry modules from the built JS, dist/<entry>.js
// (`npm run build`, which `prepare` runs on install and pack, writes it), so an installed package runs plain
// JavaScript with no TypeScript loader. In a checkout whose dist/ is missing or older than some file in src/,
// it runs src/<entry>.ts through tsx instead (a devDependency), so a developer never runs stale code.
import { existsSync, readdirSync, realpathSync, statSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const root = join(dirname(realpathSync(fileURLToPath(import.meta.url))), "..")

/** The newest modification time of any file under `dir`. */
const newest = (dir) =>
  readdirSync(dir, { withFileTypes: true }).reduce(
    (t, e) => Math.max(t, e.isDirectory() ? newest(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs),
    0
  )

/**
 * Imports `entry` (e.g. "cli/main") and returns the module. First the Effect version check (effectVersion.js,
 * which loads nothing from Effect): on Effect 4 it exits with a message saying what to install.
 */
export const launch = async (entry) => {
  const built = join(root, "dist", `${entry}.js`)
  const sources = join(root, "src")
  // A published package has no src/: dist is all there is.
  const fresh = existsSync(built) && (!existsSync(sources) || statSync(built).mtimeMs >= newest(sources))
  let load = (name) => import(pathToFileURL(join(root, "dist", `${name}.js`)).href)
  if (!fresh) {
    let tsx
    try {
      tsx = await import("tsx/esm/api")
    } catch {
      tsx = undefined
    }
    if (tsx !== undefined) {
      tsx.register()
      load = (name) => import(pathToFileURL(join(sources, `${name}.ts`)).href)
    } else if (!existsSync(built)) {
      process.stderr.write(`fleare-ts: ${built} is missing; run \`npm run build\` in ${root}\n`)
      process.exit(1)
    }
  }
  try {
    await load("effectVersion")
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`)
    process.exit(1)
  }
  return load(entry)
}

/**
 * What `npm start` runs, read from package.json, so that the bench measures exactly what users run: the bundle
 * and the node options the start script gives it.
 */
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"

/** The bundle `npm start` runs (scripts/transpile.mjs writes it). */
export const SERVER_BUNDLE = "dist/fleare-server.mjs"

const packageJson = fileURLToPath(new URL("../../package.json", import.meta.url))

/** The node options before the bundle in a start script (`... node [options] dist/fleare-server.mjs`). */
export const startNodeOptions = (
  startScript: string = (JSON.parse(readFileSync(packageJson, "utf8")) as { scripts: { start: string } }).scripts.start
): ReadonlyArray<string> => {
  const m = /\bnode((?: --?[\w-]+(?:=\S+)?)*) dist\/fleare-server\.mjs\b/.exec(startScript)
  if (m === null) throw new Error(`the start script does not run node ... ${SERVER_BUNDLE}: ${startScript}`)
  return m[1]!.split(" ").filter((o) => o !== "")
}

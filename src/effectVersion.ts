/**
 * Refuses to load on a major version of Effect other than 3, with a message saying what to install. Effect and
 * its platform packages are peer dependencies (the host app's single copy is used). npm refuses to install this
 * package beside Effect 4 (the peer ranges end below 4); this module is for installs that skip the peer check
 * (`--force`, `--legacy-peer-deps`). It imports nothing from Effect, so it loads where the rest cannot: the
 * package's entry (dist/entry.js, written by scripts/entry.mjs) and the bin launcher (bin/launch.mjs) run it
 * before loading anything else, which on Effect 4 would fail on a missing module (`effect/Either`) with no word
 * about versions.
 */
import { createRequire } from "node:module"

/** The major version of Effect this package is written for. */
export const EFFECT_MAJOR = 3

/** The version of the `effect` package this module resolves, or undefined when it cannot be read. */
export const installedEffectVersion = (): string | undefined => {
  try {
    const load = createRequire(import.meta.url)
    const pkg = load("effect/package.json") as { readonly version?: unknown }
    return typeof pkg.version === "string" ? pkg.version : undefined
  } catch {
    return undefined
  }
}

/** The error for an unsupported Effect version, or undefined when `version` is a 3.x. */
export const effectVersionError = (version: string | undefined): Error | undefined =>
  version === undefined || version.split(".")[0] === String(EFFECT_MAJOR)
    ? undefined
    : new Error(
        `fleare-ts needs effect ${EFFECT_MAJOR}.x, but this app has effect ${version}. ` +
          `Install a 3.x version beside it (npm install effect@^${EFFECT_MAJOR} @effect/platform@0.97 ` +
          `@effect/platform-node@0.108), or use a fleare-ts release written for Effect ${version.split(".")[0]}.`
      )

const error = effectVersionError(installedEffectVersion())
if (error !== undefined) throw error

/** The import-time guard against an Effect other than 3.x (for installs that skipped npm's peer check). */
import { describe, expect, it } from "@effect/vitest"
import { effectVersionError, installedEffectVersion } from "../../src/effectVersion.js"

describe("the Effect version guard", () => {
  it("accepts the installed Effect (3.x) and any 3.x", () => {
    expect(installedEffectVersion()).toMatch(/^3\./)
    expect(effectVersionError(installedEffectVersion())).toBeUndefined()
    expect(effectVersionError("3.21.5")).toBeUndefined()
  })

  it("refuses Effect 4 with a message saying what to install", () => {
    expect(effectVersionError("4.1.5")?.message).toBe(
      "fleare-ts needs effect 3.x, but this app has effect 4.1.5. Install a 3.x version beside it " +
        "(npm install effect@^3 @effect/platform@0.97 @effect/platform-node@0.108), or use a fleare-ts release " +
        "written for Effect 4."
    )
  })
})

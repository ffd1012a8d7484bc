import { describe, expect, it } from "@effect/vitest"
import { allCommands } from "../../src/commands/registry.js"
import { type CommandClass, classBit, mayRun, parseRole, roleMask, roles } from "../../src/session/Role.js"

const classes: ReadonlyArray<CommandClass> = ["read", "write", "admin", "connection", "subscribe", "publish"]

describe("roles", () => {
  it("the per-session mask answers what mayRun answers, for every role and class", () => {
    for (const role of roles)
      for (const cls of classes)
        expect((roleMask(role) & classBit(cls)) !== 0, `${role} ${cls}`).toBe(mayRun(role, cls))
  })

  it("ReadOnly may read but not write or administer; User may not administer", () => {
    expect(mayRun("ReadOnly", "read")).toBe(true)
    expect(mayRun("ReadOnly", "write")).toBe(false)
    expect(mayRun("ReadOnly", "publish")).toBe(false)
    expect(mayRun("User", "admin")).toBe(false)
    expect(mayRun("Admin", "admin")).toBe(true)
  })

  it("every command's classBit is its class's bit, one bit each", () => {
    for (const spec of allCommands) expect(spec.classBit).toBe(classBit(spec.class))
    expect(new Set(classes.map(classBit)).size).toBe(classes.length)
    for (const cls of classes) expect(Math.log2(classBit(cls)) % 1).toBe(0)
  })

  it("parses role names in any case into their canonical spelling", () => {
    expect(parseRole("readonly")).toBe("ReadOnly")
    expect(parseRole("ADMIN")).toBe("Admin")
    expect(parseRole("owner")).toBeUndefined()
  })
})

import { describe, expect, it } from "@effect/vitest"
import { allCommands, isAuthBytes, lookupCommand, lookupCommandBytes } from "../../src/commands/registry.js"

/** The name bytes inside a larger buffer, so that offsets matter. */
const framed = (name: string): [Buffer, number, number] => {
  const bytes = Buffer.from(name, "utf8")
  return [Buffer.concat([Buffer.from("xx"), bytes, Buffer.from("yy")]), 2, 2 + bytes.length]
}

const byBytes = (name: string) => lookupCommandBytes(...framed(name))

describe("command lookup by name bytes", () => {
  it("finds every command in upper, lower and mixed case, as lookupCommand does", () => {
    for (const spec of allCommands) {
      const mixed = [...spec.name].map((c, i) => (i % 2 ? c.toLowerCase() : c)).join("")
      for (const name of [spec.name, spec.name.toLowerCase(), mixed]) {
        expect(byBytes(name)).toBe(spec)
        expect(byBytes(name)).toBe(lookupCommand(name))
      }
    }
  })

  it("finds nothing for unknown names, prefixes, extensions or names that differ only in non-letters", () => {
    for (const name of ["", "NOPE", "SE", "SETX", "STR_SET", "STR-SET", "P1NG", "GET ", " GET", "\u0000GET"])
      expect(byBytes(name)).toBeUndefined()
  })

  it("takes a non-ASCII name through Unicode upper-casing, as lookupCommand (Go's strings.ToUpper) does", () => {
    // U+017F LATIN SMALL LETTER LONG S upper-cases to S.
    expect(byBytes("ſet")?.name).toBe("SET")
    expect(byBytes("ſet")).toBe(lookupCommand("ſet"))
    expect(byBytes("gét")).toBeUndefined()
  })

  it("recognises AUTH in any case and nothing else", () => {
    for (const name of ["AUTH", "auth", "AuTh"]) expect(isAuthBytes(...framed(name))).toBe(true)
    for (const name of ["AUT", "AUTHS", "PING", "", "ÄUTH", "auth "]) expect(isAuthBytes(...framed(name))).toBe(false)
  })
})

/**
 * The server program explains itself: `--help` lists every configuration key (the list is derived here from the
 * Schema that decodes the configuration, independently of the help code) and every flag; `--print-config` prints
 * the effective configuration after the file, the `config` environment variable and flags, with passwords masked;
 * `version` prints the version; an unknown `logging.level` is a startup error naming the key.
 */
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import * as AST from "effect/SchemaAST"
import { afterAll, describe, expect, it } from "vitest"
import { parse } from "yaml"
import { ServerConfigSchema } from "../../src/config/ServerConfig.js"
import { VERSION } from "../../src/version.js"
import { runServerToExit } from "../support/process.js"

const dir = mkdtempSync(nodePath.join(tmpdir(), "fleare-cli-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** Every key path of the Schema: struct fields, and list items' fields as `list[].field`. */
const schemaKeys = (ast: AST.AST, prefix: string): Array<string> => {
  if (AST.isTypeLiteral(ast))
    return ast.propertySignatures.flatMap((p) => {
      const path = prefix === "" ? String(p.name) : `${prefix}.${String(p.name)}`
      let t = p.type
      while (AST.isRefinement(t)) t = t.from
      if (AST.isTypeLiteral(t)) return schemaKeys(t, path)
      if (AST.isTupleType(t)) return [path, ...schemaKeys(t.rest[0]!.type, `${path}[]`)]
      return [path]
    })
  return []
}

describe("fleare-server --help, --print-config, version", () => {
  it("--help lists every configuration key of the Schema with its type and default, and every flag", async () => {
    const { code, output } = await runServerToExit(["--help"])
    expect(code).toBe(0)
    const keys = schemaKeys(ServerConfigSchema.ast, "")
    expect(keys.length).toBeGreaterThan(30)
    expect(keys).toContain("metrics.port")
    expect(keys).toContain("security.users[].password")
    const lines = output.split("\n")
    for (const key of keys) {
      const line = lines.find((l) => l.trimStart().startsWith(`${key} `))
      expect(line, key).toBeDefined()
    }
    expect(lines.find((l) => l.trimStart().startsWith("server.port "))).toMatch(
      /integer >= 0, <= 65535 \(default: 9219\)/
    )
    expect(lines.find((l) => l.trimStart().startsWith("logging.format "))).toMatch(
      /"text" \| "json" \(default: "text"\)/
    )
    for (const flag of [
      "--config-path",
      "--config",
      "--host",
      "--port",
      "--loglevel",
      "--metrics-port",
      "--repair",
      "--restore",
      "--print-config",
      "--version",
      "--help"
    ])
      expect(output).toContain(flag)
    // The default root password is a secret too.
    expect(lines.find((l) => l.trimStart().startsWith("security.users "))).not.toContain("root")
  })

  it("--print-config prints file, environment and flags merged, passwords masked", async () => {
    const file = nodePath.join(dir, "fleare.yaml")
    writeFileSync(
      file,
      'server: {port: 9300}\nsecurity: {users: [{username: alice, password: "file-secret-1", role: root}]}\n'
    )
    const { code, output } = await runServerToExit(
      ["--config-path", file, "--port", "9301", "--metrics-port", "9400", "--print-config"],
      {
        config: 'memory: {max_size_mb: 64}\nsecurity: {users: [{username: bob, password: "env-secret-2", role: root}]}'
      }
    )
    expect(code).toBe(0)
    expect(output).not.toContain("file-secret-1")
    expect(output).not.toContain("env-secret-2")
    const printed = parse(output) as {
      server: { port: number }
      memory: { max_size_mb: number }
      metrics: { port: number }
      security: { users: Array<{ username: string; password: string }> }
    }
    expect(printed.server.port).toBe(9301)
    expect(printed.memory.max_size_mb).toBe(64)
    expect(printed.metrics.port).toBe(9400)
    expect(printed.security.users).toEqual([{ username: "bob", password: "********", role: "root" }])
  })

  it("version prints the version; an unknown logging.level stops startup naming the key", async () => {
    const version = await runServerToExit(["version"])
    expect(version.code).toBe(0)
    expect(version.output).toContain(`Version: v${VERSION}`)
    // The package's bin runs the same program.
    const bin = execFileSync(
      process.execPath,
      [fileURLToPath(new URL("../../bin/fleare-server", import.meta.url)), "version"],
      {
        encoding: "utf8",
        timeout: 30_000
      }
    )
    expect(bin).toContain(`Version: v${VERSION}`)
    const bad = await runServerToExit(["--config", "logging: {level: chatty}", "--port", "0"])
    expect(bad.code).toBe(1)
    expect(bad.output).toContain("logging.level")
    expect(bad.output).toContain('unknown level "chatty"')
    expect(bad.output).not.toContain("listening on")
  })
})

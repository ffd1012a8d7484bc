/**
 * The command reference cannot lie: every command in the table has an example, every example runs against a
 * real server with exactly the documented reply, and README.md and docs/COMMANDS.md are the generator's
 * current output (`npm run docs` regenerates them).
 */
import { readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import type { CommandSpec } from "../../src/commands/Command.js"
import { allCommands } from "../../src/commands/registry.js"
import {
  examples,
  exampleProblems,
  normalizeVolatile,
  readmeSection,
  renderCommandsDoc,
  renderReadmeSection,
  renderTable,
  spliceReadme
} from "../../src/tools/commandsDoc.js"
import { startServer, type TestServer } from "../support/server.js"
import { WireClient } from "../support/wire.js"

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), "utf8")

describe("examples", () => {
  it("every command in the table has one, and every one names a command in the table", () => {
    expect(exampleProblems()).toEqual([])
  })

  it("the check reports a missing example and an unknown name", () => {
    const fake = { ...allCommands[0]!, name: "NOPE.CMD" } as CommandSpec
    expect(exampleProblems([...allCommands, fake], { ...examples, "GHOST.CMD": { args: [], reply: "" } })).toEqual([
      "NOPE.CMD has no example",
      "the example for GHOST.CMD names no command in the table"
    ])
  })
})

describe("every example against a real server, in table order", () => {
  let s: TestServer
  let c: WireClient
  beforeAll(async () => {
    s = await startServer()
    c = await WireClient.authed(s.port)
  })
  afterAll(async () => {
    c?.destroy()
    await s?.close()
  })

  // One test per command; they share the connection and run in order, as the docs say.
  for (const spec of allCommands) {
    const example = examples[spec.name]
    it(`${spec.name}`, async () => {
      expect(example, `${spec.name} has no example`).toBeDefined()
      if (example!.noReply) {
        // No frame of its own: the next reply is the PING's.
        c.send(spec.name, ...example!.args)
        expect((await c.call("PING", "after")).result).toBe("PONG after")
        return
      }
      const r = await c.call(spec.name, ...example!.args)
      expect({ status: r.status, result: normalizeVolatile(r.result) }).toEqual({
        status: "Ok",
        result: normalizeVolatile(example!.reply)
      })
    })
  }
})

describe("normalizeVolatile", () => {
  it("hides only ids, times, the port, the uptime and the version", () => {
    expect(
      normalizeVolatile(
        '{"session_id":"12-127.0.0.1:5501","created_at":"2026-11-27T11:26:38.5Z","x":"2026-11-27T11:26:38Z",' +
          '"host_address":"127.0.0.1:9219","uptime_seconds":17,"version":"1.2.3","key_length":3}'
      )
    ).toBe(
      '{"session_id":"<client-id>","created_at":"<time>","x":"<time>","host_address":"127.0.0.1:<port>",' +
        '"uptime_seconds":<n>,"version":"<version>","key_length":3}'
    )
  })
})

describe("generated files are current (run `npm run docs` after changing the command table)", () => {
  it("README.md between the markers", () => {
    expect(readmeSection(read("README.md"))).toBe(renderReadmeSection())
  })

  it("docs/COMMANDS.md", () => {
    expect(read("docs/COMMANDS.md")).toBe(renderCommandsDoc())
  })

  it("the table has a row per command with its syntax, roles and example", () => {
    const table = renderTable()
    const rows = table.trimEnd().split("\n")
    expect(rows).toHaveLength(allCommands.length + 2)
    expect(rows).toContain(
      "| `STR.RANGE` | `<key> <start> <length>` | Returns &lt;length&gt; characters from &lt;start&gt; (negative start " +
        "counts from the end, negative length to the end). | read (all roles) | `STR.RANGE greeting 7 5` → `world` |"
    )
    expect(rows).toContain(
      "| `JSON.GET` | `<key> [<path> [<refPath> ...]]` | Returns the stored document as sent, or with a path " +
        '(even "") the value there as sorted JSON, refs resolved. | read (all roles) | ' +
        "`JSON.GET user:3 ''` → `{\"address\":{\"city\":\"NY\"},\"name\":\"John\"}` |"
    )
    expect(rows).toContain(
      "| `SESSION.KILL` | `<session_id>` | Ends a session and closes its connection: 1 if it existed, 0 if not. | " +
        "admin (root, Admin) | `SESSION.KILL 7-127.0.0.1:40001` → `0` |"
    )
  })

  it("splicing replaces only what is between the markers", () => {
    const doc = "# T\n\n<!-- commands:begin -->\nold\n<!-- commands:end -->\n\nafter\n"
    expect(spliceReadme(doc, "new\n")).toBe("# T\n\n<!-- commands:begin -->\nnew\n<!-- commands:end -->\n\nafter\n")
    expect(spliceReadme("no markers", "x")).toBeUndefined()
  })
})

describe("README: Memory limit and eviction", () => {
  it("an entry counts 96 bytes + the key's and the value's heap estimate, as STATUS's total_size shows", async () => {
    const srv = await startServer({ shard: { shard_count: 1 } })
    const c = await WireClient.authed(srv.port)
    try {
      await c.ok("SET", "kö", "héllo") // 96 + (16 + 3) + (16 + 6)
      await c.ok("NUM.SET", "n", "123456789") // 96 + (16 + 1) + 16
      await c.ok("LIST.SET", "l", "1", "ab") // 96 + (16 + 1) + 48 + 2 × 8 + (16 + 2)
      const status = JSON.parse(await c.ok("STATUS"))
      expect(status.shard_info["0"].total_size).toBe(`${137 + 129 + 195} bytes`)
    } finally {
      c.destroy()
      await srv.close()
    }
  })

  it("noeviction refuses a write over the limit with the documented text", async () => {
    const srv = await startServer({ memory: { max_size_mb: 1, eviction_policy: "noeviction" } })
    const c = await WireClient.authed(srv.port)
    try {
      const r = await c.call("SET", "big", "x".repeat(1024 * 1024))
      expect({ status: r.status, result: r.result }).toEqual({
        status: "Error",
        result: "OutOfMemoryError: command not allowed when used memory > 'max_size_mb'"
      })
      expect(await c.ok("SET", "small", "x")).toBe("")
    } finally {
      c.destroy()
      await srv.close()
    }
  })
})

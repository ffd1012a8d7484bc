/**
 * The CLI's pure parts: shell-style splitting, reply formatting, help and completion from the command table,
 * and the startup hint.
 */
import { describe, expect, it } from "@effect/vitest"
import { allCommands } from "../../src/commands/registry.js"
import { connectHint } from "../../src/cli/connectHint.js"
import { stepOfLine } from "../../src/cli/execute.js"
import { colors, formatError, formatOk, noColors, prettyJson } from "../../src/cli/format.js"
import { complete, helpText } from "../../src/cli/help.js"
import { splitWords } from "../../src/cli/words.js"

const words = (line: string) => {
  const r = splitWords(line)
  return r._tag === "Words" ? r.words : r.message
}

describe("splitWords", () => {
  it("splits on blanks and keeps quoted text whole", () => {
    expect(words("  set   greeting 'hello world' ")).toEqual(["set", "greeting", "hello world"])
    expect(words(`json.set u1 '{"name": "Ann", "n": 1}'`)).toEqual(["json.set", "u1", '{"name": "Ann", "n": 1}'])
    expect(words(`set k "say \\"hi\\" to \\\\ and \\n"`)).toEqual(["set", "k", 'say "hi" to \\ and \\n'])
    expect(words(`set k it\\'s\\ fine`)).toEqual(["set", "k", "it's fine"])
    expect(words(`set k 'single \\ keeps "all"'`)).toEqual(["set", "k", 'single \\ keeps "all"'])
  })

  it("keeps empty quoted words and joins adjacent pieces", () => {
    expect(words(`json.get k ""`)).toEqual(["json.get", "k", ""])
    expect(words(`json.get k ''`)).toEqual(["json.get", "k", ""])
    expect(words(`a"b c"'d e'f`)).toEqual(["ab cd ef"])
    expect(words("")).toEqual([])
  })

  it("refuses an open quote or a trailing backslash", () => {
    expect(words(`set k 'open`)).toBe("unterminated single quote")
    expect(words(`set k "open`)).toBe("unterminated double quote")
    expect(words(`set k v\\`)).toBe("trailing backslash")
  })

  it("lines: blank and # lines do nothing; exit and help are local", () => {
    expect(stepOfLine("   ")).toEqual({ _tag: "Nothing" })
    expect(stepOfLine("  # a comment")).toEqual({ _tag: "Nothing" })
    expect(stepOfLine("EXIT")).toEqual({ _tag: "Exit" })
    expect(stepOfLine("help get")).toEqual({ _tag: "Help", topic: "get" })
    expect(stepOfLine("Get 'a b'")).toEqual({ _tag: "Send", command: "Get", args: ["a b"] })
    expect(stepOfLine("get 'a")).toEqual({ _tag: "Invalid", message: "unterminated single quote" })
  })
})

describe("formatting replies", () => {
  it("pretty-prints objects and arrays with sorted keys and 2-space indent", () => {
    expect(prettyJson('{"b":1,"a":{"d":[1,2],"c":{}},"e":[]}')).toBe(
      [
        "{",
        '  "a": {',
        '    "c": {},',
        '    "d": [',
        "      1,",
        "      2",
        "    ]",
        "  },",
        '  "b": 1,',
        '  "e": []',
        "}"
      ].join("\n")
    )
    expect(prettyJson('[{"y":null,"x":true}]')).toBe('[\n  {\n    "x": true,\n    "y": null\n  }\n]')
  })

  it("keeps scalars exactly as sent: big numbers and escapes", () => {
    expect(prettyJson('{"n":12345678901234567890,"f":1e+21,"s":"\\u003cb\\u003e"}')).toBe(
      '{\n  "f": 1e+21,\n  "n": 12345678901234567890,\n  "s": "\\u003cb\\u003e"\n}'
    )
  })

  it("sorts keys by UTF-8 bytes, as Go does", () => {
    // U+FF5E sorts before U+1F600 in UTF-8 (EF BD 9E < F0 9F 98 80) but after it in UTF-16 units.
    expect(prettyJson('{"😀":1,"～":2}')).toBe('{\n  "～": 2,\n  "😀": 1\n}')
  })

  it("leaves anything else alone", () => {
    for (const t of ["", "PONG ", "42", '"quoted"', "null", "{not json", "[1,"]) expect(prettyJson(t)).toBeUndefined()
  })

  it("Ok and Error lines, coloured only with a palette", () => {
    expect(formatOk("", noColors)).toBe("Ok")
    expect(formatOk("PONG x", noColors)).toBe("Ok PONG x")
    expect(formatOk('{"a":1}', noColors)).toBe('Ok {\n  "a": 1\n}')
    expect(formatError("InvalidKeyError: Key must be provided\n", noColors)).toBe(
      "Error InvalidKeyError: Key must be provided"
    )
    expect(formatOk('{"a":"x"}', colors)).toBe('\x1b[32mOk\x1b[0m {\n  \x1b[34;1m"a"\x1b[0m: \x1b[32m"x"\x1b[0m\n}')
    expect(formatError("boom", colors)).toBe("\x1b[31mError\x1b[0m boom")
  })
})

describe("help and completion from the command table", () => {
  it("lists every command of the table with its syntax and summary", () => {
    const text = helpText()!
    for (const c of allCommands) {
      expect(text).toContain(c.syntax)
      expect(text).toContain(c.summary)
    }
    expect(text).toContain("HELP [command]")
    expect(text).toContain("EXIT")
  })

  it("describes one command, any case", () => {
    const get = allCommands.find((c) => c.name === "GET")!
    expect(helpText("get")).toBe(`${get.syntax}\n  ${get.summary}`)
    expect(helpText("nope")).toBeUndefined()
  })

  it("completes command names in the case being typed, and after help", () => {
    const lists = allCommands.filter((c) => c.name.startsWith("LIST.")).map((c) => c.name)
    expect(complete("list.")).toEqual([lists.map((n) => n.toLowerCase()).sort(), "list."])
    expect(complete("LIST.P")).toEqual([lists.filter((n) => n.startsWith("LIST.P")).sort(), "LIST.P"])
    expect(complete("he")).toEqual([["help"], "he"])
    expect(complete("help ses")).toEqual([["session", "session.kill", "session.list"], "ses"])
    expect(complete("get some")).toEqual([[], ""])
    expect(complete("")[0].length).toBe(allCommands.length + 3) // + AUTH, HELP, EXIT
  })
})

describe("connectHint", () => {
  const users = [{ username: "admin" }, { username: "root" }]
  it("names the address and the root user, never a password", () => {
    expect(connectHint({ security: { enable_auth: true, users } }, { host: "127.0.0.1", port: 9219 })).toBe(
      "connect with: npx fleare-cli --host 127.0.0.1 --port 9219 -u root"
    )
  })
  it("reaches an all-interfaces server on loopback, and leaves out -u without auth", () => {
    expect(connectHint({ security: { enable_auth: false, users } }, { host: "0.0.0.0", port: 4775 })).toBe(
      "connect with: npx fleare-cli --host 127.0.0.1 --port 4775"
    )
  })
})

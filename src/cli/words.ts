/**
 * Splits a command line into words the way a POSIX shell does, so values with spaces and JSON can be typed:
 *
 *   set greeting 'hello world'       → ["set", "greeting", "hello world"]
 *   json.set u1 '{"name": "Ann"}'     → ["json.set", "u1", "{\"name\": \"Ann\"}"]
 *   json.get u1 ""                    → ["json.get", "u1", ""]
 *   set path C:\\dir "say \"hi\""     → ["set", "path", "C:\\dir", "say \"hi\""]
 *
 * Single quotes keep everything literally; double quotes keep everything but `\"`, `\\`, `\$` and `` \` ``;
 * outside quotes a backslash keeps the next character. Adjacent pieces join (`a"b c"` is `ab c`).
 */

/** The words of a line, or why it cannot be split (an open quote, a trailing backslash). */
export type SplitResult =
  | { readonly _tag: "Words"; readonly words: ReadonlyArray<string> }
  | { readonly _tag: "Invalid"; readonly message: string }

const isSpace = (c: string): boolean => c === " " || c === "\t" || c === "\n" || c === "\r"

/** Characters a backslash escapes inside double quotes (POSIX); before any other, the backslash stays. */
const DOUBLE_QUOTED_ESCAPES = new Set(['"', "\\", "$", "`"])

/** Splits `line` into words. */
export const splitWords = (line: string): SplitResult => {
  const words: Array<string> = []
  let word = ""
  // A word exists once anything (even an empty quoted string) was read for it.
  let inWord = false
  let i = 0
  while (i < line.length) {
    const c = line[i]!
    if (isSpace(c)) {
      if (inWord) words.push(word)
      word = ""
      inWord = false
      i++
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end < 0) return { _tag: "Invalid", message: "unterminated single quote" }
      word += line.slice(i + 1, end)
      inWord = true
      i = end + 1
    } else if (c === '"') {
      i++
      let closed = false
      while (i < line.length) {
        const d = line[i]!
        if (d === '"') {
          closed = true
          i++
          break
        }
        if (d === "\\" && i + 1 < line.length && DOUBLE_QUOTED_ESCAPES.has(line[i + 1]!)) {
          word += line[i + 1]
          i += 2
        } else {
          word += d
          i++
        }
      }
      if (!closed) return { _tag: "Invalid", message: "unterminated double quote" }
      inWord = true
    } else if (c === "\\") {
      if (i + 1 >= line.length) return { _tag: "Invalid", message: "trailing backslash" }
      word += line[i + 1]
      inWord = true
      i += 2
    } else {
      word += c
      inWord = true
      i++
    }
  }
  if (inWord) words.push(word)
  return { _tag: "Words", words }
}

/**
 * The per-command work caps of the `limits:` configuration block (README "Data limits"): where Fleare's syntax
 * lets one small request fan out without bound (ref paths, path segments, expression length), the request is
 * refused up front with an `InvalidArgumentError` naming the limit and its configuration key.
 */
import { fail, type CommandFailed } from "../errors.js"
import { utf8Length } from "../protocol/Utf8.js"

/** True when `path` has more than `max` dot-separated segments (counted without splitting). */
export const tooManySegments = (path: string, max: number): boolean => {
  let dots = 0
  for (let i = path.indexOf("."); i !== -1; i = path.indexOf(".", i + 1)) if (++dots >= max) return true
  return false
}

/** `InvalidArgumentError` for a path over `limits.max_path_segments`, or undefined when `path` is within it. */
export const checkPathSegments = (path: string, max: number): CommandFailed | undefined =>
  tooManySegments(path, max)
    ? fail.argument(`path has more than ${max} segments (limits.max_path_segments)`)
    : undefined

/** `InvalidArgumentError` for more refPaths than `limits.max_ref_paths`, or undefined. */
export const checkRefPaths = (count: number, max: number): CommandFailed | undefined =>
  count > max ? fail.argument(`more than ${max} ref paths (limits.max_ref_paths)`) : undefined

/** `InvalidArgumentError` for an expression over `limits.max_expression_bytes`, or undefined. */
export const checkExpression = (expr: string, max: number): CommandFailed | undefined =>
  // A string of n UTF-16 units has at least n and at most 3n UTF-8 bytes: measure only when it matters.
  expr.length > max || (expr.length * 3 > max && utf8Length(expr) > max)
    ? fail.argument(`expression longer than ${max} bytes (limits.max_expression_bytes)`)
    : undefined

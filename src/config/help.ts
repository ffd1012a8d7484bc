/**
 * The server explains its configuration from the same Schema that decodes it: `configKeys` walks the Schema's
 * AST into every key's dotted path and type, with its default from the embedded defaults; `configHelp` is the
 * `--help` section built from them. `maskSecrets` and `printConfig` serve `--print-config`.
 */
import * as Option from "effect/Option"
import * as AST from "effect/SchemaAST"
import { stringify } from "yaml"
import { embeddedDefaults } from "./defaults.js"
import { ServerConfigSchema, type ServerConfigShape } from "./ServerConfig.js"

/** One configuration key as `--help` lists it. */
export interface ConfigKey {
  /** Dotted path; list items as `[]` (`security.users[].password`). */
  readonly path: string
  /** The type, in words (`integer >= 0, <= 65535`, `"text" | "json"`, `list`). */
  readonly type: string
  /** The embedded default, as YAML would read it (`undefined` under a list). */
  readonly default: unknown
}

/** What a refinement's description says, shortened; `undefined` drops it (a custom check, named in errors). */
const constraint = (description: string): string | undefined => {
  if (description === "an integer") return "integer"
  if (description.startsWith("one of: ")) return description.slice(8)
  if (description === "a non-negative number") return ">= 0"
  if (description === "a positive number") return "> 0"
  const le = /less than or equal to (\S+)/.exec(description)
  if (le) return `<= ${le[1]}`
  const atLeast = /at least (\d+) character/.exec(description)
  if (atLeast) return atLeast[1] === "1" ? "non-empty" : `>= ${atLeast[1]} characters`
  return undefined
}

/** A leaf type in words. */
export const describeType = (ast: AST.AST): string => {
  const constraints: Array<string> = []
  let node = ast
  while (AST.isRefinement(node)) {
    const d = Option.flatMap(AST.getDescriptionAnnotation(node), (s) => Option.fromNullable(constraint(s)))
    if (Option.isSome(d)) constraints.unshift(d.value)
    node = node.from
  }
  let base: string
  if (AST.isUnion(node) && node.types.every(AST.isLiteral))
    base = node.types.map((t) => JSON.stringify((t as AST.Literal).literal)).join(" | ")
  else if (AST.isStringKeyword(node)) base = "string"
  else if (AST.isBooleanKeyword(node)) base = "boolean"
  else if (AST.isNumberKeyword(node)) {
    const i = constraints.indexOf("integer")
    base = i >= 0 ? "integer" : "number"
    if (i >= 0) constraints.splice(i, 1)
  } else if (AST.isTupleType(node)) base = "list"
  else base = String(node)
  return constraints.length === 0 ? base : `${base} ${constraints.join(", ")}`
}

const defaultAt = (path: ReadonlyArray<string>): unknown => {
  let v: unknown = embeddedDefaults
  for (const k of path) {
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined
    v = (v as Record<string, unknown>)[k]
  }
  return v
}

/** Every key of the configuration Schema, in Schema order (lists and their items' keys included). */
export const configKeys = (ast: AST.AST = ServerConfigSchema.ast): ReadonlyArray<ConfigKey> => {
  const out: Array<ConfigKey> = []
  const walk = (node: AST.AST, path: ReadonlyArray<string>, inList: boolean) => {
    if (AST.isTypeLiteral(node)) {
      for (const p of node.propertySignatures) walk(p.type, [...path, String(p.name)], inList)
      return
    }
    const dotted = path.join(".")
    out.push({ path: dotted, type: describeType(node), default: inList ? undefined : defaultAt(path) })
    if (AST.isTupleType(node) && node.rest.length > 0) {
      const item = node.rest[0]!.type
      if (AST.isTypeLiteral(item))
        for (const p of item.propertySignatures)
          walk(p.type, [...path.slice(0, -1), `${path.at(-1)}[]`, String(p.name)], true)
    }
  }
  walk(ast, [], false)
  return out
}

const SECRET = /password|secret|token/i
const MASK = "********"

/** Whether a key holds a secret (its value never prints). */
export const isSecretKey = (key: string): boolean => SECRET.test(key)

/** `value` with every secret-named key's value replaced by `********`. */
export const maskSecrets = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(maskSecrets)
  if (typeof value === "object" && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, isSecretKey(k) && v !== "" ? MASK : maskSecrets(v)])
    )
  return value
}

const showDefault = (k: ConfigKey): string => {
  if (k.default === undefined) return ""
  if (isSecretKey(k.path)) return ` (default: ${MASK})`
  if (Array.isArray(k.default)) return ` (default: ${k.default.length} entr${k.default.length === 1 ? "y" : "ies"})`
  return ` (default: ${JSON.stringify(k.default)})`
}

/** The `--help` section listing every configuration key with its type and default. */
export const configHelp = (): string => {
  const keys = configKeys()
  const width = Math.max(...keys.map((k) => k.path.length))
  return keys.map((k) => `  ${k.path.padEnd(width)}  ${k.type}${showDefault(k)}`).join("\n")
}

/** The effective configuration as YAML, secrets masked (`--print-config`). */
export const printConfig = (config: ServerConfigShape): string => stringify(maskSecrets(config))

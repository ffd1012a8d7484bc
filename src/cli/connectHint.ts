/**
 * The line `npm start` logs once the server listens: a fleare-cli command a user can paste as it is to
 * connect. It never holds the password: given `-u` alone, fleare-cli asks for it on the terminal (or reads
 * `FLEARE_PASSWORD`).
 */

/** The parts of the server's configuration the hint needs. */
export interface HintConfig {
  readonly security: {
    readonly enable_auth: boolean
    readonly users: ReadonlyArray<{ readonly username: string }>
  }
}

/** Quotes a word for a POSIX shell when it needs it. */
const shellWord = (s: string): string => (/^[A-Za-z0-9_.:@%+=,/-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`)

/**
 * `connect with: npx fleare-cli --host H --port P -u root`. A server listening on every interface is reached
 * on the loopback address from the same machine.
 */
export const connectHint = (config: HintConfig, address: { readonly host: string; readonly port: number }): string => {
  const host = address.host === "0.0.0.0" || address.host === "::" ? "127.0.0.1" : address.host
  const base = `npx fleare-cli --host ${shellWord(host)} --port ${address.port}`
  if (!config.security.enable_auth) return `connect with: ${base}`
  const users = config.security.users
  const user = (users.find((u) => u.username === "root") ?? users[0])?.username ?? "root"
  return `connect with: ${base} -u ${shellWord(user)}`
}

/**
 * A stand-in for Fleare's official Node client (npm `fleare` 1.0.4) written from SPEC §8: it sends exactly what
 * each of that client's methods sends (§8.3) over a pool of authenticated connections (§8.1, §8.2), and turns
 * replies into values the way it does. With `parse: "go"` it reads replies as fleare-go does instead (§8.6).
 * Written from the spec and observed behaviour, not from the client's code. Every request and reply is also
 * logged, so a test can check the exact wire traffic.
 */
import { WireClient, type WireReply } from "../support/wire.js"

/** Fleare's client options; only these three matter on the wire. */
export interface NodeClientOptions {
  readonly username?: string
  readonly password?: string
  /** How many connections the pool opens (the client's default is 10). */
  readonly poolSize?: number
  /** `node` (default): JSON.parse or the raw text, Error(text). `go`: also "" → null, Error("server error: text"). */
  readonly parse?: "node" | "go"
}

/** One request as it went over the wire, with its reply. */
export interface LoggedRequest {
  readonly command: string
  readonly args: ReadonlyArray<string>
  /** Which pooled connection carried it (its index in the pool). */
  readonly connection: number
  readonly reply: WireReply
}

/** A value a method may be given: objects are sent as JSON, anything else through `String(x)`. */
export type Arg = string | number | boolean | object | null

// The client's argument rule (§8.2).
const toWire = (x: Arg): string => (typeof x === "object" && x !== null ? JSON.stringify(x) : String(x))

/** The Node client's result parsing: JSON when the text parses, else the text itself. */
export const parseNodeResult = (text: string): unknown => {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}

/** fleare-go's result parsing: an empty result is nil, then JSON where possible, else the text. */
export const parseGoResult = (text: string): unknown => (text === "" ? null : parseNodeResult(text))

interface Pooled {
  readonly index: number
  readonly wire: WireClient
  readonly clientId: string
  busy: boolean
}

/** The client: `connect()`, then the methods of §8.3. */
export class FleareNodeClient {
  private readonly pool: Array<Pooled> = []
  private readonly waiting: Array<(c: Pooled) => void> = []
  private cursor = 0
  /** Every request sent since connect, in the order they were sent. */
  readonly log: Array<LoggedRequest> = []

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly options: NodeClientOptions = {}
  ) {}

  /** The client ids the server gave the pooled connections, in pool order. */
  get clientIds(): ReadonlyArray<string> {
    return this.pool.map((c) => c.clientId)
  }

  /**
   * Opens the pool's connections one after another, each authenticated with `auth [username||"", password||""]`
   * (always two args). A refusal closes that socket and rejects with `Error(result)`, as the client does.
   */
  async connect(): Promise<void> {
    const size = this.options.poolSize ?? 10
    for (let i = 0; i < size; i++) {
      const wire = await WireClient.connect(this.port, this.host)
      const reply = await wire.call("auth", this.options.username || "", this.options.password || "")
      if (reply.status !== "Ok") {
        wire.destroy()
        throw new Error(reply.result)
      }
      this.pool.push({ index: i, wire, clientId: reply.clientId, busy: false })
    }
  }

  /** Closes every pooled connection. */
  close(): void {
    for (const c of this.pool.splice(0)) c.wire.destroy()
  }

  // The next free connection, round-robin from the cursor; waits when all are busy (one request in flight each).
  private acquire(): Promise<Pooled> {
    for (let n = 0; n < this.pool.length; n++) {
      const c = this.pool[(this.cursor + n) % this.pool.length]!
      if (!c.busy) {
        this.cursor = (c.index + 1) % this.pool.length
        c.busy = true
        return Promise.resolve(c)
      }
    }
    if (this.pool.length === 0) return Promise.reject(new Error("Client is not connected"))
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  private release(c: Pooled): void {
    const next = this.waiting.shift()
    if (next) next(c)
    else c.busy = false
  }

  /** Sends one command on a free pooled connection and turns the reply into a value (or a rejection). */
  async send(command: string, args: ReadonlyArray<Arg> = []): Promise<unknown> {
    const wireArgs = args.map(toWire)
    const c = await this.acquire()
    let reply: WireReply
    try {
      c.wire.send(command, ...wireArgs)
      reply = await c.wire.next()
    } finally {
      this.release(c)
    }
    this.log.push({ command, args: wireArgs, connection: c.index, reply })
    const go = this.options.parse === "go"
    if (reply.status === "Error") throw new Error(go ? `server error: ${reply.result}` : reply.result)
    return go ? parseGoResult(reply.result) : parseNodeResult(reply.result)
  }

  /** The last request sent (for asserting the exact args). */
  get last(): LoggedRequest {
    const l = this.log.at(-1)
    if (l === undefined) throw new Error("nothing sent yet")
    return l
  }

  ping = (args: ReadonlyArray<Arg> = []) => this.send("PING", args)
  status = () => this.send("STATUS")
  session = () => this.send("SESSION")
  get = (key: string, path?: string) => this.send("GET", path !== undefined ? [key, path] : [key])
  set = (key: string, value: Arg) => this.send("SET", [key, value])
  exists = (...keys: Array<string>) => this.send("EXISTS", keys)
  del = (key: string) => this.send("DELETE", [key])
  strSet = (key: string, value: Arg) => this.send("STR.SET", [key, value])
  strAppend = (key: string, ...values: Array<Arg>) => this.send("STR.APPEND", [key, ...values])
  strRange = (key: string, start: number, end: number) => this.send("STR.RANGE", [key, start, end])
  strGet = (key: string) => this.send("STR.GET", [key])
  strLength = (key: string) => this.send("STR.LENGTH", [key])
  ttlExpire = (key: string, time: number | string) => this.send("TTL.EXPIRE", [key, String(time)])
  ttl = (key: string) => this.send("TTL", [key])
  numSet = (key: string, n: number) => this.send("NUM.SET", [key, String(n)])
  numGet = (key: string) => this.send("NUM.GET", [key])
  // A falsy delta (undefined, 0) is left out, so the server's default of 1 applies.
  numIncr = (key: string, inc?: number) => this.send("NUM.INCR", inc ? [key, String(inc)] : [key])
  numDecr = (key: string, dec?: number) => this.send("NUM.DECR", dec ? [key, String(dec)] : [key])
  listSet = (key: string, ...values: Array<Arg>) => this.send("LIST.SET", [key, ...values])
  listPush = (key: string, ...values: Array<Arg>) => this.send("LIST.PUSH", [key, ...values])
  listIset = (key: string, index: number, value: Arg) => this.send("LIST.ISET", [key, index, value])
  listUpdate = (key: string, path: string, value: Arg) => this.send("LIST.UPDATE", [key, path, value])
  listPop = (key: string) => this.send("LIST.POP", [key])
  listGet = (key: string, index?: number) => this.send("LIST.GET", index !== undefined ? [key, index] : [key])
  listLen = (key: string) => this.send("LIST.LEN", [key])
  listGPop = (key: string) => this.send("LIST.GPOP", [key])
  listFind = (key: string, path: string) => this.send("LIST.FIND", [key, path])
  jsonSet = (key: string, value: Arg) => this.send("JSON.SET", [key, value])
  jsonAdd = (key: string, path: string, value: Arg) => this.send("JSON.ADD", [key, path, value])
  jsonMerge = (key: string, value: Arg) => this.send("JSON.MERGE", [key, value])
  jsonSetRef = (key: string, obj: object, refObj: object) =>
    this.send("JSON.SETREF", [key, JSON.stringify(obj), JSON.stringify(refObj)])
  // Always sends a path: "" (the root) when none is given.
  jsonGet = (key: string, path?: string, ...refs: Array<string>) => this.send("JSON.GET", [key, path || "", ...refs])
  mapSet = (key: string, field: string, value: Arg) => this.send("MAP.SET", [key, field, value])
  mapCSet = (key: string, field: string, value: Arg) => this.send("MAP.CSET", [key, field, value])
  // The field is sent only when truthy.
  mapDel = (key: string, field?: string) => this.send("MAP.DEL", field ? [key, field] : [key])
  mapGet = (key: string, field?: string) => this.send("MAP.GET", field ? [key, field] : [key])
}

/** Creates and connects a client, as `createClient(host, port, options)` then `connect()` would. */
export const connectNodeClient = async (port: number, options: NodeClientOptions = {}): Promise<FleareNodeClient> => {
  const client = new FleareNodeClient("127.0.0.1", port, options)
  try {
    await client.connect()
  } catch (e) {
    client.close()
    throw e
  }
  return client
}

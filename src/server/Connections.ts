/**
 * The live connections of one server, by client id: how SESSION.KILL closes another connection and how
 * STATUS counts them. Also issues client ids from a counter that is never reused for the life of the server.
 */

/** What the registry can do to a connection. */
export interface ConnectionHandle {
  /** Ends the connection once the replies already produced are written. */
  readonly kill: () => void
}

export class ConnectionRegistry {
  private readonly live = new Map<string, ConnectionHandle>()
  private counter = 0

  /**
   * `nextNumber`, when given, numbers the client ids instead of the local counter (a shared store numbers them
   * across servers, so an id is unique cluster-wide).
   */
  constructor(private readonly nextNumber?: () => number) {}

  /** A new client id `<n>-<ip>:<port>`; IPv6 peers print as `[addr]:port`. */
  nextClientId(remoteAddress: string, remotePort: number): string {
    this.counter += 1
    const n = this.nextNumber === undefined ? this.counter : this.nextNumber()
    // An IPv4 peer on a dual-stack listener arrives as ::ffff:a.b.c.d; print it as IPv4.
    const address =
      remoteAddress.startsWith("::ffff:") && remoteAddress.includes(".") ? remoteAddress.slice(7) : remoteAddress
    const host = address.includes(":") ? `[${address}]` : address
    return `${n}-${host}:${remotePort}`
  }

  add(clientId: string, handle: ConnectionHandle): void {
    this.live.set(clientId, handle)
  }

  remove(clientId: string): void {
    this.live.delete(clientId)
  }

  get(clientId: string): ConnectionHandle | undefined {
    return this.live.get(clientId)
  }

  get size(): number {
    return this.live.size
  }
}

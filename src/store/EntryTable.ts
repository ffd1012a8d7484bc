/**
 * The keyspace's table of keys: a Map from each key to a row number, and per row the stored item and a figure
 * (the keyspace keeps a bare value's size estimate there), in arrays indexed by row; LRU and LFU add their own
 * columns (the key, a clock, a counter: see `track`).
 *
 * Why rows: replacing a value must read the old value's size (for the memory estimate) and write the new
 * value. With the values in the Map, that is two probes of the Map, and reading the size touches the old value
 * itself, an object nothing else will read again: at 100,000 keys both are cache misses, about 15 % of a SET's
 * cost in process. With rows, the write is one probe (the row of a key never changes while it lives) and the
 * old size is read from a typed array. An eviction policy's figures for a key are in its row too: no hashing.
 *
 * The Map keeps insertion order (the FIFO policy and snapshots walk it), and a key's place in it does not move
 * when its value is replaced. Freed rows are reused; when most rows are free, the rows are renumbered densely,
 * so the arrays never hold more than a few times the live keys.
 */

/** Below this many free rows the table is never compacted: a few KB is not worth a pass over the keys. */
const COMPACT_ABOVE = 4096

const FIRST_CAPACITY = 64

/** The columns an eviction policy asks for (see `track`). */
export interface TrackedColumns {
  /** LFU's counter, beside the clock. */
  readonly hits: boolean
}

export class EntryTable<T> {
  /** Key → row. Read it (e.g. `rows.get`) but change it only through the table. */
  readonly rows = new Map<string, number>()
  /** Row → the stored item; undefined for a free row. */
  items: Array<T | undefined> = []
  /** Row → the caller's figure for the row (a size, 0 to 2^32 - 1). */
  figures = new Uint32Array(FIRST_CAPACITY)
  /** With `track`: row → its key (undefined for a free row), for picking keys by row. */
  keys: Array<string | undefined> | undefined
  /** With `track`: row → the policy's clock, and LFU's counter. A new row's figures are the caller's to set. */
  clocks: Float64Array | undefined
  hits: Uint32Array | undefined
  private free: Array<number> = []

  /** Live keys. */
  get size(): number {
    return this.rows.size
  }

  /** Rows in use or free: every live row is below this. */
  get rowCount(): number {
    return this.items.length
  }

  /** Keeps the key, a clock and (for LFU) a counter per row from now on; call it while the table is empty. */
  track(columns: TrackedColumns): void {
    // The columns start empty: rows made before would have no key or figures in them.
    if (this.items.length > 0) throw new Error("EntryTable.track: the table already has rows")
    this.keys = []
    this.clocks = new Float64Array(this.figures.length)
    if (columns.hits) this.hits = new Uint32Array(this.figures.length)
  }

  /** The item of `key`, or undefined. */
  get(key: string): T | undefined {
    const row = this.rows.get(key)
    return row === undefined ? undefined : this.items[row]
  }

  /** Adds `key`, which must not be in the table, with its item and figure; answers its row. */
  add(key: string, item: T, figure: number): number {
    let row = this.free.pop()
    if (row === undefined) {
      row = this.items.length
      this.items.push(item)
      this.keys?.push(key)
      if (row >= this.figures.length) this.grow()
    } else {
      this.items[row] = item
      if (this.keys !== undefined) this.keys[row] = key
    }
    this.figures[row] = figure
    this.rows.set(key, row)
    return row
  }

  /** Removes `key` if present; true if it was. */
  delete(key: string): boolean {
    const row = this.rows.get(key)
    if (row === undefined) return false
    this.rows.delete(key)
    this.items[row] = undefined
    if (this.keys !== undefined) this.keys[row] = undefined
    this.free.push(row)
    if (this.free.length > COMPACT_ABOVE && 2 * this.free.length > this.items.length) this.compact()
    return true
  }

  /** Every key with its item, in insertion order. Items replaced or keys removed meanwhile are seen as they are. */
  *entries(): IterableIterator<readonly [string, T]> {
    // The row of a key is read as the walk reaches it, so a compaction during the walk is harmless.
    for (const [key, row] of this.rows) yield [key, this.items[row]!] as const
  }

  /** Doubles the typed columns. */
  private grow(): void {
    const capacity = this.figures.length * 2
    this.figures = resized(this.figures, capacity)
    if (this.clocks !== undefined) this.clocks = resized(this.clocks, capacity)
    if (this.hits !== undefined) this.hits = resized(this.hits, capacity)
  }

  /** Renumbers the live rows 0..size-1 in insertion order and drops the free ones. */
  private compact(): void {
    const n = this.rows.size
    const capacity = Math.max(FIRST_CAPACITY, n * 2)
    const items: Array<T | undefined> = new Array(n)
    const keys: Array<string | undefined> | undefined = this.keys === undefined ? undefined : new Array(n)
    const figures = new Uint32Array(capacity)
    const clocks = this.clocks === undefined ? undefined : new Float64Array(capacity)
    const hits = this.hits === undefined ? undefined : new Uint32Array(capacity)
    let next = 0
    // Changing a key's value while walking the Map is allowed and keeps its place.
    for (const [key, row] of this.rows) {
      items[next] = this.items[row]
      figures[next] = this.figures[row]!
      if (keys !== undefined) keys[next] = key
      if (clocks !== undefined) clocks[next] = this.clocks![row]!
      if (hits !== undefined) hits[next] = this.hits![row]!
      this.rows.set(key, next)
      next += 1
    }
    this.items = items
    this.keys = keys
    this.figures = figures
    this.clocks = clocks
    this.hits = hits
    this.free = []
  }
}

/** A copy of `a` with `length` elements (zeros after `a`'s). */
const resized = <A extends Uint32Array | Float64Array>(a: A, length: number): A => {
  const b = new (a.constructor as new (n: number) => A)(length)
  b.set(a)
  return b
}

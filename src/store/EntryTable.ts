/**
 * The keyspace's table of keys: a Map from each key to a row number, and per row the stored item and a figure
 * (the keyspace keeps a bare value's size estimate there), in arrays indexed by row.
 *
 * Why rows: replacing a value must read the old value's size (for the memory estimate) and write the new
 * value. With the values in the Map, that is two probes of the Map, and reading the size touches the old value
 * itself, an object nothing else will read again: at 100,000 keys both are cache misses, about 15 % of a SET's
 * cost in process. With rows, the write is one probe (the row of a key never changes while it lives) and the
 * old size is read from a typed array.
 *
 * The Map keeps insertion order (the FIFO policy and snapshots walk it), and a key's place in it does not move
 * when its value is replaced. Freed rows are reused; when most rows are free, the rows are renumbered densely,
 * so the arrays never hold more than a few times the live keys.
 */

/** Below this many rows the table is never compacted: a few KB is not worth a pass over the keys. */
const COMPACT_ABOVE = 4096

export class EntryTable<T> {
  /** Key → row. Read it (e.g. `rows.get`) but change it only through the table. */
  readonly rows = new Map<string, number>()
  /** Row → the stored item; undefined for a free row. */
  items: Array<T | undefined> = []
  /** Row → the caller's figure for the row (a size, 0 to 2^32 - 1). */
  figures = new Uint32Array(64)
  private free: Array<number> = []

  /** Live keys. */
  get size(): number {
    return this.rows.size
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
      if (row >= this.figures.length) {
        const grown = new Uint32Array(this.figures.length * 2)
        grown.set(this.figures)
        this.figures = grown
      }
    } else this.items[row] = item
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
    this.free.push(row)
    if (this.free.length > COMPACT_ABOVE && 2 * this.free.length > this.items.length) this.compact()
    return true
  }

  /** Every key with its item, in insertion order. Items replaced or keys removed meanwhile are seen as they are. */
  *entries(): IterableIterator<readonly [string, T]> {
    // The row of a key is read as the walk reaches it, so a compaction during the walk is harmless.
    for (const [key, row] of this.rows) yield [key, this.items[row]!] as const
  }

  /** Renumbers the live rows 0..size-1 in insertion order and drops the free ones. */
  private compact(): void {
    const items: Array<T | undefined> = new Array(this.rows.size)
    const figures = new Uint32Array(Math.max(64, this.rows.size * 2))
    let next = 0
    // Changing a key's value while walking the Map is allowed and keeps its place.
    for (const [key, row] of this.rows) {
      items[next] = this.items[row]
      figures[next] = this.figures[row]!
      this.rows.set(key, next)
      next += 1
    }
    this.items = items
    this.figures = figures
    this.free = []
  }
}

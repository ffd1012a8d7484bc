/**
 * UTF-8 byte lengths on the per-request path. `Buffer.byteLength` is a call into C++ that costs more than
 * scanning a short string in JavaScript, and most keys, values and replies are short ASCII.
 */

/** Strings up to this many characters are scanned in JavaScript; longer ones go to `Buffer.byteLength`. */
export const SHORT_TEXT = 64

/** Whether `buf[start, end)` has a byte of 0x80 or more (ASCII is the common case, scanned in JavaScript). */
export const hasNonAscii = (buf: Uint8Array, start: number, end: number): boolean => {
  for (let i = start; i < end; i++) if (buf[i]! >= 0x80) return true
  return false
}

/** The UTF-8 length of `s` (a lone surrogate counts 3 bytes, as it is encoded as U+FFFD). */
export const utf8Length = (s: string): number => {
  const n = s.length
  if (n === 0) return 0
  if (n > SHORT_TEXT) return Buffer.byteLength(s, "utf8")
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) >= 0x80) return Buffer.byteLength(s, "utf8")
  return n
}

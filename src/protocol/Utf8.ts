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

/** ASCII strings up to this many bytes are made in JavaScript (`shortAscii`); longer ones by a call into C++. */
export const SHORT_ASCII = 16

const fromCharCode = String.fromCharCode

/**
 * `b[p, p + n)`, ASCII and at most `SHORT_ASCII` bytes long, as a string. `String.fromCharCode` with the bytes as
 * its arguments makes the string inside V8, 20-35 ns sooner than a native `latin1Slice` (a call into C++ and
 * back): twice per SET. One case per length so that each call has a fixed argument count.
 */
export const shortAscii = (b: Uint8Array, p: number, n: number): string => {
  switch (n) {
    case 0:
      return ""
    case 1:
      return fromCharCode(b[p])
    case 2:
      return fromCharCode(b[p], b[p + 1])
    case 3:
      return fromCharCode(b[p], b[p + 1], b[p + 2])
    case 4:
      return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3])
    case 5:
      return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4])
    case 6:
      return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5])
    case 7:
      return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6])
    case 8:
      return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7])
    case 9:
      return fromCharCode(b[p], b[p + 1], b[p + 2], b[p + 3], b[p + 4], b[p + 5], b[p + 6], b[p + 7], b[p + 8])
    case 10:
      return fromCharCode(
        b[p],
        b[p + 1],
        b[p + 2],
        b[p + 3],
        b[p + 4],
        b[p + 5],
        b[p + 6],
        b[p + 7],
        b[p + 8],
        b[p + 9]
      )
    case 11:
      return fromCharCode(
        b[p],
        b[p + 1],
        b[p + 2],
        b[p + 3],
        b[p + 4],
        b[p + 5],
        b[p + 6],
        b[p + 7],
        b[p + 8],
        b[p + 9],
        b[p + 10]
      )
    case 12:
      return fromCharCode(
        b[p],
        b[p + 1],
        b[p + 2],
        b[p + 3],
        b[p + 4],
        b[p + 5],
        b[p + 6],
        b[p + 7],
        b[p + 8],
        b[p + 9],
        b[p + 10],
        b[p + 11]
      )
    case 13:
      return fromCharCode(
        b[p],
        b[p + 1],
        b[p + 2],
        b[p + 3],
        b[p + 4],
        b[p + 5],
        b[p + 6],
        b[p + 7],
        b[p + 8],
        b[p + 9],
        b[p + 10],
        b[p + 11],
        b[p + 12]
      )
    case 14:
      return fromCharCode(
        b[p],
        b[p + 1],
        b[p + 2],
        b[p + 3],
        b[p + 4],
        b[p + 5],
        b[p + 6],
        b[p + 7],
        b[p + 8],
        b[p + 9],
        b[p + 10],
        b[p + 11],
        b[p + 12],
        b[p + 13]
      )
    case 15:
      return fromCharCode(
        b[p],
        b[p + 1],
        b[p + 2],
        b[p + 3],
        b[p + 4],
        b[p + 5],
        b[p + 6],
        b[p + 7],
        b[p + 8],
        b[p + 9],
        b[p + 10],
        b[p + 11],
        b[p + 12],
        b[p + 13],
        b[p + 14]
      )
    case 16:
      return fromCharCode(
        b[p],
        b[p + 1],
        b[p + 2],
        b[p + 3],
        b[p + 4],
        b[p + 5],
        b[p + 6],
        b[p + 7],
        b[p + 8],
        b[p + 9],
        b[p + 10],
        b[p + 11],
        b[p + 12],
        b[p + 13],
        b[p + 14],
        b[p + 15]
      )
    default:
      throw new RangeError(`shortAscii: ${n} bytes is more than ${SHORT_ASCII}`)
  }
}

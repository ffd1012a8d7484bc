/** Byte counts as the persistence log lines print them. */

/** `bytes` in MiB with one decimal, e.g. `12.5`. */
export const mib = (bytes: number): string => (bytes / (1024 * 1024)).toFixed(1)

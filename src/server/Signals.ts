/**
 * The second-signal rule of graceful shutdown: the first SIGINT/SIGTERM lets the runtime shut down gracefully
 * (stop accepting, answer in-flight requests, flush the log); a second one, of either kind, while that runs means
 * "now" and exits at once with the conventional code (130 for SIGINT, 143 for SIGTERM).
 */

/** The part of `process` this needs (so tests can drive it). */
export interface SignalSource {
  once(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown
  on(signal: "SIGINT" | "SIGTERM", listener: () => void): unknown
}

/** Installs the rule on `source`; `exit` ends the process. */
export const exitOnSecondSignal = (source: SignalSource, exit: (code: number) => void): void => {
  let armed = false
  const arm = () => {
    if (armed) return
    armed = true
    source.on("SIGINT", () => exit(130))
    source.on("SIGTERM", () => exit(143))
  }
  source.once("SIGINT", arm)
  source.once("SIGTERM", arm)
}

// Preloaded by the harness (src/bench/target.ts) into the fleare-ts process it measures, which runs with
// --expose-gc: SIGUSR2 runs a full GC and says so on stderr, as the baseline mock server does, so that both
// servers' RSS is read after their garbage is collected. It changes nothing else. Plain JavaScript, so it also
// loads into the compiled server (dist/main.js), which runs without tsx.
const gc = globalThis.gc

process.on("SIGUSR2", () => {
  if (typeof gc === "function") gc()
  process.stderr.write(`fleare-bench: gc done (${typeof gc === "function" ? "full" : "no --expose-gc"})\n`)
})

/**
 * The process's own figures for /metrics: CPU time, resident memory, the V8 heap, and the event loop's delay (a
 * `perf_hooks` histogram, enabled while the metrics server runs). The one place outside main.ts that reads
 * `process`: these figures exist nowhere else.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks"

/** One reading of the process's figures. */
export interface ProcessReading {
  /** CPU time used by the process since it started, user and system, in seconds. */
  readonly cpuUserSeconds: number
  readonly cpuSystemSeconds: number
  readonly residentBytes: number
  readonly heapUsedBytes: number
  readonly heapTotalBytes: number
  readonly externalBytes: number
  /** Event-loop delay since the previous reading, in seconds (0 before the monitor has samples). */
  readonly eventLoopDelay: { readonly p50: number; readonly p99: number; readonly max: number }
  /** When the process started, in epoch seconds (from the uptime). */
  readonly startTimeSeconds: number
}

/** Reads process figures; `monitor` is the event-loop delay histogram to read and reset. */
export class ProcessStats {
  private readonly monitor: IntervalHistogram = monitorEventLoopDelay({ resolution: 10 })

  constructor() {
    this.monitor.enable()
  }

  /** Stops the event-loop monitor. */
  close(): void {
    this.monitor.disable()
  }

  /** The figures now; `nowSeconds` is the Effect clock's epoch time. */
  read(nowSeconds: number): ProcessReading {
    const cpu = process.cpuUsage()
    const mem = process.memoryUsage()
    const m = this.monitor
    const seconds = (nanos: number) => (Number.isFinite(nanos) && m.count > 0 ? nanos / 1e9 : 0)
    const eventLoopDelay = { p50: seconds(m.percentile(50)), p99: seconds(m.percentile(99)), max: seconds(m.max) }
    m.reset()
    return {
      cpuUserSeconds: cpu.user / 1e6,
      cpuSystemSeconds: cpu.system / 1e6,
      residentBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
      heapTotalBytes: mem.heapTotal,
      externalBytes: mem.external,
      eventLoopDelay,
      startTimeSeconds: Math.round(nowSeconds - process.uptime())
    }
  }
}

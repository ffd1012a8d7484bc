/**
 * The latency histograms, as Effect `Metric` histograms updated directly where the time is measured: the request
 * path samples one read in `LATENCY_SAMPLE_MASK + 1` (a synchronous `unsafeUpdate`, about 30 ns, no Effect), the
 * log's fsyncs are timed on the Effect `Clock` in the log's own fibers.
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"

/**
 * One read in 16 is timed (`(reads & mask) === 0`): the two `performance.now()` calls and the histogram update
 * cost about 110 ns, about 7 ns a read on average.
 */
export const LATENCY_SAMPLE_MASK = 15

/**
 * Time to run the requests of one read synchronously (decode, run, encode; not the network, not the durability
 * wait, not reads that need the connection's fiber such as AUTH), in seconds, sampled.
 */
export const requestDuration = Metric.histogram(
  "fleare_request_duration_seconds",
  // 1 µs to about 1 s, doubling.
  MetricBoundaries.exponential({ start: 1e-6, factor: 2, count: 21 }),
  "Time to run the requests of one read (decode, run, encode), in seconds; one read in 16 is sampled"
)

/** Duration of each fsync (or fdatasync) of the write-ahead log and of compacted files, in seconds. */
export const fsyncDuration = Metric.histogram(
  "fleare_wal_fsync_duration_seconds",
  // 10 µs to about 5 s, doubling.
  MetricBoundaries.exponential({ start: 1e-5, factor: 2, count: 20 }),
  "Duration of fsyncs of the write-ahead log and compacted files, in seconds"
)

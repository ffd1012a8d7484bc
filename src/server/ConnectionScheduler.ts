/**
 * The scheduler connection fibers run on: one task runner shared by all of them, drained from the microtask
 * queue (from a timer after 2,048 drains in a row, so that I/O is not starved), as Effect's default scheduler
 * was before 3.20. Effect's default now keeps a runner per fiber, created the first time the fiber yields and
 * kept as long as it lives (so that concurrent `Runtime.runPromise` calls cannot see each other's
 * AsyncLocalStorage context); for a server holding thousands of parked connection fibers that is about 250 B per
 * idle connection, and nothing in a connection relies on AsyncLocalStorage.
 */
import * as Scheduler from "effect/Scheduler"

/** Drains in a row on the microtask queue before one goes through a timer (Effect's default's figure). */
const MAX_MICROTASK_DRAINS = 2048

const runner = new Scheduler.SchedulerRunner((depth, drain) => {
  if (depth >= MAX_MICROTASK_DRAINS) setTimeout(() => drain(0), 0)
  else void Promise.resolve().then(() => drain(depth + 1))
})

export const connectionScheduler: Scheduler.Scheduler = Scheduler.make(
  (task, priority) => runner.scheduleTask(task, priority),
  Scheduler.defaultShouldYield
)

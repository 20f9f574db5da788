// How fast a job whose worker died is handed to another. A running job holds a
// lock its worker renews every lockDuration/2; every stalledInterval one worker
// marks the active jobs, and the next round moves those still marked and without
// a lock back to wait. So a job of a killed worker runs again within about
// lockDuration + 2 × stalledInterval (BullMQ's defaults, 30 s and 30 s, make
// that about a minute). Check steps are short (execs time out after at most
// execTimeoutSeconds) and only wait on I/O, so a 15 s lock renewed every 7.5 s
// is not lost to a busy event loop; steps that run twice post nothing twice
// (src/slack/posts-once.ts).
import type { WorkerOptions } from "bullmq";

export const CHECK_STALLED_OPTIONS = {
  lockDuration: 15_000,
  stalledInterval: 5_000,
  // A step may be caught by two faults in a row (a worker killed, then Redis restarted) before it fails.
  maxStalledCount: 2,
} as const satisfies Partial<WorkerOptions>;

/**
 * A fix waits minutes for a rollout while it runs: a longer lock keeps a busy event loop from handing it
 * to a second worker, while a dead worker's fix is still noticed within about a minute and a half.
 */
export const FIX_STALLED_OPTIONS = {
  lockDuration: 60_000,
  stalledInterval: 15_000,
  maxStalledCount: 1,
} as const satisfies Partial<WorkerOptions>;

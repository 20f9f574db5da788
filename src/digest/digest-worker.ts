// The worker side of digests: a BullMQ Worker on the digest queue running the
// digest processor. Digests are few and mostly wait on clusters, so a small
// concurrency per worker is plenty; replicas add more.
import { Worker } from "bullmq";
import type { Redis } from "ioredis";
import { createDigestProcessor, type DigestWorkerDeps } from "./digest-processor.js";
import { DIGEST_QUEUE } from "./digest-payloads.js";

export function startDigestWorker(deps: DigestWorkerDeps, opts: { connection: Redis; prefix: string; concurrency?: number }): Worker {
  const processor = createDigestProcessor(deps);
  const worker = new Worker(DIGEST_QUEUE, (job) => processor(job), { connection: opts.connection, prefix: opts.prefix, concurrency: opts.concurrency ?? 2 });
  worker.on("failed", (job, err) => deps.logger.warn({ err, jobId: job?.id, attempts: job?.attemptsMade }, "digest job failed"));
  worker.on("error", (err) => deps.logger.error({ err }, "digest worker error"));
  return worker;
}

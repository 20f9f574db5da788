// Makes the digest queue's job schedulers equal the configured digests: one
// scheduler per digest (upserted when its schedule or clusters changed),
// none for digests no longer configured. Every bot/worker replica may call it
// at startup: each upsert and removal is one atomic BullMQ script, all
// replicas with the same config converge on the same set, and BullMQ itself
// makes one job per tick however many workers listen.
import type { JobSchedulerJson, Queue, RepeatOptions } from "bullmq";
import { errorMessage, XnodeError } from "../errors.js";
import type { Logger } from "../logger.js";
import { DIGEST_ID_PREFIX, DIGEST_JOB, DIGEST_JOB_OPTS, digestIds, type DigestConfig, type DigestPayload } from "./digest-payloads.js";

export interface SyncResult {
  upserted: string[];
  unchanged: string[];
  removed: string[];
}

function repeatOf(d: DigestConfig): Omit<RepeatOptions, "key"> {
  return d.everySeconds ? { every: d.everySeconds * 1000 } : { pattern: d.cron, tz: d.timezone };
}

// Upserting an unchanged scheduler is not free: it replaces the pending job,
// and one whose time has just come (waiting, not yet picked up) would be lost.
function isCurrent(existing: JobSchedulerJson | undefined, repeat: Omit<RepeatOptions, "key">, data: DigestPayload): boolean {
  if (!existing) return false;
  return (
    existing.name === DIGEST_JOB &&
    existing.every === repeat.every &&
    existing.pattern === repeat.pattern &&
    existing.tz === repeat.tz &&
    JSON.stringify(existing.template?.data) === JSON.stringify(data)
  );
}

export async function syncDigestSchedules(queue: Queue, digests: readonly DigestConfig[], log: Logger): Promise<SyncResult> {
  const ids = digestIds(digests);
  const existing = new Map((await queue.getJobSchedulers()).map((s) => [s.key, s]));
  const result: SyncResult = { upserted: [], unchanged: [], removed: [] };
  const problems: string[] = [];
  for (const [i, d] of digests.entries()) {
    const id = ids[i]!;
    const repeat = repeatOf(d);
    const data: DigestPayload = { digestId: id, channel: d.channel, clusters: d.clusters, trigger: "schedule" };
    if (isCurrent(existing.get(id), repeat, data)) {
      result.unchanged.push(id);
      continue;
    }
    try {
      await queue.upsertJobScheduler(id, repeat, { name: DIGEST_JOB, data, opts: DIGEST_JOB_OPTS });
      result.upserted.push(id);
    } catch (err) {
      // Typically a bad cron pattern or time zone; the other digests still get scheduled.
      problems.push(`digests[${i}] (channel ${d.channel}, cron "${d.cron}", timezone ${d.timezone}): ${errorMessage(err)}`);
    }
  }
  const wanted = new Set(ids);
  for (const key of existing.keys()) {
    if (key.startsWith(DIGEST_ID_PREFIX) && !wanted.has(key)) {
      await queue.removeJobScheduler(key);
      result.removed.push(key);
    }
  }
  log.info(result, "digest schedules synced");
  if (problems.length > 0) {
    throw new XnodeError(
      "CONFIG_INVALID",
      `digest schedules rejected:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
      "Fix the cron pattern or time zone of these digests in XNODE_CONFIG.",
    );
  }
  return result;
}

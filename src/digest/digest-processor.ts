// One digest job: check every cluster of the digest (a few at a time), keep
// each report like any other check's, compare with what the previous digest
// saw, and post one message to the digest's channel, once per job id.
import { randomUUID } from "node:crypto";
import { UnrecoverableError, type Job } from "bullmq";
import { runCheck } from "../check/run-check.js";
import type { CheckReport, ClusterOutcome, DigestContent } from "../model/index.js";
import { errorParts, XnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { Logger } from "../logger.js";
import { renderDigest } from "../slack/render/render-digest.js";
import { formatDuration } from "../slack/render/time-text.js";
import type { SlackPort } from "../slack/slack-port.js";
import type { CheckStore } from "../store/check-store.js";
import { recordCheck } from "../store/record-check.js";
import { composeDigest } from "./compose-digest.js";
import { digestPayload } from "./digest-payloads.js";
import type { DigestState } from "./digest-state.js";

export interface DigestWorkerDeps {
  kubeFor(cluster: string): KubeClient;
  store: CheckStore;
  slack: SlackPort;
  state: DigestState;
  execTimeoutMs: number;
  pingTimeoutSeconds: number;
  logger: Logger;
  /** clusters checked at the same time; default 4 */
  concurrency?: number;
  /** a cluster whose check takes longer is reported as not checked; default 10 × execTimeoutMs */
  clusterTimeoutMs?: number;
  /** whether a job scheduler still exists: a tick queued before its digest left the config is dropped */
  scheduleExists?(schedulerId: string): Promise<boolean>;
  now?: () => Date;
  /** told each cluster check's outcome (metrics; a digest's checks are checks too) */
  counter?: { checkFinished(report: CheckReport): void; checkFailed(): void };
}

export type DigestJobResult = { posted: string; counts: DigestContent["counts"] } | { skipped: "already-posted" | "schedule-removed" };

async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = [];
  let next = 0;
  const runner = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, runner));
  return out;
}

// The check itself is not cancelled (its execs have their own timeouts); the digest just stops waiting.
function withTimeout<T>(work: Promise<T>, ms: number, hint: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new XnodeError("CHECK_TIMEOUT", `the check did not finish within ${formatDuration(ms)}`, hint)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const whatToTry = (cluster: string) => `Run /xnode check ${cluster} for the details; if it keeps failing, look at the worker's logs.`;

export function createDigestProcessor(deps: DigestWorkerDeps): (job: Job) => Promise<DigestJobResult> {
  const now = deps.now ?? (() => new Date());
  const clusterTimeoutMs = deps.clusterTimeoutMs ?? deps.execTimeoutMs * 10;

  async function checkCluster(cluster: string): Promise<ClusterOutcome> {
    const last = await deps.store.getLast(cluster);
    const threadLink = last?.channel && last.rootTs ? await deps.slack.permalink(last.channel, last.rootTs) : undefined;
    const link = threadLink ? { threadLink } : {};
    // async, so a kubeconfig that kubeFor cannot load rejects like any other failure
    const check = async () => runCheck(deps.kubeFor(cluster), { execTimeoutMs: deps.execTimeoutMs, pingTimeoutSeconds: deps.pingTimeoutSeconds, now });
    let report: CheckReport;
    try {
      ({ report } = await withTimeout(check(), clusterTimeoutMs, whatToTry(cluster)));
    } catch (err) {
      deps.logger.warn({ err, cluster }, "digest could not check cluster");
      deps.counter?.checkFailed();
      return { cluster, error: errorParts(err, whatToTry(cluster)), ...link };
    }
    // A digest's check posts no thread of its own: the cluster's latest thread stays the last one.
    await recordCheck(deps.store, randomUUID(), report, { finishedAt: now().toISOString(), thread: { channel: last?.channel, rootTs: last?.rootTs } });
    deps.counter?.checkFinished(report);
    return { cluster, report, ...link };
  }

  return async (job) => {
    const parsed = digestPayload.safeParse(job.data);
    if (!parsed.success) throw new UnrecoverableError(`invalid digest payload: ${parsed.error.message}`);
    const data = parsed.data;
    const jobId = job.id!;
    const log = deps.logger.child({ jobId, digestId: data.digestId });
    if (await deps.state.postClaimed(jobId)) {
      log.info("digest already posted for this job; not posting again");
      return { skipped: "already-posted" };
    }
    if (job.repeatJobKey && deps.scheduleExists && !(await deps.scheduleExists(job.repeatJobKey))) {
      log.info({ scheduler: job.repeatJobKey }, "digest no longer configured; dropping its tick");
      return { skipped: "schedule-removed" };
    }
    const outcomes = await mapBounded(data.clusters, deps.concurrency ?? 4, checkCluster);
    const previous = await deps.state.load(data.digestId, data.clusters);
    const trigger =
      data.trigger === "manual" ? { kind: "manual" as const, ...(data.requestedBy ? { requestedBy: data.requestedBy } : {}) } : { kind: "schedule" as const };
    const { content, memory } = composeDigest(outcomes, previous, now(), trigger);
    // Claimed right before posting: a crash in between loses this digest at worst, and a
    // duplicate or retried job never posts a second one.
    if (!(await deps.state.claimPost(jobId))) return { skipped: "already-posted" };
    let posted: { ts: string };
    try {
      posted = await deps.slack.post(data.channel, renderDigest(content));
    } catch (err) {
      await deps.state.releasePost(jobId);
      throw err;
    }
    await deps.state.markPosted(jobId, posted.ts);
    await deps.state.save(data.digestId, memory);
    log.info({ channel: data.channel, counts: content.counts, ts: posted.ts }, "digest posted");
    return { posted: posted.ts, counts: content.counts };
  };
}

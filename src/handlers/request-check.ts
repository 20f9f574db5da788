// Starts a check for someone, or joins the one already running for that
// cluster: one run, every requester answered.
import { randomUUID } from "node:crypto";
import type { Queue } from "bullmq";
import { CHECK_ATTEMPTS, JOB } from "../jobs/check-payloads.js";
import { XnodeError } from "../errors.js";
import type { Logger } from "../logger.js";
import type { SlackMessage, SlackPort } from "../slack/slack-port.js";
import type { AuditLog } from "../store/audit-log.js";
import type { CheckStore } from "../store/check-store.js";
import type { CheckRecord } from "../model/index.js";

export interface CheckRequest {
  cluster: string;
  user: string;
  channel: string;
  requestId: string;
}

export interface RequestCheckDeps {
  queue: Queue;
  store: CheckStore;
  slack: SlackPort;
  audit?: AuditLog;
  logger: Logger;
  now?: () => Date;
  render: {
    queued(check: CheckRecord): SlackMessage;
    joined(cluster: string, running: CheckRecord | undefined, user: string, threadLink: string | undefined): SlackMessage;
  };
}

export async function requestCheck(deps: RequestCheckDeps, req: CheckRequest): Promise<{ checkId: string; joined: boolean }> {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger.child({ requestId: req.requestId, cluster: req.cluster });
  // Two tries: a check may finish between our claim attempt and our join.
  for (let attempt = 0; attempt < 2; attempt++) {
    const checkId = randomUUID();
    const claim = await deps.store.claim(req.cluster, checkId);
    if (claim.claimed) {
      const rec: CheckRecord = {
        id: checkId,
        cluster: req.cluster,
        requestId: req.requestId,
        requestedBy: req.user,
        channel: req.channel,
        status: "queued",
        startedAt: now().toISOString(),
      };
      try {
        const root = await deps.slack.post(req.channel, deps.render.queued(rec));
        rec.channel = root.channel;
        rec.rootTs = root.ts;
        await deps.store.saveCheck(rec);
        await deps.store.subscribe(req.cluster, checkId, { user: req.user, channel: root.channel, ts: root.ts });
        await deps.queue.add(
          JOB.start,
          { checkId, cluster: req.cluster, requestId: req.requestId, thread: { channel: root.channel, rootTs: root.ts, requestedBy: req.user } },
          { jobId: `start-${checkId}`, attempts: CHECK_ATTEMPTS, backoff: { type: "exponential", delay: 1000 } },
        );
      } catch (err) {
        // Nothing will run this check: free the cluster at once, or the next request would join a check that never runs.
        await deps.store.finish(req.cluster, checkId).catch((e: unknown) => log.error({ err: e, checkId }, "could not release the cluster"));
        throw err;
      }
      log.info({ checkId, user: req.user }, "check queued");
      await deps.audit?.record({ event: "check-requested", who: req.user, cluster: req.cluster, at: now().toISOString(), result: `check ${checkId} queued` });
      return { checkId, joined: false };
    }
    const running = await deps.store.getCheck(claim.runningId);
    const link = running?.rootTs ? await deps.slack.permalink(running.channel, running.rootTs) : undefined;
    const msg = await deps.slack.post(req.channel, deps.render.joined(req.cluster, running, req.user, link));
    if (await deps.store.subscribe(req.cluster, claim.runningId, { user: req.user, channel: msg.channel, ts: msg.ts })) {
      log.info({ checkId: claim.runningId, user: req.user }, "joined running check");
      return { checkId: claim.runningId, joined: true };
    }
    // It finished meanwhile: our "joined" note would never be answered; start afresh.
    await deps.slack.update(msg.channel, msg.ts, { text: "The running check just finished; starting a new one." });
  }
  throw new XnodeError("CHECK_BUSY", `could not start or join a check of ${req.cluster}: each check ended while xnode joined it`, "Run /xnode check again.");
}

export function newRequestId(): string {
  return randomUUID().slice(0, 8);
}

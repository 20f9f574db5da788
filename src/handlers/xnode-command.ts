// The `/xnode` slash command: parse, ack within Slack's 3 s, answer or enqueue.
// Ack first: only answers that need no I/O go in the ack; whatever reads
// Redis answers afterwards through respond() (the response URL), so a slow
// Redis never costs Slack's timeout. No Kubernetes here: checks run on the workers.
import type { AllMiddlewareArgs, SlackCommandMiddlewareArgs } from "@slack/bolt";
import type { Queue } from "bullmq";
import { requestDigestNow } from "../digest/request-digest.js";
import type { DigestConfig } from "../digest/digest-payloads.js";
import { errorMessage, errorParts } from "../errors.js";
import type { Logger } from "../logger.js";
import { renderClusters } from "../slack/render/render-clusters.js";
import { renderHelp } from "../slack/render/render-help.js";
import { renderStatus } from "../slack/render/render-status.js";
import { renderUsageError } from "../slack/render/render-usage-error.js";
import type { SlackMessage } from "../slack/render/blocks.js";
import { renderAudit } from "../slack/render/render-fix.js";
import type { AuditLog } from "../store/audit-log.js";
import type { CheckStore } from "../store/check-store.js";
import type { LastResult } from "../model/index.js";
import { JOB, type TracePayload } from "../jobs/check-payloads.js";
import { parseCommand } from "./parse-command.js";
import { newRequestId, requestCheck, type RequestCheckDeps } from "./request-check.js";

export interface XnodeCommandDeps {
  clusters: readonly string[];
  queue: Queue;
  store: CheckStore;
  audit: AuditLog;
  digestQueue: Queue;
  digests: readonly DigestConfig[];
  logger: Logger;
  requestCheckDeps: RequestCheckDeps;
  now?: () => Date;
}

function outcome(last: LastResult) {
  return { at: last.finishedAt, problems: last.findingIds.filter((id) => id !== "cluster-healthy").length };
}

const REDIS_HINT = "Try again in a minute; if it persists, the bot's Redis may be down.";

/** The longest a check's start waits for the acks of a burst of `check` commands (see acksFirst). */
const ACKS_FIRST_MAX_WAIT_MS = 100;

/**
 * Resolves once a turn of the event loop passed with no new `check`, or after ACKS_FIRST_MAX_WAIT_MS.
 * A check joined by many at once costs each of them Redis round trips and two Slack calls (~1 ms of
 * CPU) after the ack; started at once, that work falls between the acks still to send (200 at once:
 * ack p99 ~100 ms more). Bounded, so every request still claims or joins while the check it joins runs.
 */
function acksFirst(): () => Promise<void> {
  let waiting: (() => void)[] = [];
  let turn: NodeJS.Immediate | undefined;
  let cap: NodeJS.Timeout | undefined;
  const release = () => {
    clearImmediate(turn);
    clearTimeout(cap);
    turn = cap = undefined;
    const released = waiting;
    waiting = [];
    for (const resolve of released) resolve();
  };
  return () =>
    new Promise<void>((resolve) => {
      waiting.push(resolve);
      clearImmediate(turn);
      turn = setImmediate(release);
      cap ??= setTimeout(release, ACKS_FIRST_MAX_WAIT_MS);
    });
}

export function xnodeCommandListener(deps: XnodeCommandDeps) {
  const now = deps.now ?? (() => new Date());
  const afterAcks = acksFirst();
  return async ({ command, ack, respond }: SlackCommandMiddlewareArgs & AllMiddlewareArgs): Promise<void> => {
    const requestId = newRequestId();
    const log = deps.logger.child({ requestId, user: command.user_id, channel: command.channel_id });
    /** Acks now, then answers with what `read` produces, or says why it could not. */
    const readThenRespond = async (what: string, read: () => Promise<SlackMessage>) => {
      await ack();
      try {
        await respond({ response_type: "ephemeral", ...(await read()) });
      } catch (err) {
        log.error({ err }, `could not read ${what}`);
        const { message, hint } = errorParts(err, REDIS_HINT);
        await respond({ response_type: "ephemeral", text: `Could not read ${what}: ${message}. ${hint}` });
      }
    };
    const parsed = parseCommand(command.text ?? "", deps.clusters);
    if (!parsed.ok) {
      log.info({ text: command.text, problem: parsed.problem }, "rejected command");
      await ack({ response_type: "ephemeral", ...renderUsageError(parsed.problem, command.text) });
      return;
    }
    const c = parsed.command;
    switch (c.kind) {
      case "help":
        await ack({ response_type: "ephemeral", ...renderHelp() });
        return;
      case "clusters":
        await readThenRespond("the clusters' last results", async () => {
          const lasts = await Promise.all(deps.clusters.map((name) => deps.store.getLast(name)));
          return renderClusters(
            deps.clusters.map((name, i) => ({ name, ...(lasts[i] ? { last: outcome(lasts[i]!) } : {}) })),
            now(),
          );
        });
        return;
      case "status":
        await readThenRespond("xnode's status", async () => {
          const [counts, running, lasts] = await Promise.all([
            deps.queue.getJobCounts("waiting", "active", "delayed", "waiting-children"),
            deps.store.runningChecks([...deps.clusters]),
            Promise.all(deps.clusters.map((name) => deps.store.getLast(name))),
          ]);
          const runningInfo = await Promise.all(running.map(async (r) => ({ cluster: r.cluster, rec: await deps.store.getCheck(r.checkId) })));
          return renderStatus(
            {
              queue: { waiting: (counts.waiting ?? 0) + (counts.delayed ?? 0), active: (counts.active ?? 0) + (counts["waiting-children"] ?? 0) },
              running: runningInfo.map((r) => ({ cluster: r.cluster, startedAt: r.rec?.startedAt ?? now().toISOString(), requestedBy: r.rec?.requestedBy })),
              last: deps.clusters.flatMap((cluster, i) => (lasts[i] ? [{ cluster, outcome: outcome(lasts[i]!) }] : [])),
            },
            now(),
          );
        });
        return;
      case "check":
        await ack();
        try {
          await afterAcks();
          await requestCheck({ ...deps.requestCheckDeps, logger: log }, { cluster: c.cluster, user: command.user_id, channel: command.channel_id, requestId });
        } catch (err) {
          log.error({ err }, "could not start check");
          const { message, hint } = errorParts(err, REDIS_HINT);
          await respond({ response_type: "ephemeral", text: `Could not start the check of ${c.cluster}: ${message}. ${hint}` });
        }
        return;
      case "audit":
        await readThenRespond(`the audit trail of ${c.cluster}`, async () => renderAudit(c.cluster, await deps.audit.latest(c.cluster, 20), now()));
        return;
      case "trace":
        await ack({
          response_type: "ephemeral",
          text: `Tracing ${c.from} → ${c.to} on ${c.cluster}: capturing on every hop takes a few seconds; the result is posted here.`,
        });
        try {
          const data: TracePayload = { cluster: c.cluster, from: c.from, to: c.to, channel: command.channel_id, user: command.user_id, requestId };
          await deps.queue.add(JOB.trace, data, {
            jobId: `trace-${requestId}`,
            attempts: 1,
            removeOnComplete: { age: 24 * 3600 },
            removeOnFail: { age: 7 * 24 * 3600 },
          });
        } catch (err) {
          log.error({ err }, "could not start trace");
          const { message, hint } = errorParts(err, REDIS_HINT);
          await respond({ response_type: "ephemeral", text: `Could not start the trace: ${message}. ${hint}` });
        }
        return;
      case "digest-now":
        await ack({ response_type: "ephemeral", text: "Running the digest for this channel now…" });
        try {
          await requestDigestNow(
            deps.digestQueue,
            { digests: deps.digests, clusters: deps.clusters },
            { channel: command.channel_id, user: command.user_id, requestId },
          );
        } catch (err) {
          log.error({ err }, "could not start digest");
          await respond({ response_type: "ephemeral", text: `Could not start the digest: ${errorMessage(err)}` });
        }
        return;
    }
  };
}

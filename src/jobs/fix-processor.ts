// Runs one approved fix (or rollback): re-verify the plan, show the dry-run
// diff, apply, wait, re-check, and post before/after with [Rollback]. Holds the
// cluster's fix lock, taken by the approving click, until it ends.
import { randomUUID } from "node:crypto";
import type { Job } from "bullmq";
import { runCheck } from "../check/run-check.js";
import type { CheckReport } from "../check/types.js";
import { errorMessage, isXnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { Logger } from "../logger.js";
import { compareReports } from "../remediation/compare-reports.js";
import { executeFix, type FixStep } from "../remediation/execute-fix.js";
import { planHash } from "../remediation/plan-hash.js";
import { renderBeforeAfter, renderDiff, renderFixStarted, renderProgress, renderRefused } from "../slack/render/render-fix.js";
import type { SlackPort } from "../slack/slack-port.js";
import { ApprovalStore, type ApprovalRecord } from "../store/approval-store.js";
import type { AuditLog } from "../store/audit-log.js";
import type { CheckStore } from "../store/check-store.js";
import { fixPayload } from "./fix-payloads.js";

export interface FixWorkerDeps {
  kubeFor(cluster: string): KubeClient;
  approvals: ApprovalStore;
  audit: AuditLog;
  checks: CheckStore;
  slack: SlackPort;
  logger: Logger;
  execTimeoutMs: number;
  pingTimeoutSeconds: number;
  rolloutTimeoutMs: number;
  expiryMinutes: number;
  now?: () => Date;
}

export function createFixProcessor(deps: FixWorkerDeps): (job: Job) => Promise<unknown> {
  const now = deps.now ?? (() => new Date());

  async function issueRollback(rec: ApprovalRecord, approver: string, plan: ApprovalRecord["plan"], fingerprint: unknown, checkId: string): Promise<string> {
    const id = ApprovalStore.newId();
    const created = now();
    await deps.approvals.save({
      id,
      purpose: "rollback",
      cluster: rec.cluster,
      checkId,
      findingId: rec.findingId,
      plan,
      planHash: planHash(plan),
      fingerprint,
      // The two-person rule then keeps the approver of the fix from rolling it back alone, as for any change.
      requestedBy: approver,
      channel: rec.channel,
      threadTs: rec.threadTs,
      createdAt: created.toISOString(),
      expiresAt: new Date(created.getTime() + deps.expiryMinutes * 60_000).toISOString(),
    });
    return id;
  }

  return async (job: Job) => {
    const data = fixPayload.parse(job.data);
    const log = deps.logger.child({ requestId: data.requestId, approvalId: data.approvalId, cluster: data.cluster });
    const rec = await deps.approvals.get(data.approvalId);
    if (!rec) {
      log.error("approved fix has no approval record");
      return { status: "missing" };
    }
    const audit = (event: Parameters<AuditLog["record"]>[0]["event"], result: string) =>
      deps.audit.record({ event, who: data.approver, cluster: rec.cluster, at: now().toISOString(), planHash: rec.planHash, kind: rec.plan.kind, result, approvalId: rec.id });
    const post = (m: Parameters<SlackPort["post"]>[1]) => deps.slack.post(rec.channel, m, rec.threadTs);
    try {
      await post(renderFixStarted(rec.plan, data.approver, rec.purpose));
      if (planHash(rec.plan) !== rec.planHash) {
        await post(renderRefused("the stored plan does not match the hash that was approved", rec.cluster, "Fix aborted"));
        await audit("aborted", "plan hash mismatch");
        return { status: "aborted" };
      }
      const kube = deps.kubeFor(rec.cluster);
      let progress: { channel: string; ts: string } | undefined;
      const onStep = async (step: FixStep) => {
        if (step.kind === "diff") {
          await post(renderDiff(step.lines, step.dryRun));
          return;
        }
        const msg = renderProgress(step.text);
        if (progress) await deps.slack.update(progress.channel, progress.ts, msg);
        else progress = await post(msg);
      };
      const outcome = await executeFix(kube, rec.plan, { approvedDiff: rec.plan.diff, fingerprint: rec.fingerprint as never, onStep, rolloutTimeoutMs: deps.rolloutTimeoutMs, now });
      if (outcome.status === "refused-drift" || outcome.status === "aborted") {
        const title = outcome.status === "refused-drift" ? "Fix refused: the cluster changed since the plan" : "Fix aborted: the dry run differs from what was approved";
        await post(renderRefused(outcome.reason, rec.cluster, title));
        await audit(outcome.status === "refused-drift" ? "refused" : "aborted", outcome.reason);
        log.warn({ status: outcome.status, reason: outcome.reason }, "fix not applied");
        return { status: outcome.status };
      }
      // "failed": something may have changed before a step failed; re-check and offer the undo all the same.
      const failure = outcome.status === "failed" ? outcome.reason : undefined;
      await audit(failure ? "aborted" : rec.purpose === "rollback" ? "rolled-back" : "applied", failure ? `failed part-way: ${failure}` : rec.plan.diff.join("; "));
      const before = rec.checkId ? await deps.checks.getReport(rec.checkId) : undefined;
      const { report: after } = await runCheck(kube, { execTimeoutMs: deps.execTimeoutMs, pingTimeoutSeconds: deps.pingTimeoutSeconds, now });
      const afterId = randomUUID();
      await deps.checks.saveReport(afterId, after);
      const cmp = compareReports(before ?? emptyReport(after), after, rec.findingId);
      const rollbackValue =
        rec.purpose === "fix" && outcome.rollback && outcome.rollbackFingerprint
          ? await issueRollback(rec, data.approver, outcome.rollback, outcome.rollbackFingerprint, afterId)
          : undefined;
      await post(
        renderBeforeAfter(cmp, before ?? after, after, {
          cluster: rec.cluster,
          purpose: rec.purpose,
          ...(failure ? { failure } : {}),
          ...(rollbackValue ? { rollbackValue } : {}),
          ...(rec.plan.persistent ? {} : { persistentNote: "This change does not survive a reboot. " + rec.plan.risks.join(" ") }),
        }),
      );
      await audit("verdict", failure ? `${cmp.verdict} (failed part-way)` : cmp.verdict);
      log.info({ verdict: cmp.verdict, purpose: rec.purpose, failure }, "fix finished");
      return { status: "applied", verdict: cmp.verdict };
    } catch (err) {
      const hint = isXnodeError(err) ? err.hint : "Look at the worker's logs; the cluster may be partly changed, so re-run the check.";
      await post(renderRefused(`${errorMessage(err)}`, rec.cluster, "Fix failed")).catch(() => undefined);
      await audit("aborted", `${errorMessage(err)} ${hint}`);
      log.error({ err }, "fix failed");
      return { status: "failed" };
    } finally {
      await deps.approvals.unlockCluster(rec.cluster, rec.id);
    }
  };
}

/** When the report the plan came from has expired, compare against nothing known. */
function emptyReport(after: CheckReport): CheckReport {
  return { ...after, matrix: [], findings: [] };
}

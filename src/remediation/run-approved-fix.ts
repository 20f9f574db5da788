// Runs one approved fix (or rollback), the same way wherever it was approved
// (a Slack click, the demo): re-verify the plan hash, let executeFix check
// drift, dry-run, apply and wait, re-check the cluster and record that check,
// compare before/after, issue the rollback's approval and audit every step.
// Releases the cluster's fix lock, taken when the approval was decided.
import { randomUUID } from "node:crypto";
import { runCheck } from "../check/run-check.js";
import { errorMessage, isXnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { Logger } from "../logger.js";
import type { AuditEvent, CheckReport, RemediationPlan } from "../model/index.js";
import { ApprovalStore, type ApprovalRecord } from "../store/approval-store.js";
import type { AuditLog } from "../store/audit-log.js";
import type { CheckStore } from "../store/check-store.js";
import { validStored } from "../store/parse-stored.js";
import { recordCheck } from "../store/record-check.js";
import { compareReports, type ReportComparison } from "./compare-reports.js";
import { revertOf } from "./apply-flannel-change.js";
import { executeFix, type FixStep } from "./execute-fix.js";
import { liveFingerprintSchema } from "./fingerprint.js";
import { planHash } from "./plan-hash.js";

/** How a fix's progress reaches people: Slack posts into the approval's thread, the demo prints. */
export interface FixReporter {
  started(plan: RemediationPlan, approver: string, purpose: ApprovalRecord["purpose"]): Promise<void>;
  step(step: FixStep): Promise<void>;
  refused(title: string, reason: string): Promise<void>;
  finished(result: FixResult): Promise<void>;
}

export interface FixResult {
  comparison: ReportComparison;
  before: CheckReport;
  after: CheckReport;
  /** id of the re-check's stored report */
  afterCheckId: string;
  purpose: ApprovalRecord["purpose"];
  /** set when a step failed after something may have changed */
  failure?: string;
  /** the approval id a [Rollback] button carries */
  rollbackApprovalId?: string;
  /** for changes that do not survive a reboot */
  persistentNote?: string;
  /** the re-check found the change undone: "DaemonSet … no longer holds the change: reverted by argocd (…)" */
  revertedBy?: string;
}

export interface ApprovedFixDeps {
  kube: KubeClient;
  approvals: ApprovalStore;
  audit: AuditLog;
  checks: CheckStore;
  logger: Logger;
  execTimeoutMs: number;
  pingTimeoutSeconds: number;
  rolloutTimeoutMs: number;
  expiryMinutes: number;
  now?: () => Date;
}

export type ApprovedFixStatus =
  { status: "aborted" | "refused-drift" | "failed" } | { status: "applied"; verdict: ReportComparison["verdict"]; result: FixResult };

export async function runApprovedFix(
  deps: ApprovedFixDeps,
  /** the approval, decided "approved" by `approver`, whose fix lock is held */
  rec: ApprovalRecord,
  approver: string,
  reporter: FixReporter,
): Promise<ApprovedFixStatus> {
  const now = deps.now ?? (() => new Date());
  const log = deps.logger.child({ approvalId: rec.id });
  const audit = (event: AuditEvent, result: string) =>
    deps.audit.record({
      event,
      who: approver,
      cluster: rec.cluster,
      at: now().toISOString(),
      planHash: rec.planHash,
      kind: rec.plan.kind,
      result,
      approvalId: rec.id,
    });
  try {
    await reporter.started(rec.plan, approver, rec.purpose);
    if (planHash(rec.plan) !== rec.planHash) {
      await reporter.refused("Fix aborted", "the stored plan does not match the hash that was approved");
      await audit("aborted", "plan hash mismatch");
      return { status: "aborted" };
    }
    const fingerprint = validStored(liveFingerprintSchema, rec.fingerprint, `live-state fingerprint of approval ${rec.id}`);
    const outcome = await executeFix(deps.kube, rec.plan, {
      approvedDiff: rec.plan.diff,
      fingerprint,
      onStep: (s) => reporter.step(s),
      rolloutTimeoutMs: deps.rolloutTimeoutMs,
      now,
    });
    if (outcome.status === "refused-drift" || outcome.status === "aborted") {
      const title =
        outcome.status === "refused-drift" ? "Fix refused: the cluster changed since the plan" : "Fix aborted: the dry run differs from what was approved";
      await reporter.refused(title, outcome.reason);
      await audit(outcome.status === "refused-drift" ? "refused" : "aborted", outcome.reason);
      log.warn({ status: outcome.status, reason: outcome.reason }, "fix not applied");
      return { status: outcome.status };
    }
    // "failed": something may have changed before a step failed; re-check and offer the undo all the same.
    const failure = outcome.status === "failed" ? outcome.reason : undefined;
    await audit(
      failure ? "aborted" : rec.purpose === "rollback" ? "rolled-back" : "applied",
      failure ? `failed part-way: ${failure}` : rec.plan.diff.join("; "),
    );
    const before = rec.checkId ? await deps.checks.getReport(rec.checkId) : undefined;
    const { report: after } = await runCheck(deps.kube, { execTimeoutMs: deps.execTimeoutMs, pingTimeoutSeconds: deps.pingTimeoutSeconds, now });
    const afterCheckId = randomUUID();
    // The fix's thread is now the cluster's latest report thread.
    await recordCheck(deps.checks, afterCheckId, after, { finishedAt: now().toISOString(), thread: { channel: rec.channel, rootTs: rec.threadTs } });
    const comparison = compareReports(before ?? emptyReport(after), after, rec.findingId);
    // a sync or controller may have put the old setting back by the time of the re-check
    const applied = outcome.applied;
    const revertedBy = rec.purpose === "fix" && applied?.kind === "flannel" ? await revertOf(deps.kube, applied).catch(() => undefined) : undefined;
    const rollbackApprovalId =
      rec.purpose === "fix" && outcome.rollback && outcome.rollback.approvable !== false && outcome.rollbackFingerprint
        ? await issueRollback(deps, rec, approver, outcome.rollback, outcome.rollbackFingerprint, afterCheckId, now())
        : undefined;
    const result: FixResult = {
      comparison,
      before: before ?? after,
      after,
      afterCheckId,
      purpose: rec.purpose,
      ...(failure ? { failure } : {}),
      ...(rollbackApprovalId ? { rollbackApprovalId } : {}),
      ...(rec.plan.persistent ? {} : { persistentNote: "This change does not survive a reboot. " + rec.plan.risks.join(" ") }),
      ...(revertedBy ? { revertedBy } : {}),
    };
    await reporter.finished(result);
    await audit("verdict", `${comparison.verdict}${failure ? " (failed part-way)" : ""}${revertedBy ? `; ${revertedBy}` : ""}`);
    log.info({ verdict: comparison.verdict, purpose: rec.purpose, failure }, "fix finished");
    return { status: "applied", verdict: comparison.verdict, result };
  } catch (err) {
    const hint = isXnodeError(err) ? err.hint : "Look at the worker's logs; the cluster may be partly changed, so re-run the check.";
    await reporter.refused("Fix failed", errorMessage(err)).catch(() => undefined);
    await audit("aborted", `${errorMessage(err)} ${hint}`);
    log.error({ err }, "fix failed");
    return { status: "failed" };
  } finally {
    await deps.approvals.unlockCluster(rec.cluster, rec.id);
  }
}

async function issueRollback(
  deps: ApprovedFixDeps,
  rec: ApprovalRecord,
  approver: string,
  plan: RemediationPlan,
  fingerprint: unknown,
  checkId: string,
  created: Date,
): Promise<string> {
  const id = ApprovalStore.newId();
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

/** When the report the plan came from has expired, compare against nothing known. */
function emptyReport(after: CheckReport): CheckReport {
  return { ...after, matrix: [], findings: [] };
}

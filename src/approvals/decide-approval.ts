// Turns a click on [Approve …] or [Rollback] into a decision, the same way
// wherever it happens (the Slack listener, the demo): the policy, then the
// cluster's fix lock, then the single-use decision, then the audit. On success
// the caller owns the lock and must run the fix (runApprovedFix releases it).
import type { AuditLog } from "../store/audit-log.js";
import type { ApprovalRecord, ApprovalStore } from "../store/approval-store.js";
import { evaluateApproval, type ApprovalPolicy, type Clicker, type RefusalCode } from "./approval-policy.js";

export interface DecideApprovalDeps {
  approvals: ApprovalStore;
  audit: AuditLog;
  policy: ApprovalPolicy;
  /** how long a cluster stays locked for one fix (released when it ends) */
  fixLockSeconds: number;
  now: () => Date;
  /** told each decision's outcome: "approved" or the refusal's code (metrics) */
  countOutcome?: (outcome: string) => void;
}

export type ApprovalDecision = { ok: true; rec: ApprovalRecord } | { ok: false; code: RefusalCode | "busy" | "refused"; message: string; rec?: ApprovalRecord };

export async function decideApproval(deps: DecideApprovalDeps, approvalId: string, clicker: Clicker): Promise<ApprovalDecision> {
  const rec = await deps.approvals.get(approvalId);
  const audit = (r: ApprovalRecord, event: "refused" | "approved", result: string) =>
    deps.audit.record({
      event,
      who: clicker.user,
      cluster: r.cluster,
      at: deps.now().toISOString(),
      planHash: r.planHash,
      kind: r.plan.kind,
      result,
      approvalId,
    });
  const refuse = async (code: Extract<ApprovalDecision, { ok: false }>["code"], message: string): Promise<ApprovalDecision> => {
    if (rec) await audit(rec, "refused", message);
    deps.countOutcome?.(code);
    return { ok: false, code, message, ...(rec ? { rec } : {}) };
  };
  const refusal = evaluateApproval(rec, clicker, deps.policy, deps.now());
  if (refusal || !rec) return refuse(refusal?.code ?? "unknown", refusal?.message ?? "unknown approval");
  if (!(await deps.approvals.lockCluster(rec.cluster, rec.id, deps.fixLockSeconds))) {
    // A simultaneous click on the same button holds the lock under this very approval.
    if ((await deps.approvals.lockHolder(rec.cluster)) === rec.id)
      return refuse("decided", "This fix was already approved and is being applied now; each approval is used once.");
    return refuse("busy", `A fix is already running on ${rec.cluster}; wait for its result in the thread, then re-run the check.`);
  }
  const decided = await deps.approvals.decide(rec.id, "approved", clicker.user, deps.now());
  if (!decided.ok) {
    await deps.approvals.unlockCluster(rec.cluster, rec.id);
    const by = decided.decidedBy ? ` by <@${decided.decidedBy}>` : "";
    return refuse("decided", `This fix was already ${decided.status}${by}; each approval is used once.`);
  }
  await audit(rec, "approved", rec.purpose);
  deps.countOutcome?.("approved");
  return { ok: true, rec };
}

/**
 * Takes an approval back when its fix cannot be queued (no half-commits): the
 * approval is pending again and the cluster's fix lock released, audited.
 * Returns whether both held; false means Redis failed too (the lock expires by itself).
 */
export async function undoApproval(deps: DecideApprovalDeps, rec: ApprovalRecord, user: string, why: string): Promise<boolean> {
  try {
    await deps.approvals.undoApproval(rec.id, user);
    await deps.approvals.unlockCluster(rec.cluster, rec.id);
    await deps.audit.record({
      event: "aborted",
      who: user,
      cluster: rec.cluster,
      at: deps.now().toISOString(),
      planHash: rec.planHash,
      kind: rec.plan.kind,
      result: `approval undone: the fix could not be queued (${why})`,
      approvalId: rec.id,
    });
    return true;
  } catch {
    return false;
  }
}

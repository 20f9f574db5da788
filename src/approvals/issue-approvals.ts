// After a check: one server-side approval per fix an approver could press,
// each bound to its plan's hash and a fingerprint of the live state it was
// planned from. Returns what the buttons carry.
import type { CheckRecord, CheckReport, ClusterSnapshot, Finding } from "../model/index.js";
import type { KubeClient } from "../kube/kube-client.js";
import { takeFingerprint } from "../remediation/fingerprint.js";
import { planHash } from "../remediation/plan-hash.js";
import type { FindingActions } from "../slack/render/render-finding.js";
import { ApprovalStore } from "../store/approval-store.js";
import { hasApprovers, type ApprovalPolicy } from "./approval-policy.js";

export interface IssueDeps {
  approvals: ApprovalStore;
  policy: ApprovalPolicy;
  now: () => Date;
}

export async function issueApprovals(
  deps: IssueDeps,
  kube: KubeClient,
  check: CheckRecord,
  report: CheckReport,
  snapshot: ClusterSnapshot,
): Promise<Map<Finding, Omit<FindingActions, "rerunValue">>> {
  const out = new Map<Finding, Omit<FindingActions, "rerunValue">>();
  if (!hasApprovers(deps.policy) || !check.rootTs) return out;
  const allowed = deps.policy.allowedKinds(check.cluster);
  for (const finding of report.findings) {
    // steps for a person (approvable: false) get no button
    const plans = finding.remediations.filter((p) => p.approvable !== false && (!allowed || allowed.includes(p.kind)));
    if (plans.length === 0) continue;
    const approvals: NonNullable<FindingActions["approvals"]> = [];
    for (const plan of plans) {
      const id = ApprovalStore.newId();
      const created = deps.now();
      await deps.approvals.save({
        id,
        purpose: "fix",
        cluster: check.cluster,
        checkId: check.id,
        findingId: finding.id,
        plan,
        planHash: planHash(plan),
        fingerprint: await takeFingerprint(kube, snapshot, plan),
        requestedBy: check.requestedBy,
        channel: check.channel,
        threadTs: check.rootTs,
        createdAt: created.toISOString(),
        expiresAt: new Date(created.getTime() + deps.policy.expiryMinutes * 60_000).toISOString(),
      });
      approvals.push({ kind: plan.kind, value: id });
    }
    out.set(finding, { approvals, rejectValue: approvals.map((a) => a.value).join(",") });
  }
  return out;
}

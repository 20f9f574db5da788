// Who may approve what, when. Pure: the caller resolves group membership and
// the clock; every refusal says why in words the clicker can act on.
import type { RemediationPlan } from "../model/index.js";
import type { ApprovalRecord } from "../store/approval-store.js";

export interface ApprovalPolicy {
  users: readonly string[];
  usergroups: readonly string[];
  twoPersonRule: boolean;
  expiryMinutes: number;
  /** undefined = every kind */
  allowedKinds(cluster: string): readonly RemediationPlan["kind"][] | undefined;
}

export type RefusalCode = "unknown" | "wrong-place" | "approver-unknown" | "not-approver" | "self-approval" | "expired" | "kind-not-allowed" | "decided";

export interface Refusal {
  code: RefusalCode;
  message: string;
}

export function hasApprovers(policy: ApprovalPolicy): boolean {
  return policy.users.length > 0 || policy.usergroups.length > 0;
}

/** Where a button was pressed: the channel and the thread of the message holding it. */
export interface ClickPlace {
  channel?: string;
  threadTs?: string;
}

export interface Clicker {
  user: string;
  isApprover: boolean;
  /** why membership could not be told (a user group lookup failed): said instead of "not an approver" */
  lookupProblem?: string;
  /** set for clicks in Slack: an approval only counts in the thread it was posted to */
  place?: ClickPlace;
}

/** Checks everything that needs no Redis race: place, identity, rule, clock, kind, and a decision already made. */
export function evaluateApproval(rec: ApprovalRecord | undefined, clicker: Clicker, policy: ApprovalPolicy, now: Date): Refusal | undefined {
  if (!rec)
    return { code: "unknown", message: "This approval is unknown: it was never issued here, or it is older than a week. Press Re-run for a fresh plan." };
  // A button value copied into another message, channel or thread is not the button an approver saw.
  if (clicker.place && (clicker.place.channel !== rec.channel || clicker.place.threadTs !== rec.threadTs)) {
    return { code: "wrong-place", message: "This approval belongs to another xnode thread; press the button in the thread that reported the problem." };
  }
  if (!clicker.isApprover && clicker.lookupProblem) {
    return { code: "approver-unknown", message: `Could not tell whether you are an approver for ${rec.cluster}: ${clicker.lookupProblem}.` };
  }
  if (!clicker.isApprover) {
    return { code: "not-approver", message: `You are not an approver for ${rec.cluster}. Ask someone listed under approvals.approvers in xnode's config.` };
  }
  if (policy.twoPersonRule && clicker.user === rec.requestedBy) {
    return { code: "self-approval", message: "The two-person rule is on: you requested this check, so someone else has to approve its fix." };
  }
  if (rec.status !== "pending") {
    const who = rec.decidedBy ? ` by <@${rec.decidedBy}>` : "";
    return { code: "decided", message: `This fix was already ${rec.status}${who}${rec.decidedAt ? ` at ${rec.decidedAt}` : ""}; each approval is used once.` };
  }
  if (now.getTime() > new Date(rec.expiresAt).getTime()) {
    return {
      code: "expired",
      message: `This approval expired at ${rec.expiresAt} (approvals last ${policy.expiryMinutes} min). Press Re-run to plan against the cluster as it is now.`,
    };
  }
  const allowed = policy.allowedKinds(rec.cluster);
  if (allowed && !allowed.includes(rec.plan.kind)) {
    return { code: "kind-not-allowed", message: `${rec.plan.kind} is not allowed on ${rec.cluster} (allowedRemediations: ${allowed.join(", ") || "none"}).` };
  }
  return undefined;
}

export function policyFromConfig(file: {
  approvals: { approvers: { users: string[]; usergroups: string[] }; twoPersonRule: boolean; expiryMinutes: number };
  clusters: { name: string; allowedRemediations?: RemediationPlan["kind"][] }[];
}): ApprovalPolicy {
  return {
    users: file.approvals.approvers.users,
    usergroups: file.approvals.approvers.usergroups,
    twoPersonRule: file.approvals.twoPersonRule,
    expiryMinutes: file.approvals.expiryMinutes,
    allowedKinds: (cluster) => file.clusters.find((c) => c.name === cluster)?.allowedRemediations,
  };
}

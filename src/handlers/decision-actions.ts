// [Approve …], [Reject] and [Rollback]: every rule checked before anything is
// enqueued; every refusal told to the clicker alone; the buttons replaced by
// the outcome once decided. No Kubernetes here: the fix runs on a worker.
import type { AllMiddlewareArgs, BlockButtonAction, SlackActionMiddlewareArgs } from "@slack/bolt";
import type { Queue } from "bullmq";
import { z } from "zod";
import type { ApprovalPolicy, ClickPlace } from "../approvals/approval-policy.js";
import { decideApproval, undoApproval } from "../approvals/decide-approval.js";
import { resolveApprover } from "../approvals/resolve-approver.js";
import { errorMessage } from "../errors.js";
import { FIX_JOB } from "../jobs/fix-payloads.js";
import type { Logger } from "../logger.js";
import { decisionText, withDecision } from "../slack/render/render-fix.js";
import type { SlackPort } from "../slack/slack-port.js";
import type { ApprovalRecord, ApprovalStore } from "../store/approval-store.js";
import type { AuditLog } from "../store/audit-log.js";
import { newRequestId } from "./request-check.js";

export interface DecisionDeps {
  approvals: ApprovalStore;
  audit: AuditLog;
  policy: ApprovalPolicy;
  slack: SlackPort;
  fixQueue: Queue;
  logger: Logger;
  /** how long a cluster stays locked for one fix (released when it ends) */
  fixLockSeconds: number;
  now?: () => Date;
  /** told each approval decision's outcome (metrics) */
  countOutcome?: (outcome: string) => void;
}

type ButtonArgs = SlackActionMiddlewareArgs<BlockButtonAction> & AllMiddlewareArgs;

const approverStatus = (deps: DecisionDeps, user: string) => resolveApprover(deps.policy, user, (group) => deps.slack.usergroupMembers(group));

/** The channel and thread of the clicked message (its own ts when it is a thread's root). */
function clickPlace(body: ButtonArgs["body"]): ClickPlace {
  const container = z.object({ message_ts: z.string().optional(), thread_ts: z.string().optional() }).safeParse(body.container);
  const threadTs = container.success ? (container.data.thread_ts ?? container.data.message_ts) : undefined;
  return { ...(body.channel?.id ? { channel: body.channel.id } : {}), ...(threadTs ? { threadTs } : {}) };
}

// The clicked message as Slack sends it back: our blocks, with Slack's additions kept.
const clickedMessageSchema = z.object({
  ts: z.string(),
  text: z.string().optional(),
  blocks: z.array(z.object({ type: z.string() }).passthrough()).optional(),
});

/** Replaces the clicked message's buttons with the outcome (best effort: the decision stands regardless). */
async function markMessage(deps: DecisionDeps, body: ButtonArgs["body"], outcome: string): Promise<void> {
  const msg = clickedMessageSchema.safeParse(body.message);
  const channel = body.channel?.id;
  if (!msg.success || !channel) return;
  const { ts, text, blocks } = msg.data;
  await deps.slack
    .update(channel, ts, { text: text ?? "xnode", blocks: withDecision(blocks ?? [], outcome) })
    .catch((err: unknown) => deps.logger.warn({ err }, "could not replace buttons"));
}

export function approveActionListener(deps: DecisionDeps) {
  const now = deps.now ?? (() => new Date());
  return async ({ ack, body, action, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const requestId = newRequestId();
    const user = body.user.id;
    const log = deps.logger.child({ requestId, user, approvalId: action.value });
    const decision = await decideApproval({ ...deps, now }, action.value ?? "", { user, ...(await approverStatus(deps, user)), place: clickPlace(body) });
    if (!decision.ok) {
      log.info({ code: decision.code, message: decision.message }, "approval refused");
      await respond({ response_type: "ephemeral", replace_original: false, text: `:no_entry: ${decision.message}` });
      return;
    }
    const { rec } = decision;
    try {
      await deps.fixQueue.add(FIX_JOB, { approvalId: rec.id, cluster: rec.cluster, requestId, approver: user }, { jobId: `fix-${rec.id}`, attempts: 1 });
    } catch (err) {
      // No half-commit: an approval nothing will apply is taken back, and the cluster unlocked.
      const undone = await undoApproval({ ...deps, now }, rec, user, errorMessage(err));
      log.error({ err, undone }, "fix approved but not queued");
      const state = undone
        ? `Nothing was changed: your approval was undone and ${rec.cluster} is unlocked, so press the button again in a minute.`
        : `Undoing it failed too: ${rec.cluster} stays locked for fixes for up to ${Math.ceil(deps.fixLockSeconds / 60)} min; then press Re-run for a fresh plan.`;
      await respond({
        response_type: "ephemeral",
        replace_original: false,
        text: `:warning: The fix was approved but could not be queued (${errorMessage(err)}). ${state} If it keeps failing, xnode's Redis may be down.`,
      });
      return;
    }
    log.info({ cluster: rec.cluster, kind: rec.plan.kind, purpose: rec.purpose }, "fix approved and queued");
    await markMessage(deps, body, decisionText("approved", user, rec.plan.kind));
  };
}

export function rejectActionListener(deps: DecisionDeps) {
  const now = deps.now ?? (() => new Date());
  return async ({ ack, body, action, respond }: ButtonArgs): Promise<void> => {
    await ack();
    const user = body.user.id;
    const ids = (action.value ?? "").split(",").filter(Boolean);
    const place = clickPlace(body);
    // Only approvals posted to this thread: a value copied elsewhere rejects nothing.
    const recs = (await Promise.all(ids.map((id) => deps.approvals.get(id)))).filter(
      (r): r is ApprovalRecord => r !== undefined && r.channel === place.channel && r.threadTs === place.threadTs,
    );
    if (recs.length === 0) {
      await respond({ response_type: "ephemeral", replace_original: false, text: ":no_entry: Nothing to reject: these fixes are unknown here." });
      return;
    }
    const approver = await approverStatus(deps, user);
    if (!approver.isApprover) {
      const cluster = recs[0]!.cluster;
      await respond({
        response_type: "ephemeral",
        replace_original: false,
        text: approver.lookupProblem
          ? `:no_entry: Could not tell whether you are an approver for ${cluster}: ${approver.lookupProblem}.`
          : `:no_entry: You are not an approver for ${cluster}; only approvers can reject a fix.`,
      });
      return;
    }
    const results = await Promise.all(recs.map((r) => deps.approvals.decide(r.id, "rejected", user, now())));
    if (!results.some((r) => r.ok)) {
      await respond({ response_type: "ephemeral", replace_original: false, text: ":information_source: These fixes were already decided." });
      return;
    }
    deps.countOutcome?.("rejected");
    for (const r of recs) {
      await deps.audit.record({
        event: "rejected",
        who: user,
        cluster: r.cluster,
        at: now().toISOString(),
        planHash: r.planHash,
        kind: r.plan.kind,
        result: "rejected",
        approvalId: r.id,
      });
    }
    deps.logger.info({ user, cluster: recs[0]!.cluster, approvals: ids }, "fix rejected");
    await markMessage(deps, body, decisionText("rejected", user));
  };
}

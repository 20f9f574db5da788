// The fix queue's worker: one job per approved fix or rollback, run by
// runApprovedFix with its progress posted into the approval's thread.
import type { Job } from "bullmq";
import type { KubeClient } from "../kube/kube-client.js";
import { runApprovedFix, type ApprovedFixDeps } from "../remediation/run-approved-fix.js";
import { slackFixReporter } from "../slack/slack-fix-reporter.js";
import type { PostLedger } from "../slack/posts-once.js";
import type { SlackPort } from "../slack/slack-port.js";
import { fixPayload } from "./fix-payloads.js";

export interface FixWorkerDeps extends Omit<ApprovedFixDeps, "kube"> {
  kubeFor(cluster: string): KubeClient;
  slack: SlackPort;
  /** remembers the job's posts, so a fix job run again (its worker died) does not post them twice */
  posted?: PostLedger;
}

export function createFixProcessor(deps: FixWorkerDeps): (job: Job) => Promise<{ status: string; verdict?: string }> {
  return async (job: Job) => {
    const data = fixPayload.parse(job.data);
    const logger = deps.logger.child({ requestId: data.requestId, cluster: data.cluster });
    const rec = await deps.approvals.get(data.approvalId);
    if (!rec) {
      logger.error({ approvalId: data.approvalId }, "approved fix has no approval record");
      return { status: "missing" };
    }
    const thread = { cluster: rec.cluster, channel: rec.channel, threadTs: rec.threadTs };
    const reporter = slackFixReporter(deps.slack, thread, deps.posted && job.id ? { ledger: deps.posted, jobId: job.id } : undefined);
    const outcome = await runApprovedFix({ ...deps, kube: deps.kubeFor(rec.cluster), logger }, rec, data.approver, reporter);
    return outcome.status === "applied" ? { status: outcome.status, verdict: outcome.verdict } : { status: outcome.status };
  };
}

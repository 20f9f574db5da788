// A fix's progress in the approval's Slack thread: started, the dry-run diff,
// one progress message edited in place, refusals, and before/after with
// [Rollback] and [Re-run].
import type { FixReporter } from "../remediation/run-approved-fix.js";
import { renderBeforeAfter, renderDiff, renderFixStarted, renderProgress, renderRefused } from "./render/render-fix.js";
import type { SlackMessage, SlackPort } from "./slack-port.js";
import { postsOnce, type PostLedger } from "./posts-once.js";

/** `once`: the fix job's id and a ledger, so a job run again edits its messages instead of posting them twice. */
export function slackFixReporter(
  port: SlackPort,
  thread: { cluster: string; channel: string; threadTs: string },
  once?: { ledger: PostLedger; jobId: string },
): FixReporter {
  const slack = once ? postsOnce(port, once.ledger, `fix:${once.jobId}`) : port;
  const post = (m: SlackMessage) => slack.post(thread.channel, m, thread.threadTs);
  let progress: { channel: string; ts: string } | undefined;
  return {
    async started(plan, approver, purpose) {
      await post(renderFixStarted(plan, approver, purpose));
    },
    async step(step) {
      if (step.kind === "diff") {
        await post(renderDiff(step.lines, step.dryRun));
        return;
      }
      const msg = renderProgress(step.text);
      if (progress) await slack.update(progress.channel, progress.ts, msg);
      else progress = await post(msg);
    },
    async refused(title, reason) {
      await post(renderRefused(reason, thread.cluster, title));
    },
    async finished(r) {
      await post(
        renderBeforeAfter(r.comparison, r.before, r.after, {
          cluster: thread.cluster,
          purpose: r.purpose,
          ...(r.failure ? { failure: r.failure } : {}),
          ...(r.rollbackApprovalId ? { rollbackValue: r.rollbackApprovalId } : {}),
          ...(r.persistentNote ? { persistentNote: r.persistentNote } : {}),
          ...(r.revertedBy ? { revertedBy: r.revertedBy } : {}),
        }),
      );
    },
  };
}

// Tells Slack what a check is doing: progress edits on the root message, the
// report as a thread under it, and the verdict on every joiner's message.
import type { CauseGroup, CheckNotifier, CheckProgress, CheckRecord, Finding, FindingApprovals, Subscriber } from "../model/index.js";
import type { Logger } from "../logger.js";
import type { FindingActions } from "./render/render-finding.js";
import { renderAttachmentFailed, renderReportMessages } from "./render/render-report.js";
import { errorMessage } from "../errors.js";
import { renderRootMessage, type CheckPhase } from "./render/render-root-message.js";
import { renderTrace, renderTraceFailed } from "./render/render-trace.js";
import type { SlackPort } from "./slack-port.js";
import { postsOnce, type PostLedger } from "./posts-once.js";
import { reportFiles } from "./report-files.js";

const PHASES: readonly CheckPhase[] = ["snapshot", "inspect", "reach", "diagnose"];

function asPhase(phase: string): CheckPhase {
  return (PHASES as readonly string[]).includes(phase) ? (phase as CheckPhase) : "inspect";
}

/** With a ledger, a report or trace step run again edits its messages instead of posting them twice. */
export function slackCheckNotifier(slack: SlackPort, logger: Logger, ledger?: PostLedger): CheckNotifier {
  const once = (step: string) => (ledger ? postsOnce(slack, ledger, step) : slack);
  const isRoot = (check: CheckRecord, sub: Subscriber) => sub.channel === check.channel && sub.ts === check.rootTs;

  async function eachJoiner(check: CheckRecord, subscribers: Subscriber[], render: (link: string | undefined) => ReturnType<typeof renderRootMessage>) {
    const joiners = subscribers.filter((s) => s.ts && !isRoot(check, s));
    if (joiners.length === 0) return;
    const link = check.rootTs ? await slack.permalink(check.channel, check.rootTs) : undefined;
    await Promise.all(joiners.map((s) => slack.update(s.channel, s.ts!, render(link))));
  }

  return {
    async progress(check: CheckRecord, progress: CheckProgress) {
      if (!check.rootTs) return;
      await slack.update(
        check.channel,
        check.rootTs,
        renderRootMessage({
          state: "running",
          cluster: check.cluster,
          requestedBy: check.requestedBy,
          progress: { ...progress, phase: asPhase(progress.phase) },
        }),
      );
    },

    async finished(check, report, subscribers, approvals) {
      const subject = { cluster: check.cluster, requestedBy: check.requestedBy, checkId: check.id };
      if (check.rootTs) {
        await slack.update(check.channel, check.rootTs, renderRootMessage({ state: "done", ...subject, report }));
        const messages = renderReportMessages(report, { actionsFor: (group) => groupActions(group, check.cluster, approvals) });
        const thread = once(`check:${check.id}:report`);
        for (const m of messages) await thread.post(check.channel, m, check.rootTs);
        const files = reportFiles(report, messages);
        if (files.length > 0) {
          await thread.uploadFiles(check.channel, check.rootTs, files).catch(async (err: unknown) => {
            // The thread says what is missing and where the rest is, instead of a silent gap.
            logger.warn({ err, checkId: check.id }, "report upload failed");
            const names = files.map((f) => f.filename);
            await thread.post(check.channel, renderAttachmentFailed(check.cluster, check.id, errorMessage(err), names), check.rootTs);
          });
        }
      }
      await eachJoiner(check, subscribers, (threadLink) => renderRootMessage({ state: "done", ...subject, report, threadLink }));
    },

    async traced(req, result) {
      await once(`trace:${req.requestId}`).post(
        req.channel,
        "trace" in result ? renderTrace(req.cluster, req.user, result.trace) : renderTraceFailed(req.cluster, req.from, req.to, result.error),
      );
    },

    async failed(check, error, subscribers) {
      const msg = renderRootMessage({ state: "failed", cluster: check.cluster, requestedBy: check.requestedBy, error });
      if (check.rootTs) await slack.update(check.channel, check.rootTs, msg);
      await eachJoiner(check, subscribers, () => msg);
    },
  };
}

/** A cause's buttons: every Approve its findings were issued (one per fix kind), one Reject for all of them, Re-run. */
function groupActions(group: CauseGroup, cluster: string, approvals: Map<Finding, FindingApprovals> | undefined): FindingActions | undefined {
  const findings = [group.cause, ...group.consequences];
  if (!findings.some((f) => f.remediations.length > 0)) return undefined;
  const issued = findings.map((f) => approvals?.get(f)).filter((a) => a !== undefined);
  const byKind = new Map(
    issued
      .flatMap((a) => a.approvals ?? [])
      .reverse()
      .map((a) => [a.kind, a]),
  );
  const rejects = issued.flatMap((a) => (a.rejectValue ? [a.rejectValue] : []));
  return {
    rerunValue: cluster,
    ...(byKind.size > 0 ? { approvals: [...byKind.values()].reverse() } : {}),
    ...(rejects.length > 0 ? { rejectValue: rejects.join(",") } : {}),
  };
}

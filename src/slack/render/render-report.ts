// The thread under a finished check: a summary, the connectivity matrix, then
// one message per finding (with its buttons), in the order they are posted.
import { causeGroups, type CauseGroup, type CheckReport } from "../../model/index.js";
import { composeMessage, fieldSections, header, packSections, section, toMessage, type RenderedPart, type SlackMessage } from "./blocks.js";
import { capLines, omittedNote, truncate } from "./limits.js";
import { bold, code, escape, plural } from "./mrkdwn.js";
import { renderFinding, type FindingActions } from "./render-finding.js";
import { renderMatrixBlocks } from "./render-matrix.js";
import { countPodPairs, countStates, probedPodPairs } from "../../model/index.js";
import { formatDuration, slackDate } from "./time-text.js";
import { problemsOf } from "../../model/index.js";
import { findingEmoji, verdictText } from "./verdict.js";

export interface ReportRenderOptions {
  /** button values for a cause and the findings it explains; undefined (or no callback) renders it without buttons */
  actionsFor?: (group: CauseGroup) => FindingActions | undefined;
}

/** The messages in posting order; `needsAttachment` is set when any detail was cut, so the full report should be uploaded as a file. */
export type ReportMessages = SlackMessage[] & { needsAttachment: boolean };

const MAX_NODE_LINES = 60;
const MAX_WARNING_LINES = 20;

function nodeLine(n: CheckReport["nodes"][number]): string {
  const value = (v: string | undefined) => (v ? code(v) : "_unknown_");
  const probed = n.probed ? "" : " · :warning: not probed";
  return `${bold(n.name)} · InternalIP ${value(n.internalIP)} · podCIDR ${value(n.podCIDR)} · public-ip ${value(n.publicIP)}${probed}`;
}

/** `probed` is less than `total` when the check probed a sample of the pairs (large clusters) or a node did not answer. */
function reachabilityLine(ok: number, probed: number, total: number): string {
  if (total === 0) return "No pod-to-pod pairs to check";
  if (probed < total && ok === probed) return `:white_check_mark: All ${probed} probed pod-to-pod pairs reachable (of ${total})`;
  if (probed < total) return `:x: ${ok}/${probed} probed pod-to-pod pairs reachable (of ${total})`;
  return ok === total ? `:white_check_mark: All ${total} pod-to-pod pairs reachable` : `:x: ${ok}/${total} pod-to-pod pairs reachable`;
}

function renderSummary(report: CheckReport): { message: SlackMessage; cut: boolean } {
  const { ok, total: pairs } = countPodPairs(report);
  const probedPairs = countStates(probedPodPairs(report));
  const probedCount = probedPairs.ok + probedPairs.fail;
  const problems = problemsOf(report.findings);
  const probed = report.nodes.filter((n) => n.probed).length;
  // Too many to list: the nodes the findings name and those not probed come first, so the cut keeps them.
  const named = new Set(problems.flatMap((f) => f.nodes));
  const involved = (n: CheckReport["nodes"][number]) => (named.has(n.name) || !n.probed ? 0 : 1);
  const listed = report.nodes.length > MAX_NODE_LINES ? [...report.nodes].sort((a, b) => involved(a) - involved(b)) : report.nodes;
  const nodes = capLines(listed.map(nodeLine), MAX_NODE_LINES, omittedNote(report.cluster, "nodes"));
  const notProbed = report.nodes
    .filter((n) => !n.probed)
    .map((n) => `:warning: ${bold(n.name)} was not probed: ${escape(truncate(n.error ?? "its agents did not answer", 500))}. Its pairs are unknown.`);
  const warnings = capLines(notProbed, MAX_WARNING_LINES, omittedNote(report.cluster, "warnings"));
  const findings = problems.map((f) => `${findingEmoji(f)} ${bold(f.id)}${f.nodes.length ? ` (${escape(f.nodes.join(", "))})` : ""}`);
  const parts: RenderedPart[] = [
    {
      blocks: [
        header(`xnode check: ${report.cluster}`),
        section(`${verdictText(problems.length)} · ${reachabilityLine(ok, probedCount, pairs)}`),
        ...fieldSections([
          `*Nodes*\n${report.nodes.length} (${probed} probed)`,
          `*Pod pairs reachable*\n${ok}/${pairs}`,
          `*Duration*\n${formatDuration(report.durationMs)}`,
          `*Started*\n${slackDate(report.startedAt)}`,
        ]),
      ],
      cut: false,
    },
    { blocks: packSections(["*Node addresses*", ...nodes.lines]), cut: nodes.cut },
    { blocks: packSections(warnings.lines), cut: warnings.cut },
    { blocks: findings.length > 0 ? packSections(["*Findings* (details follow in this thread)", ...findings]) : [], cut: false },
  ];
  const fallback = `xnode check ${report.cluster}: ${problems.length === 0 ? "healthy" : plural(problems.length, "problem")}`;
  return composeMessage(escape(fallback), parts);
}

/** Said in the thread when the files (the full report, the matrix's picture and CSV) could not be attached: what failed and where the report still is. */
export function renderAttachmentFailed(cluster: string, checkId: string, reason: string, files: readonly string[]): SlackMessage {
  return toMessage(escape(`xnode check ${cluster}: the full report could not be attached`), [
    section(
      `:warning: The full report could not be attached (${escape(files.join(", "))}): ${escape(truncate(reason, 500))}.\n` +
        `Some detail above may be left out to fit Slack; the report is kept for 7 days: ${code(`xnode report ${checkId} --json`)}`,
    ),
  ]);
}

export function renderReportMessages(report: CheckReport, opts: ReportRenderOptions = {}): ReportMessages {
  const rendered = [
    renderSummary(report),
    composeMessage(escape(`xnode check ${report.cluster}: connectivity`), [renderMatrixBlocks(report)]),
    ...causeGroups(report.findings).map((group, index, groups) => {
      const actions = opts.actionsFor?.(group);
      return renderFinding(group, { cluster: report.cluster, index, total: groups.length, ...(actions ? { actions } : {}) });
    }),
  ];
  return Object.assign(
    rendered.map((r) => r.message),
    { needsAttachment: rendered.some((r) => r.cut) },
  );
}

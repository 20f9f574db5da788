// Thread messages of an approved fix: the decision, the dry-run diff, rollout
// progress, the before/after verdict with [Rollback], refusals, and the audit.
import type { AuditEntry, CheckReport, RemediationPlan } from "../../model/index.js";
import type { ReportComparison as Comparison } from "../../remediation/compare-reports.js";
import {
  actions,
  button,
  context,
  fieldSections,
  header,
  packSections,
  section,
  toMessage,
  type Block,
  type ContextBlock,
  type SlackMessage,
} from "./blocks.js";
import { bold, code, escape, fence, mention } from "./mrkdwn.js";
import { formatAgo } from "./time-text.js";
import { problemsOf } from "../../model/index.js";

export const ROLLBACK_ACTION = "xnode_rollback";

/** The finding message after a decision (its blocks as Slack sends them back): its buttons replaced by the outcome. */
export function withDecision<B extends { type: string }>(blocks: readonly B[], outcome: string): (B | ContextBlock)[] {
  return [...blocks.filter((b) => b.type !== "actions"), context(outcome)];
}

export function decisionText(decision: "approved" | "rejected", user: string, kind?: string): string {
  return decision === "approved"
    ? `:white_check_mark: ${kind ? `${code(kind)} ` : ""}approved by ${mention(user)}; applying (progress below)`
    : `:no_entry_sign: Rejected by ${mention(user)}; nothing was changed`;
}

export function renderFixStarted(plan: RemediationPlan, approver: string, purpose: "fix" | "rollback"): SlackMessage {
  const what = purpose === "rollback" ? "Rollback" : "Fix";
  return toMessage(escape(`xnode: ${what.toLowerCase()} ${plan.kind} approved`), [
    section(`:gear: ${what} ${bold(plan.kind)} approved by ${mention(approver)}: ${escape(plan.summary)}`),
    context("Checking that the cluster still matches the plan, then a server-side dry run…"),
  ]);
}

export function renderDiff(lines: readonly string[], note: string): SlackMessage {
  return toMessage("xnode: change to apply", [section(`*About to apply* (${escape(note)}):\n${fence(lines.join("\n"))}`)]);
}

export function renderProgress(text: string): SlackMessage {
  return toMessage(escape(`xnode: ${text}`), [context(`:hourglass_flowing_sand: ${escape(text)}`)]);
}

export function renderRefused(reason: string, cluster: string, title: string): SlackMessage {
  return toMessage(escape(`xnode: ${title}: ${reason}`), [
    section(`:warning: *${escape(title)}*: ${escape(reason)}\nNothing was changed. Re-run the check to get a plan for the cluster as it is now.`),
    actions("xnode_refused_actions", [button({ actionId: "xnode_rerun", text: "Re-run", value: cluster })]),
  ]);
}

const VERDICT_EMOJI: Record<Comparison["verdict"], string> = {
  fixed: ":white_check_mark:",
  "partly fixed": ":large_yellow_circle:",
  "not fixed": ":x:",
  worse: ":rotating_light:",
};

function findingList(report: CheckReport): string {
  const problems = problemsOf(report.findings);
  return problems.length === 0 ? "cluster-healthy" : problems.map((f) => f.id).join(", ");
}

export function renderBeforeAfter(
  cmp: Comparison,
  before: CheckReport,
  after: CheckReport,
  opts: { cluster: string; rollbackValue?: string; persistentNote?: string; purpose: "fix" | "rollback"; failure?: string; revertedBy?: string },
): SlackMessage {
  const title = opts.purpose === "rollback" ? "Rollback result" : "Fix result";
  const blocks: Block[] = [
    header(`${title}: ${cmp.verdict}`),
    ...(opts.failure ? [section(`:warning: *The ${opts.purpose} failed part-way:* ${escape(opts.failure)}`)] : []),
    section(`${VERDICT_EMOJI[cmp.verdict]} ${bold(opts.cluster)} is ${bold(cmp.verdict)} after the change (re-checked).`),
    ...(opts.revertedBy
      ? [section(`:rewind: *Reverted:* ${escape(opts.revertedBy)}. Commit the values shown with the plan where that manager takes them from.`)]
      : []),
    ...fieldSections([
      `*Pod pairs reachable before*\n${cmp.pairs.before.ok}/${cmp.pairs.before.total}`,
      `*after*\n${cmp.pairs.after.ok}/${cmp.pairs.after.total}`,
      `*Findings before*\n${escape(findingList(before))}`,
      `*after*\n${escape(findingList(after))}`,
    ]),
  ];
  const changes = [
    ...cmp.resolved.map((id) => `:white_check_mark: resolved: ${code(id)}`),
    ...cmp.remaining.map((id) => `:x: still there: ${code(id)}`),
    ...cmp.appeared.map((id) => `:rotating_light: new: ${code(id)}`),
  ];
  if (changes.length) blocks.push(...packSections(changes));
  if (opts.persistentNote) blocks.push(context(escape(opts.persistentNote)));
  if (cmp.verdict === "worse") blocks.push(section(":rotating_light: *The cluster is worse than before.* Roll back now:"));
  const buttons = [];
  if (opts.rollbackValue) {
    buttons.push(
      button({
        actionId: ROLLBACK_ACTION,
        text: "Rollback",
        value: opts.rollbackValue,
        ...(cmp.verdict === "worse" ? { style: "danger" as const } : {}),
        confirm: { title: "Roll back this fix?", text: `Undo the change just applied to ${opts.cluster}.`, confirm: "Roll back", deny: "Cancel" },
      }),
    );
  }
  buttons.push(button({ actionId: "xnode_rerun", text: "Re-run", value: opts.cluster }));
  blocks.push(actions("xnode_fix_actions", buttons));
  return toMessage(escape(`xnode: ${opts.cluster} ${cmp.verdict} after the ${opts.purpose}`), blocks);
}

export function renderAudit(cluster: string, entries: readonly AuditEntry[], now: Date): SlackMessage {
  if (entries.length === 0) return toMessage(escape(`xnode audit ${cluster}: nothing recorded`), [section(`No audit entries for ${bold(cluster)} yet.`)]);
  const lines = entries.map((e) => {
    const plan = e.kind ? ` ${code(e.kind)}` : "";
    const hash = e.planHash ? ` plan ${code(e.planHash.slice(0, 12))}` : "";
    return `• ${formatAgo(e.at, now)}: *${escape(e.event)}*${plan} by ${/^[UW][A-Z0-9]+$/.test(e.who) ? mention(e.who) : escape(e.who)}${hash}: ${escape(e.result)}`;
  });
  return toMessage(escape(`xnode audit ${cluster}`), [header(`Audit: ${cluster}`), ...packSections(lines)]);
}

// One thread message per root cause: what is wrong, the evidence, what it
// explains (its consequences, folded in), where the packet dies (once), each
// proposed fix exactly as it would be applied (once), and the buttons that
// approve, reject or re-run.
import { groupPlans, type CauseGroup, type Finding, type ObservedPoint, type RemediationPlan, type TraceHop } from "../../model/index.js";
import { actions, button, composeMessage, context, header, section, type Block, type RenderedPart, type SlackMessage } from "./blocks.js";
import { fitLines, MAX_SECTION_TEXT, omittedNote, truncate } from "./limits.js";
import { bold, bullets, code, codeText, escape, fence, FENCE_OVERHEAD, italic, nameList, plural } from "./mrkdwn.js";
import { findingEmoji } from "./verdict.js";

/** What the buttons send back; the caller (approval store) decides what the values mean. */
export interface FindingActions {
  /** one Approve button per fix the approver may choose */
  approvals?: { kind: RemediationPlan["kind"]; value: string }[];
  rejectValue?: string;
  rerunValue: string;
}

// Approve buttons share one block, where Slack wants distinct action_ids: the
// plan's position is appended (xnode_approve_0, …); listeners match the prefix.
const ACTION_IDS = { approve: "xnode_approve", reject: "xnode_reject", rerun: "xnode_rerun" } as const;

// Four blocks per fix at most; six fixes keep a finding far below 50 blocks.
const MAX_FIXES = 6;
const MAX_LINE = 500;

/** A bold title over as many lines as fit in one section, the rest replaced by `note`. */
function titled(title: string, lines: readonly string[], note: (omitted: number) => string): RenderedPart {
  const fitted = fitLines(lines, MAX_SECTION_TEXT - title.length - 3, note);
  return { blocks: [section(`*${title}*\n${fitted.text}`)], cut: fitted.omitted > 0 };
}

/** Shell-style quoting so a shown command can be pasted as it stands. */
function commandLine(argv: readonly string[]): string {
  return argv.map((arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)).join(" ");
}

const hopMark = (hop: TraceHop): string => (hop.ok ? (hop.unverified ? ":grey_question:" : "✅") : "❌");

/** Hops up to and including the first broken one: past it the packet never goes. */
function traceLines(hops: readonly TraceHop[]): string[] {
  const broken = hops.findIndex((h) => !h.ok);
  const shown = broken === -1 ? hops : hops.slice(0, broken + 1);
  const lines = shown.map((h) => `${hopMark(h)} ${bold(h.hop)}: ${escape(truncate(h.detail, MAX_LINE))}${h.unverified ? ` ${italic("(not verified)")}` : ""}`);
  if (shown.length < hops.length) lines.push(italic(`${plural(hops.length - shown.length, "later hop")} not shown: the packet does not get there`));
  return lines;
}

function fixBlocks(plan: RemediationPlan, n: number): RenderedPart {
  const more = (what: string) => (omitted: number) => `… ${omitted} more ${what}`;
  const head = [`*Fix ${n}: ${escape(planLabel(plan))}* · ${code(plan.kind)}`, escape(truncate(plan.summary, MAX_LINE * 2))];
  if (!plan.persistent) head.push(`:warning: ${italic("Not persistent: lost when the node reboots.")}`);
  if (plan.approvable === false)
    head.push(
      `:raised_hand: ${italic("Steps for you to carry out on the nodes: xnode cannot make this change through the API, so there is no Approve button.")}`,
    );
  if (plan.revertedBy)
    head.push(`:warning: ${italic(`Temporary: ${plan.revertedBy.manager} reverts this at its next sync or upgrade unless the values below are committed.`)}`);
  const parts: RenderedPart[] = [{ blocks: [section(head.join("\n"))], cut: false }];
  if (plan.steps?.length) {
    parts.push(
      titled(
        "Steps",
        plan.steps.map((step, i) => `${i + 1}. ${escape(truncate(step, MAX_LINE))}`),
        more("steps"),
      ),
    );
  }
  if (plan.diff.length > 0) {
    const diff = fitLines(
      plan.diff.map((d) => codeText(truncate(d, MAX_LINE))),
      MAX_SECTION_TEXT - FENCE_OVERHEAD,
      more("lines"),
    );
    parts.push({ blocks: [section(fence(diff.text))], cut: diff.omitted > 0 });
  }
  const commands = (plan.commands ?? []).map((c) => `on ${bold(c.node)}: ${code(truncate(commandLine(c.argv), MAX_LINE))}`);
  if (commands.length > 0) parts.push(titled("Commands", commands, more("commands")));
  if (plan.risks.length > 0) parts.push(titled("Risks", bullets(plan.risks.map((r) => truncate(r, MAX_LINE))), more("risks")));
  if (plan.revertedBy) {
    const title = `To keep it, commit to ${escape(truncate(plan.revertedBy.commitTo, MAX_LINE))}:`;
    const values = truncate(plan.revertedBy.values.trimEnd(), MAX_SECTION_TEXT - FENCE_OVERHEAD - title.length - 4);
    parts.push({ blocks: [section(`*${title}*\n${fence(values)}`)], cut: values.length < plan.revertedBy.values.trimEnd().length });
  }
  return { blocks: parts.flatMap((p) => p.blocks), cut: parts.some((p) => p.cut) };
}

/** Any single line long enough to have been shortened above. */
function hasOverlongLine(finding: Finding): boolean {
  const lines = [
    ...finding.evidence,
    ...(finding.trace?.hops.map((h) => h.detail) ?? []),
    ...finding.remediations.flatMap((r) => [...r.diff, ...r.risks, ...(r.steps ?? []), ...(r.commands ?? []).map((c) => commandLine(c.argv))]),
  ];
  return lines.some((l) => l.length > MAX_LINE) || finding.remediations.some((r) => r.summary.length > MAX_LINE * 2);
}

/** What an Approve button does, in a few words: "set --iface=enp0s8", "add 2 routes". */
export function planLabel(plan: RemediationPlan): string {
  const flag = plan.diff
    .join(" ")
    .match(/--iface(?:-regex|-can-reach)?=[^\s,\]]+/g)
    ?.pop();
  const nodes = [...new Set((plan.commands ?? []).map((c) => c.node))];
  const on = nodes.length === 1 ? ` on ${nodes[0]}` : nodes.length > 1 ? ` on ${nodes.length} nodes` : "";
  switch (plan.kind) {
    case "patch-flannel-iface": {
      const value = plan.diff.join(" ").match(/(flannel\.(?:iface|regexIface)): [^→]*→ "([^"]+)"/);
      const how = flag ? `set ${flag}` : value ? `set ${value[1]}=${value[2]}` : "set flannel's interface";
      return plan.approvable === false ? `steps: ${how}` : how;
    }
    case "add-routes":
      return `add ${plural((plan.commands ?? []).length, "route")}${on}`;
    case "open-vxlan-port":
      return `open the VXLAN port${on}`;
    case "set-forward-accept":
      return `accept pod traffic in FORWARD${on}`;
    case "enable-ip-forward":
      return `set ip_forward=1${on}`;
    case "remove-public-ip-overwrite":
      return `remove public-ip-overwrite on ${(plan.nodePatches ?? []).map((p) => p.node).join(", ") || "the node"}`;
    case "fix-cni0-address":
      return `fix cni0's address${on}`;
    case "restart-flannel-pod":
      return `restart flannel on ${plan.restartPods?.nodes.join(", ") ?? "the node"}`;
  }
}

function actionBlock(group: CauseGroup, plans: readonly RemediationPlan[], cluster: string, values: FindingActions): Block {
  const buttons = (values.approvals ?? []).flatMap((a, i) => {
    // steps for a person never get a button, whatever the caller passed
    const plan = plans.find((r) => r.kind === a.kind && r.approvable !== false);
    if (!plan) return [];
    return [
      button({
        actionId: `${ACTION_IDS.approve}_${i}`,
        text: truncate(`Approve: ${planLabel(plan)}`, 75),
        value: a.value,
        style: "primary",
        confirm: {
          title: "Apply this fix?",
          text: `Apply ${a.kind} to ${cluster} for ${group.cause.id}: ${plan.summary}`,
          confirm: "Approve",
          deny: "Cancel",
        },
      }),
    ];
  });
  if (values.rejectValue !== undefined) buttons.push(button({ actionId: ACTION_IDS.reject, text: "Reject", value: values.rejectValue }));
  buttons.push(button({ actionId: ACTION_IDS.rerun, text: "Re-run", value: values.rerunValue }));
  return actions("xnode_finding_actions", buttons);
}

export interface FindingContext {
  cluster: string;
  /** 0-based position among the report's causes */
  index: number;
  total: number;
  actions?: FindingActions;
}

const observedMark = (p: ObservedPoint): string => (p.seen ? "✅" : "❌");

function observedLines(trace: NonNullable<Finding["trace"]>): string[] {
  const points = trace.observed ?? [];
  const lines = points.map((p) => `${observedMark(p)} ${bold(p.point)}: ${escape(truncate(p.detail, MAX_LINE))}`);
  lines.push(italic(trace.lostAfter ? `last seen at ${trace.lostAfter}` : "not seen at any capture point"));
  return lines;
}

export function renderFinding(group: CauseGroup, ctx: FindingContext): { message: SlackMessage; cut: boolean } {
  const finding = group.cause;
  const facts = `*Severity:* ${finding.severity}${finding.nodes.length ? ` · *Nodes:* ${nameList(finding.nodes)}` : ""}`;
  const explanation = escape(finding.explanation);
  const parts: RenderedPart[] = [
    {
      blocks: [
        header(`${findingEmoji(finding)} ${finding.id}`),
        context(`${ctx.total > 1 ? `Cause ${ctx.index + 1} of ${ctx.total}` : "Cause"} · ${bold(ctx.cluster)}`),
        section(`${facts}\n${explanation}`),
      ],
      cut: facts.length + 1 + explanation.length > MAX_SECTION_TEXT,
    },
  ];
  if (finding.evidence.length > 0) {
    parts.push(titled("Evidence", bullets(finding.evidence.map((e) => truncate(e, MAX_LINE))), omittedNote(ctx.cluster, "lines")));
  }
  if (group.consequences.length > 0) {
    // every line of every consequence; what does not fit the section is counted in its note and the full report is attached
    const lines = group.consequences.flatMap((c) => [
      `${findingEmoji(c)} ${bold(c.id)}${c.nodes.length ? ` (${escape(c.nodes.join(", "))})` : ""}`,
      ...c.evidence.map((e) => `      ↳ ${escape(truncate(e, MAX_LINE))}`),
    ]);
    parts.push(titled(`This also explains ${plural(group.consequences.length, "finding")}`, lines, omittedNote(ctx.cluster, "lines")));
  }
  const trace = finding.trace ?? group.consequences.find((c) => c.trace)?.trace;
  if (trace) {
    parts.push(titled(escape(`Path ${trace.from} → ${trace.to}`), traceLines(trace.hops), omittedNote(ctx.cluster, "hops")));
    if (trace.observed) parts.push(titled(escape(`Packets seen ${trace.from} → ${trace.to}`), observedLines(trace), omittedNote(ctx.cluster, "points")));
  }
  const plans = groupPlans(group);
  plans.slice(0, MAX_FIXES).forEach((plan, i) => parts.push(fixBlocks(plan, i + 1)));
  if (plans.length > MAX_FIXES) {
    parts.push({ blocks: [context(omittedNote(ctx.cluster, "fixes")(plans.length - MAX_FIXES))], cut: true });
  }
  if (ctx.actions && plans.length > 0) parts.push({ blocks: [actionBlock(group, plans, ctx.cluster, ctx.actions)], cut: false });
  const also = group.consequences.length ? `; also ${group.consequences.map((c) => c.id).join(", ")}` : "";
  const fallback = `xnode: ${finding.id} (${finding.severity})${finding.nodes.length ? ` on ${finding.nodes.join(", ")}` : ""}${also}`;
  const { message, cut } = composeMessage(escape(fallback), parts);
  return { message, cut: cut || [finding, ...group.consequences].some(hasOverlongLine) };
}

// The scheduled (or on-demand) digest: one compact channel message with a
// line or two per cluster, problems first, so a glance says what needs a look.
import type { ClusterDigest, DigestContent, DigestFinding } from "../../model/index.js";
import { context, header, packSections, toMessage, type SlackMessage } from "./blocks.js";
import { truncate } from "./limits.js";
import { bold, code, escape, mention, nameList } from "./mrkdwn.js";
import { formatAgo, slackDate } from "./time-text.js";
import { verdictText } from "./verdict.js";

const ORDER: Record<ClusterDigest["state"], number> = { problems: 0, unchecked: 1, healthy: 2 };
// An error from a cluster API can be a page of HTML; a digest line is not the place for it.
const MAX_ERROR_TEXT = 300;
// The second line of a cluster belongs to the first.
const INDENT = "      ↳ ";

function countsText(counts: DigestContent["counts"]): string {
  const parts = [
    counts.healthy ? `${counts.healthy} healthy` : "",
    counts.problems ? `${counts.problems} with problems` : "",
    counts.unchecked ? `${counts.unchecked} not checked` : "",
  ];
  return parts.filter(Boolean).join(" · ");
}

function findingText(f: DigestFinding): string {
  return `${code(f.id)}${f.nodes.length ? ` (${nameList(f.nodes, 3)})` : ""}`;
}

function changeLine(c: Extract<ClusterDigest, { findings: unknown }>): string | undefined {
  const fresh = c.findings.filter((f) => f.isNew);
  const seen = c.findings.filter((f) => !f.isNew);
  const parts = [
    fresh.length ? `:new: new: ${fresh.map(findingText).join(", ")}` : "",
    seen.length ? `${c.compared ? "ongoing" : "findings"}: ${seen.map(findingText).join(", ")}` : "",
    c.resolved.length ? `:tada: resolved: ${c.resolved.map(code).join(", ")}` : "",
  ].filter(Boolean);
  return parts.length ? `${INDENT}${parts.join(" · ")}` : undefined;
}

function failureText(c: ClusterDigest, now: Date): string {
  if (c.state !== "healthy") return c.failingSince ? `failing since ${formatAgo(c.failingSince, now)}` : "";
  return `last failure ${c.lastFailureAt ? formatAgo(c.lastFailureAt, now) : "never"}`;
}

/** A cluster's line or two, as one text so they are never split across sections. */
function clusterText(c: ClusterDigest, now: Date): string {
  const link = c.threadLink ? `<${c.threadLink}|latest report>` : "";
  const [verdict, second] =
    c.state === "unchecked"
      ? [
          `:warning: ${bold(c.cluster)} · could not be checked: ${escape(truncate(c.error.message, MAX_ERROR_TEXT))}`,
          c.error.hint ? `${INDENT}What to try: ${escape(truncate(c.error.hint, MAX_ERROR_TEXT))}` : undefined,
        ]
      : [`${bold(c.cluster)} · ${verdictText(c.findings.length)}`, changeLine(c)];
  const pairs = c.state !== "unchecked" && c.reachable.total > 0 ? `${c.reachable.ok}/${c.reachable.total} pod pairs reachable` : "";
  const first = [verdict, pairs, failureText(c, now), link].filter(Boolean).join(" · ");
  return second ? `${first}\n${second}` : first;
}

function triggerText(content: DigestContent): string {
  const t = content.trigger;
  if (t.kind === "schedule") return "Scheduled digest";
  return t.requestedBy ? `On demand by ${mention(t.requestedBy)}` : "On demand";
}

export function renderDigest(content: DigestContent): SlackMessage {
  const now = new Date(content.at);
  const clusters = [...content.clusters].sort((a, b) => ORDER[a.state] - ORDER[b.state]);
  return toMessage(escape(`xnode digest: ${countsText(content.counts)}`), [
    header("xnode network digest"),
    context(`*${countsText(content.counts)}* · ${slackDate(content.at)} · ${triggerText(content)}`),
    ...packSections(clusters.map((c) => clusterText(c, now))),
    context(`Details of one cluster: ${code("/xnode check <cluster>")}`),
  ]);
}

// `/xnode trace` in Slack: every capture point in path order with what it saw,
// and where the probe was last seen (or why nothing could be captured).
import { nextPoint, traceVerdict, type PacketTrace } from "../../model/index.js";
import { context, header, packSections, section, toMessage, type SlackMessage } from "./blocks.js";
import { truncate } from "./limits.js";
import { bold, code, escape } from "./mrkdwn.js";

export function renderTrace(cluster: string, user: string, t: PacketTrace): SlackMessage {
  const title = `Trace ${t.from} → ${t.to}`;
  if (t.unavailable) {
    return toMessage(escape(`xnode trace ${cluster}: ${t.from} → ${t.to} not captured`), [
      header(title),
      section(`:warning: No capture on ${bold(cluster)}: ${escape(t.unavailable)}`),
      context(`Asked by <@${user}> · the host agents need tcpdump and CAP_NET_RAW (deploy/README.md)`),
    ]);
  }
  const verdict = traceVerdict(t);
  const summary =
    verdict === "delivered"
      ? ":white_check_mark: Every capture point saw the probe: the path works."
      : t.lostAfter
        ? `:x: Lost after ${code(t.lostAfter)}: the probe never reached ${code(nextPoint(t)?.point ?? "the next point")}.`
        : ":x: No capture point saw the probe: it never left the source pod.";
  const points = t.observed.map((p) => `${p.seen ? "✅" : "❌"} ${bold(p.point)}: ${escape(truncate(p.detail, 300))}`);
  return toMessage(escape(`xnode trace ${cluster}: ${t.from} → ${t.to} ${verdict}`), [
    header(title),
    section(summary),
    ...packSections(points),
    context(`Asked by <@${user}> · ${bold(cluster)} · ${t.observed.length} capture points, filtered to the probe's pod addresses`),
  ]);
}

export function renderTraceFailed(cluster: string, from: string, to: string, error: { message: string; hint: string }): SlackMessage {
  return toMessage(escape(`xnode trace ${cluster}: ${from} → ${to} failed`), [
    section(`:warning: Could not trace ${escape(`${from} → ${to}`)} on ${bold(cluster)}: ${escape(error.message)}`),
    context(`What to try: ${escape(error.hint)}`),
  ]);
}

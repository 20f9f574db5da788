// `/xnode status`: the check queue, what is running right now, and the last
// result per cluster. Plain data in, so the store and the queue stay out of it.
import { fieldSections, header, packSections, toMessage, type SlackMessage } from "./blocks.js";
import { bold, italic, mention } from "./mrkdwn.js";
import { formatAgo } from "./time-text.js";
import { outcomeLine, type CheckOutcome } from "./verdict.js";

export interface StatusData {
  queue: { waiting: number; active: number };
  running: { cluster: string; startedAt: Date | string; requestedBy?: string }[];
  last: { cluster: string; outcome: CheckOutcome }[];
}

export function renderStatus(data: StatusData, now: Date): SlackMessage {
  const running = data.running.map(
    (r) => `:hourglass_flowing_sand: ${bold(r.cluster)} · started ${formatAgo(r.startedAt, now)}${r.requestedBy ? ` · for ${mention(r.requestedBy)}` : ""}`,
  );
  const last = data.last.map((l) => `• ${outcomeLine(l.cluster, l.outcome, now)}`);
  const fallback = `xnode: ${data.queue.waiting} waiting, ${data.queue.active} running`;
  return toMessage(fallback, [
    header("xnode status"),
    ...fieldSections([`*Waiting*\n${data.queue.waiting}`, `*Active*\n${data.queue.active}`]),
    ...packSections(["*Running*", ...(running.length > 0 ? running : [italic("No checks running")])]),
    ...packSections(["*Last results*", ...(last.length > 0 ? last : [italic("No cluster checked yet")])]),
  ]);
}

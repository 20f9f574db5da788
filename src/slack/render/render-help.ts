// `/xnode help`, and the usage list the usage-error answer repeats.
import { context, header, packSections, toMessage, type SlackMessage } from "./blocks.js";
import { code, escape } from "./mrkdwn.js";

export const COMMANDS: readonly { usage: string; what: string }[] = [
  { usage: "/xnode check <cluster>", what: "check pod-to-pod networking between every pair of nodes; findings, evidence and fixes follow in a thread" },
  {
    usage: "/xnode trace <cluster> <from-node> <to-node>",
    what: "capture one probe on every hop from a pod on one node to a pod on another: where the packets stop",
  },
  { usage: "/xnode clusters", what: "the clusters xnode can check, with their last result" },
  { usage: "/xnode status", what: "checks waiting and running, and the last result per cluster" },
  { usage: "/xnode audit <cluster>", what: "recent approvals, rejections and fixes applied to a cluster" },
  { usage: "/xnode digest now", what: "post this channel's scheduled digest now" },
  { usage: "/xnode help", what: "this help" },
];

export function usageLines(): string[] {
  return COMMANDS.map((c) => `${code(c.usage)}  ${escape(c.what)}`);
}

export function renderHelp(): SlackMessage {
  const fallback = `xnode: diagnoses cross-node pod networking (flannel). Commands: ${COMMANDS.map((c) => c.usage).join(", ")}`;
  return toMessage(escape(fallback), [
    header("xnode: why can't my pods reach each other?"),
    ...packSections(usageLines()),
    context("A fix runs only after an approver presses *Approve fix*: it is dry-run first, checked again afterwards, and recorded in the audit log."),
  ]);
}

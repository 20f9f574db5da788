// The channel message a check hangs its thread from. It is updated in place
// as the check moves on, so every state renders the whole message.
import type { CheckReport, ProgressEvent } from "../../model/index.js";
import { actions, button, context, section, toMessage, type SlackMessage } from "./blocks.js";
import { bold, code, escape, mention, plural } from "./mrkdwn.js";
import { formatDuration } from "./time-text.js";
import { problemsOf } from "../../model/index.js";
import { verdictText } from "./verdict.js";

export type CheckPhase = ProgressEvent["phase"];

export interface CheckProgress {
  phase: CheckPhase;
  done?: number;
  total?: number;
}

interface Subject {
  cluster: string;
  /** Slack user id of whoever asked */
  requestedBy: string;
  /** link to the report thread, for messages that are not its root (a joiner's) */
  threadLink?: string;
  /** the stored report's id: `xnode report <id>` prints it in full */
  checkId?: string;
}

function threadRef(s: Subject): string {
  return s.threadLink ? `<${s.threadLink}|the report thread>` : "thread";
}

export type RootMessageState =
  | (Subject & { state: "queued"; /** checks ahead in the queue */ ahead?: number })
  | (Subject & { state: "running"; progress?: CheckProgress })
  | (Subject & { state: "done"; report: Pick<CheckReport, "findings" | "durationMs" | "nodes"> })
  | (Subject & { state: "failed"; error: { message: string; hint?: string } })
  | (Subject & { state: "joined"; /** who asked while the check was already running */ joinedBy: string });

const PHASES: CheckPhase[] = ["snapshot", "inspect", "reach", "diagnose"];

function progressText(p: CheckProgress): string {
  const count = p.done !== undefined && p.total !== undefined ? `${p.done}/${p.total}` : undefined;
  const what: Record<CheckPhase, string> = {
    snapshot: "reading nodes and flannel from the Kubernetes API",
    inspect: `inspecting nodes${count ? `: probed ${count} nodes` : ""}`,
    reach: `probing pod-to-pod reachability${count ? `: ${count} agents done` : ""}`,
    diagnose: "diagnosing",
  };
  return `step ${PHASES.indexOf(p.phase) + 1}/${PHASES.length} · ${what[p.phase]}`;
}

function runningLine(s: Subject, emoji: string): string {
  return `${emoji} Checking ${bold(s.cluster)} for ${mention(s.requestedBy)}…`;
}

function doneMessage(s: Subject, report: Pick<CheckReport, "findings" | "durationMs" | "nodes">): SlackMessage {
  const problems = problemsOf(report.findings);
  const ids = problems.map((f) => f.id).join(", ");
  const line = `${bold(s.cluster)}: ${verdictText(problems.length)}${ids ? ` (${escape(ids)})` : ""}`;
  const facts = `${plural(report.nodes.length, "node")} · checked in ${formatDuration(report.durationMs)} for ${mention(s.requestedBy)} · details in ${threadRef(s)}${s.checkId ? ` · report ${code(s.checkId)}` : ""}`;
  const fallback = `xnode: ${s.cluster} ${problems.length === 0 ? "healthy" : plural(problems.length, "problem")}`;
  return toMessage(escape(fallback), [section(line), context(facts)]);
}

export function renderRootMessage(s: RootMessageState): SlackMessage {
  switch (s.state) {
    case "queued": {
      const ahead = s.ahead ? ` · ${plural(s.ahead, "check")} ahead` : "";
      return toMessage(escape(`xnode: ${s.cluster} check queued`), [section(runningLine(s, ":hourglass:")), context(`queued${ahead}`)]);
    }
    case "running": {
      const blocks = [section(runningLine(s, ":hourglass_flowing_sand:")), ...(s.progress ? [context(progressText(s.progress))] : [])];
      return toMessage(escape(`xnode: checking ${s.cluster}`), blocks);
    }
    case "done":
      return doneMessage(s, s.report);
    case "failed": {
      const lines = [`:warning: Checking ${bold(s.cluster)} for ${mention(s.requestedBy)} failed: ${escape(s.error.message)}`];
      if (s.error.hint) lines.push(`*What to try:* ${escape(s.error.hint)}`);
      // Whatever failed, trying again is one click away.
      return toMessage(escape(`xnode: checking ${s.cluster} failed: ${s.error.message}`), [
        section(lines.join("\n")),
        actions("xnode_failed_actions", [button({ actionId: "xnode_rerun", text: "Re-run", value: s.cluster })]),
      ]);
    }
    case "joined":
      return toMessage(escape(`xnode: joined the running check of ${s.cluster}`), [
        context(
          `${mention(s.joinedBy)} asked too; joined the running check of ${bold(s.cluster)} started for ${mention(s.requestedBy)}${s.threadLink ? `: follow ${threadRef(s)}` : ""}`,
        ),
      ]);
  }
}

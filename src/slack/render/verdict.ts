// How a check's outcome is shown everywhere (root message, thread, status,
// cluster list), so "healthy" and "2 problems" always read the same.
import type { Finding, Severity } from "../../model/index.js";
import { bold, escape, plural } from "./mrkdwn.js";
import { formatAgo } from "./time-text.js";

const SEVERITY_EMOJI: Record<Severity, string> = {
  critical: ":red_circle:",
  warning: ":large_orange_circle:",
  info: ":information_source:",
};

export function findingEmoji(finding: Pick<Finding, "id" | "severity">): string {
  return finding.id === "cluster-healthy" ? ":white_check_mark:" : SEVERITY_EMOJI[finding.severity];
}

export function verdictText(problems: number): string {
  return problems === 0 ? ":white_check_mark: healthy" : `:x: ${plural(problems, "problem")}`;
}

/** The last known result of checking a cluster, as the store keeps it. */
export interface CheckOutcome {
  at: Date | string;
  /** findings other than cluster-healthy */
  problems: number;
  /** set when the check itself failed, so `problems` means nothing */
  error?: string;
}

export function outcomeText(outcome: CheckOutcome): string {
  return outcome.error ? `:warning: check failed: ${escape(outcome.error)}` : verdictText(outcome.problems);
}

/** "*cluster-a* · :x: 2 problems · 12 min ago" */
export function outcomeLine(cluster: string, outcome: CheckOutcome, now: Date): string {
  return `${bold(cluster)} · ${outcomeText(outcome)} · ${formatAgo(outcome.at, now)}`;
}

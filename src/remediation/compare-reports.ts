// Before/after of a fix, from two check reports (pure). Findings are matched
// by id: a finding whose node list shrank is still "remaining", not resolved
// plus appeared. Pod pairs count as the Slack matrix counts them: a pair is
// reachable when nothing failed and both its ICMP and TCP probes answered.
import { countPodPairs } from "../model/index.js";
import type { CheckReport } from "../model/index.js";

export type Verdict = "fixed" | "partly fixed" | "not fixed" | "worse";

export interface PairCount {
  ok: number;
  total: number;
}

export interface ReportComparison {
  verdict: Verdict;
  resolved: string[];
  remaining: string[];
  appeared: string[];
  pairs: { before: PairCount; after: PairCount };
}

function problemIds(report: CheckReport): string[] {
  return [...new Set(report.findings.map((f) => f.id).filter((id) => id !== "cluster-healthy"))];
}

/**
 * `target`: the finding the fix was approved for. A fix that removed it and
 * left every pod pair reachable counts as fixed even when a latent finding
 * remains (static routes around a still-misconfigured flannel, say); the
 * remaining ids are listed either way.
 */
export function compareReports(before: CheckReport, after: CheckReport, target?: string): ReportComparison {
  const was = problemIds(before);
  const now = problemIds(after);
  const resolved = was.filter((id) => !now.includes(id));
  const remaining = was.filter((id) => now.includes(id));
  const appeared = now.filter((id) => !was.includes(id));
  const pairs = { before: countPodPairs(before), after: countPodPairs(after) };
  const allPairs = pairs.after.total > 0 && pairs.after.ok === pairs.after.total;
  const targetGone = target !== undefined && was.includes(target) && !now.includes(target);
  const healthy = (after.findings.length > 0 && after.findings.every((f) => f.id === "cluster-healthy")) || (targetGone && allPairs && appeared.length === 0);
  const verdict: Verdict = healthy
    ? "fixed"
    : pairs.after.ok < pairs.before.ok || appeared.length > 0
      ? "worse"
      : resolved.length > 0 || pairs.after.ok > pairs.before.ok
        ? "partly fixed"
        : "not fixed";
  return { verdict, resolved, remaining, appeared, pairs };
}

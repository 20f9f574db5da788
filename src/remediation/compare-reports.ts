// Before/after of a fix, from two check reports (pure). Findings are matched
// by id: a finding whose node list shrank is still "remaining", not resolved
// plus appeared. Pod pairs count as the Slack matrix counts them: a pair is
// reachable when nothing failed and both its ICMP and TCP probes answered.
import type { CheckReport, MatrixEntry } from "../check/types.js";

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

const POD_KINDS = new Set(["pod-icmp", "pod-tcp"]);

export function countPodPairs(report: Pick<CheckReport, "nodes" | "matrix">): PairCount {
  const byPair = new Map<string, MatrixEntry[]>();
  for (const e of report.matrix) {
    if (!POD_KINDS.has(e.kind)) continue;
    const key = `${e.from}\u0000${e.to}`;
    byPair.set(key, [...(byPair.get(key) ?? []), e]);
  }
  const names = report.nodes.map((n) => n.name);
  let ok = 0;
  for (const from of names) {
    for (const to of names) {
      const entries = from === to ? undefined : byPair.get(`${from}\u0000${to}`);
      if (!entries || entries.some((e) => !e.ok)) continue;
      const kinds = new Set(entries.map((e) => e.kind));
      if (kinds.has("pod-icmp") && kinds.has("pod-tcp")) ok += 1;
    }
  }
  return { ok, total: names.length * (names.length - 1) };
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
  const healthy =
    (after.findings.length > 0 && after.findings.every((f) => f.id === "cluster-healthy")) || (targetGone && allPairs && appeared.length === 0);
  const verdict: Verdict = healthy
    ? "fixed"
    : pairs.after.ok < pairs.before.ok || appeared.length > 0
      ? "worse"
      : resolved.length > 0 || pairs.after.ok > pairs.before.ok
        ? "partly fixed"
        : "not fixed";
  return { verdict, resolved, remaining, appeared, pairs };
}

// What a digest says, as data: per cluster its verdict, reachability, what
// changed since the previous digest and when it last failed. Pure: results,
// the previous digest's memory and the clock in; content and the memory for
// the next digest out.
import { countPodPairs } from "../model/pod-pairs.js";
import type { ClusterDigest, ClusterOutcome, DigestContent, DigestMemory, DigestTrigger, FailureMemory } from "../model/digest.js";
import { problemsOf } from "../model/index.js";

function failureMemory(previous: FailureMemory | undefined, failing: boolean, at: string): FailureMemory {
  if (!failing) return previous?.lastFailureAt ? { lastFailureAt: previous.lastFailureAt } : {};
  return { lastFailureAt: at, failingSince: previous?.failingSince ?? at };
}

function digestCluster(o: ClusterOutcome, before: string[] | undefined, failure: FailureMemory): ClusterDigest {
  const base = { cluster: o.cluster, ...(o.threadLink ? { threadLink: o.threadLink } : {}), ...failure };
  if (!o.report) return { ...base, state: "unchecked", error: o.error ?? { message: "no report" } };
  const problems = problemsOf(o.report.findings);
  const ids = new Set<string>(problems.map((f) => f.id));
  return {
    ...base,
    state: problems.length === 0 ? "healthy" : "problems",
    compared: before !== undefined,
    findings: problems.map((f) => ({ id: f.id, nodes: f.nodes, isNew: before !== undefined && !before.includes(f.id) })),
    resolved: (before ?? []).filter((id) => !ids.has(id)),
    reachable: countPodPairs(o.report),
  };
}

export function composeDigest(
  outcomes: readonly ClusterOutcome[],
  previous: DigestMemory,
  now: Date,
  trigger: DigestTrigger,
): { content: DigestContent; memory: DigestMemory } {
  const at = now.toISOString();
  const counts: DigestContent["counts"] = { healthy: 0, problems: 0, unchecked: 0 };
  const memory: DigestMemory = { findings: {}, failures: {} };
  const clusters = outcomes.map((o) => {
    const failing = !o.report || problemsOf(o.report.findings).length > 0;
    const failure = failureMemory(previous.failures[o.cluster], failing, at);
    const c = digestCluster(o, previous.findings[o.cluster], failure);
    counts[c.state] += 1;
    memory.failures[o.cluster] = failure;
    // A cluster that could not be checked keeps what was last seen, so its
    // findings are neither "resolved" now nor "new" when it answers again.
    const findings = c.state === "unchecked" ? previous.findings[o.cluster] : c.findings.map((f) => f.id);
    if (findings) memory.findings[o.cluster] = findings;
    return c;
  });
  return { content: { at, trigger, clusters, counts }, memory };
}

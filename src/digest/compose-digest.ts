// What a digest says, as data: per cluster its verdict, reachability, what
// changed since the previous digest and when it last failed. Pure: results,
// the previous digest's memory and the clock in; content and the memory for
// the next digest out.
import type { CheckReport, Finding } from "../check/types.js";
import { countPodPairs } from "../check/pod-pairs.js";
import { problemsOf } from "../slack/render/verdict.js";

/** One cluster's share of a digest run: a report, or why there is none. */
export interface ClusterOutcome {
  cluster: string;
  report?: CheckReport;
  error?: { message: string; hint?: string };
  /** permalink of the cluster's latest full report thread */
  threadLink?: string;
}

export interface FailureMemory {
  /** last time a check had problems or could not run */
  lastFailureAt?: string;
  /** start of the current run of failures; unset while healthy */
  failingSince?: string;
}

/** What one digest remembers for the next, per cluster. */
export interface DigestMemory {
  /** problem finding ids at the last digest that could check the cluster */
  findings: Record<string, string[]>;
  failures: Record<string, FailureMemory>;
}

export type DigestTrigger = { kind: "schedule" } | { kind: "manual"; requestedBy?: string };

export interface DigestFinding {
  id: Finding["id"];
  nodes: string[];
  /** absent from the previous digest (never set on a cluster's first digest) */
  isNew: boolean;
}

interface ClusterBase extends FailureMemory {
  cluster: string;
  threadLink?: string;
}

export type ClusterDigest =
  | (ClusterBase & {
      state: "healthy" | "problems";
      /** a previous digest saw this cluster, so "new" and "resolved" mean something */
      compared: boolean;
      findings: DigestFinding[];
      /** ids the previous digest reported that are gone now */
      resolved: string[];
      /** pod-to-pod pairs (both ICMP and TCP answered) out of all ordered node pairs */
      reachable: { ok: number; total: number };
    })
  | (ClusterBase & { state: "unchecked"; error: { message: string; hint?: string } });

export interface DigestContent {
  at: string;
  trigger: DigestTrigger;
  clusters: ClusterDigest[];
  counts: Record<ClusterDigest["state"], number>;
}

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

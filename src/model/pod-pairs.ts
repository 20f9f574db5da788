// Pod-to-pod reachability per ordered node pair. A pair is reachable only when
// both its ICMP and its TCP probe answered: ping alone misses a FORWARD rule
// that drops TCP, TCP alone misses an MTU black hole for small packets.
import type { CheckReport, MatrixEntry } from "./report.js";

export type PairState = "ok" | "fail" | "unknown";

export interface PodPair {
  from: string;
  to: string;
  state: PairState;
}

const POD_KINDS = new Set(["pod-icmp", "pod-tcp"]);

function pairState(entries: readonly MatrixEntry[]): PairState {
  if (entries.some((e) => !e.ok)) return "fail";
  const answered = new Set(entries.map((e) => e.kind));
  return answered.has("pod-icmp") && answered.has("pod-tcp") ? "ok" : "unknown";
}

export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}

export const pairKey = (from: string, to: string): string => `${from}\u0000${to}`;

/** Every ordered pair of distinct nodes, in the report's node order. */
export function podPairs(report: Pick<CheckReport, "nodes" | "matrix">): PodPair[] {
  const byPair = groupBy(
    report.matrix.filter((e) => POD_KINDS.has(e.kind)),
    (e) => pairKey(e.from, e.to),
  );
  const names = report.nodes.map((n) => n.name);
  return names.flatMap((from) => names.filter((to) => to !== from).map((to) => ({ from, to, state: pairState(byPair.get(pairKey(from, to)) ?? []) })));
}

export function countStates(pairs: readonly PodPair[]): Record<PairState, number> {
  const counts: Record<PairState, number> = { ok: 0, fail: 0, unknown: 0 };
  for (const p of pairs) counts[p.state] += 1;
  return counts;
}

/**
 * The ordered pairs of the report's nodes that some pod probe was run for, in
 * the matrix's order: what a sampled check has, without the N² pairs it left
 * unprobed (podPairs lists those as unknown).
 */
export function probedPodPairs(report: Pick<CheckReport, "nodes" | "matrix">): PodPair[] {
  const names = new Set(report.nodes.map((n) => n.name));
  const byPair = groupBy(
    report.matrix.filter((e) => POD_KINDS.has(e.kind) && e.from !== e.to && names.has(e.from) && names.has(e.to)),
    (e) => pairKey(e.from, e.to),
  );
  return [...byPair.values()].map((entries) => ({ from: entries[0]!.from, to: entries[0]!.to, state: pairState(entries) }));
}

/** Ordered pairs of distinct nodes: a cluster's pod pairs, probed or not. */
export function pairCount(report: Pick<CheckReport, "nodes">): number {
  return report.nodes.length * Math.max(0, report.nodes.length - 1);
}

/** Reachable ordered pairs out of all of them (what reports, digests and verdicts count). */
export function countPodPairs(report: Pick<CheckReport, "nodes" | "matrix">): { ok: number; total: number } {
  return { ok: countStates(probedPodPairs(report)).ok, total: pairCount(report) };
}

// Views of the reachability matrix: which cross-node pod pairs failed, what
// the underlay pings proved, and how severe a problem on some nodes is.
import type { CheckEvidence, MatrixEntry, MatrixKind, Severity } from "../model/index.js";
import { inNodeOrder, vtepAddress } from "./cluster-view.js";

/** Kinds whose traffic crosses the overlay: pod to pod, host to pod. */
const OVERLAY_KINDS: readonly MatrixKind[] = ["pod-icmp", "pod-tcp", "node-pod-icmp"];

export interface FailingPair {
  from: string;
  to: string;
  /** the failed entries of this pair, pod checks first */
  entries: MatrixEntry[];
}

/** Cross-node pairs with at least one failed overlay check, in node order. */
export function failingPairs(ev: CheckEvidence): FailingPair[] {
  const order = inNodeOrder(
    ev,
    ev.matrix.flatMap((e) => [e.from, e.to]),
  );
  const byPair = new Map<string, FailingPair>();
  for (const e of ev.matrix) {
    if (e.ok || e.from === e.to || !OVERLAY_KINDS.includes(e.kind)) continue;
    const key = `${e.from}\u0000${e.to}`;
    const pair = byPair.get(key) ?? { from: e.from, to: e.to, entries: [] };
    pair.entries.push(e);
    byPair.set(key, pair);
  }
  const rank = (p: FailingPair) => order.indexOf(p.from) * order.length + order.indexOf(p.to);
  return [...byPair.values()]
    .map((p) => ({ ...p, entries: [...p.entries].sort((a, b) => OVERLAY_KINDS.indexOf(a.kind) - OVERLAY_KINDS.indexOf(b.kind)) }))
    .sort((a, b) => rank(a) - rank(b));
}

export function pairsInvolving(pairs: readonly FailingPair[], nodes: Iterable<string>): FailingPair[] {
  const set = new Set(nodes);
  return pairs.filter((p) => set.has(p.from) || set.has(p.to));
}

/** Whether every overlay check touching `node` answered (and there was at least one). */
export function overlayProvenWorking(ev: CheckEvidence, node: string): boolean {
  const touching = ev.matrix.filter((e) => OVERLAY_KINDS.includes(e.kind) && e.from !== e.to && (e.from === node || e.to === node));
  return touching.length > 0 && touching.every((e) => e.ok);
}

/** For causes that break traffic only sometimes (MTU, a stopped flannel): critical once the matrix shows them doing it. */
export function severityByFailures(ev: CheckEvidence, nodes: Iterable<string>): Severity {
  return pairsInvolving(failingPairs(ev), nodes).length > 0 ? "critical" : "warning";
}

export function underlayEntries(ev: CheckEvidence, from: string): MatrixEntry[] {
  return ev.matrix.filter((e) => e.kind === "underlay-icmp" && e.from === from);
}

/** An answered underlay ping from `from` out of `iface` to any address of `to`. */
export function underlayReach(ev: CheckEvidence, from: string, iface: string, to: string): MatrixEntry | undefined {
  return underlayEntries(ev, from).find((e) => e.via === iface && e.to === to && e.ok);
}

/** An answered underlay ping between the two nodes' VTEP addresses, in either direction. */
export function vtepPing(ev: CheckEvidence, a: string, b: string): MatrixEntry | undefined {
  const [vtepA, vtepB] = [vtepAddress(ev, a), vtepAddress(ev, b)];
  return ev.matrix.find(
    (e) => e.kind === "underlay-icmp" && e.ok && ((e.from === a && e.to === b && e.target === vtepB) || (e.from === b && e.to === a && e.target === vtepA)),
  );
}

/** The TCP port the pod agents were checked on (from the matrix itself), if any TCP check ran. */
export function podTcpPort(ev: CheckEvidence): number | undefined {
  const target = ev.matrix.find((e) => e.kind === "pod-tcp")?.target;
  const port = Number(target?.split(":")[1]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

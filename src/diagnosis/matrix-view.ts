// Views of the reachability matrix: which cross-node pod pairs failed, what
// the underlay pings proved, and how severe a problem on some nodes is.
import type { CheckEvidence, MatrixEntry, MatrixKind, Severity } from "../model/index.js";
import { inNodeOrder, vtepAddress } from "./cluster-view.js";

/** Kinds whose traffic crosses the overlay: pod to pod, host to pod. */
const OVERLAY_KINDS: readonly MatrixKind[] = ["pod-icmp", "pod-tcp", "node-pod-icmp"];

/**
 * The matrix indexed by source, destination and pair, built once per matrix:
 * rules ask about every node and every pair of nodes, and scanning the
 * O(N²) matrix for each question made a diagnosis O(N⁴). Positions, not
 * entries, so answers keep the matrix's order. Keyed by the array (the
 * matrix is replaced, never edited, once gathered); a length change rebuilds.
 */
interface MatrixIndex {
  length: number;
  from: Map<string, number[]>;
  to: Map<string, number[]>;
  pair: Map<string, number[]>;
  provenWorking: Map<string, boolean>;
  /** failingPairs, for the node list it was ordered by */
  failing?: { nodes: readonly unknown[]; pairs: FailingPair[] };
}

const indexes = new WeakMap<readonly MatrixEntry[], MatrixIndex>();
const NO_POSITIONS: readonly number[] = [];

function push(map: Map<string, number[]>, key: string, position: number): void {
  const list = map.get(key);
  if (list) list.push(position);
  else map.set(key, [position]);
}

function indexOf(matrix: readonly MatrixEntry[]): MatrixIndex {
  const known = indexes.get(matrix);
  if (known && known.length === matrix.length) return known;
  const index: MatrixIndex = { length: matrix.length, from: new Map(), to: new Map(), pair: new Map(), provenWorking: new Map() };
  matrix.forEach((e, i) => {
    push(index.from, e.from, i);
    push(index.to, e.to, i);
    push(index.pair, `${e.from}\u0000${e.to}`, i);
  });
  indexes.set(matrix, index);
  return index;
}

function at(matrix: readonly MatrixEntry[], positions: readonly number[] | undefined): MatrixEntry[] {
  return (positions ?? NO_POSITIONS).map((i) => matrix[i]!);
}

/** Every entry probed from `node`, in matrix order. */
export function entriesFrom(ev: CheckEvidence, node: string): MatrixEntry[] {
  return at(ev.matrix, indexOf(ev.matrix).from.get(node));
}

/** Every entry probed towards `node`, in matrix order. */
export function entriesTo(ev: CheckEvidence, node: string): MatrixEntry[] {
  return at(ev.matrix, indexOf(ev.matrix).to.get(node));
}

/** Every entry from `from` to `to`, in matrix order. */
export function entriesBetween(ev: CheckEvidence, from: string, to: string): MatrixEntry[] {
  return at(ev.matrix, indexOf(ev.matrix).pair.get(`${from}\u0000${to}`));
}

export interface FailingPair {
  from: string;
  to: string;
  /** the failed entries of this pair, pod checks first */
  entries: MatrixEntry[];
}

/** Cross-node pairs with at least one failed overlay check, in node order. */
export function failingPairs(ev: CheckEvidence): FailingPair[] {
  const index = indexOf(ev.matrix);
  if (index.failing?.nodes !== ev.snapshot.nodes) index.failing = { nodes: ev.snapshot.nodes, pairs: findFailingPairs(ev) };
  return [...index.failing.pairs];
}

function findFailingPairs(ev: CheckEvidence): FailingPair[] {
  const order = new Map(
    inNodeOrder(
      ev,
      ev.matrix.flatMap((e) => [e.from, e.to]),
    ).map((name, i) => [name, i]),
  );
  const byPair = new Map<string, FailingPair>();
  for (const e of ev.matrix) {
    if (e.ok || e.from === e.to || !OVERLAY_KINDS.includes(e.kind)) continue;
    const key = `${e.from}\u0000${e.to}`;
    const pair = byPair.get(key) ?? { from: e.from, to: e.to, entries: [] };
    pair.entries.push(e);
    byPair.set(key, pair);
  }
  const rank = (p: FailingPair) => order.get(p.from)! * order.size + order.get(p.to)!;
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
  const known = indexOf(ev.matrix).provenWorking;
  if (!known.has(node)) {
    const touching = [...entriesFrom(ev, node), ...entriesTo(ev, node)].filter((e) => OVERLAY_KINDS.includes(e.kind) && e.from !== e.to);
    known.set(node, touching.length > 0 && touching.every((e) => e.ok));
  }
  return known.get(node)!;
}

/** For causes that break traffic only sometimes (MTU, a stopped flannel): critical once the matrix shows them doing it. */
export function severityByFailures(ev: CheckEvidence, nodes: Iterable<string>): Severity {
  return pairsInvolving(failingPairs(ev), nodes).length > 0 ? "critical" : "warning";
}

export function underlayEntries(ev: CheckEvidence, from: string): MatrixEntry[] {
  return entriesFrom(ev, from).filter((e) => e.kind === "underlay-icmp");
}

/** An answered underlay ping from `from` out of `iface` to any address of `to`. */
export function underlayReach(ev: CheckEvidence, from: string, iface: string, to: string): MatrixEntry | undefined {
  return entriesBetween(ev, from, to).find((e) => e.kind === "underlay-icmp" && e.via === iface && e.ok);
}

/** An answered underlay ping between the two nodes' VTEP addresses, in either direction (the first in matrix order). */
export function vtepPing(ev: CheckEvidence, a: string, b: string): MatrixEntry | undefined {
  const [vtepA, vtepB] = [vtepAddress(ev, a), vtepAddress(ev, b)];
  const { pair } = indexOf(ev.matrix);
  const answered = (from: string, to: string, target: string | undefined) =>
    (pair.get(`${from}\u0000${to}`) ?? NO_POSITIONS).find((i) => {
      const e = ev.matrix[i]!;
      return e.kind === "underlay-icmp" && e.ok && e.target === target;
    });
  const first = Math.min(answered(a, b, vtepB) ?? Infinity, answered(b, a, vtepA) ?? Infinity);
  return Number.isFinite(first) ? ev.matrix[first] : undefined;
}

/** The TCP port the pod agents were checked on (from the matrix itself), if any TCP check ran. */
export function podTcpPort(ev: CheckEvidence): number | undefined {
  const target = ev.matrix.find((e) => e.kind === "pod-tcp")?.target;
  const port = Number(target?.split(":")[1]);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

// Which peers each node probes in the reachability round. Small clusters get
// the full N×N matrix. Above FULL_MESH_MAX_NODES every node probes a bounded
// sample: the peers at ring offsets 1, 2, 4, 8, … (then evenly spaced ones) in
// name order, so every node is probed by exactly as many peers as it probes,
// near and far; and every suspect node (one the host evidence alone already
// names: a firewall drop, FORWARD policy DROP, a missing route, …) gets its
// full row and column. Pure.

/** Up to this many nodes, every node probes every other. */
export const FULL_MESH_MAX_NODES = 50;
/** Peers each node probes above FULL_MESH_MAX_NODES. */
export const SAMPLE_PEERS = 16;
/** Suspects given a full row and column at most: beyond, the sample still shows them. */
export const MAX_SUSPECTS = 32;

/** `k` distinct offsets in 1..n-1: powers of two first, then evenly spaced ones, then the smallest left. */
export function ringOffsets(n: number, k: number): number[] {
  const want = Math.min(k, n - 1);
  const offsets = new Set<number>();
  for (let o = 1; o < n && offsets.size < want; o *= 2) offsets.add(o);
  for (let j = 1; j <= want && offsets.size < want; j++) offsets.add(Math.max(1, Math.floor((j * n) / (want + 1))));
  for (let o = 1; o < n && offsets.size < want; o++) offsets.add(o);
  return [...offsets].sort((a, b) => a - b);
}

export interface PeerSample {
  /** every node probes every other */
  fullMesh: boolean;
  /** the nodes `from` probes (never itself) */
  peersOf(from: string): readonly string[];
}

/**
 * `nodes` in any order: a full mesh keeps it; a sample sorts by name, so it
 * does not depend on the API's order. Suspects beyond MAX_SUSPECTS are
 * ignored (the first ones kept).
 */
export function samplePeers(nodes: readonly string[], suspects: readonly string[] = [], k = SAMPLE_PEERS): PeerSample {
  const unique = [...new Set(nodes)];
  if (unique.length <= FULL_MESH_MAX_NODES || k >= unique.length - 1) {
    return { fullMesh: true, peersOf: (from) => unique.filter((x) => x !== from) };
  }
  const names = unique.sort();
  const n = names.length;
  const index = new Map(names.map((name, i) => [name, i]));
  const offsets = ringOffsets(n, k);
  const focus = [...new Set(suspects.filter((s) => index.has(s)))].slice(0, MAX_SUSPECTS);
  const focusSet = new Set(focus);
  return {
    fullMesh: false,
    peersOf: (from) => {
      const i = index.get(from);
      if (i === undefined) return [];
      if (focusSet.has(from)) return names.filter((x) => x !== from);
      const peers = new Set(offsets.map((o) => names[(i + o) % n]!));
      for (const s of focus) if (s !== from) peers.add(s);
      return [...peers];
    },
  };
}

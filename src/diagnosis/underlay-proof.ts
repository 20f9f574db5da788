// Which underlay interfaces the matrix proved able to reach the other nodes.
// Fixes that move flannel (or routes) to another interface name only
// interfaces proven this way, never ones guessed from their names.
import type { CheckEvidence, MatrixEntry } from "../model/index.js";
import { underlayEntries, underlayReach } from "./matrix-view.js";

export interface ProvenInterface {
  node: string;
  iface: string;
  /** per peer node, the answered ping that proves the interface reaches it */
  reach: Map<string, MatrixEntry>;
}

/** Nodes `node` pinged over the underlay at all (on any interface), in matrix order. */
export function underlayPeers(ev: CheckEvidence, node: string): string[] {
  return [...new Set(underlayEntries(ev, node).map((e) => e.to))];
}

/** Interfaces of `node` with an answered ping to every one of `peers` (none when `peers` is empty). */
export function interfacesReachingAll(ev: CheckEvidence, node: string, peers: readonly string[]): ProvenInterface[] {
  if (peers.length === 0) return [];
  const vias = [...new Set(underlayEntries(ev, node).flatMap((e) => (e.via ? [e.via] : [])))].sort();
  return vias.flatMap((iface) => {
    const reach = new Map<string, MatrixEntry>();
    for (const peer of peers) {
      const entry = underlayReach(ev, node, iface, peer);
      if (!entry) return [];
      reach.set(peer, entry);
    }
    return [{ node, iface, reach }];
  });
}

export interface UnderlayProof {
  /** per flannel node (one with a podCIDR), its interfaces proven to reach every other flannel node */
  proven: Map<string, ProvenInterface[]>;
  /** flannel nodes with no such interface: a cluster-wide fix cannot be proven for them */
  unproven: string[];
}

export function proveUnderlay(ev: CheckEvidence): UnderlayProof {
  const flannelNodes = ev.snapshot.nodes.filter((n) => n.podCIDR !== undefined).map((n) => n.name);
  const proven = new Map<string, ProvenInterface[]>();
  for (const node of flannelNodes) {
    const found = interfacesReachingAll(
      ev,
      node,
      flannelNodes.filter((n) => n !== node),
    );
    if (found.length > 0) proven.set(node, found);
  }
  return { proven, unproven: flannelNodes.filter((n) => !proven.has(n)) };
}

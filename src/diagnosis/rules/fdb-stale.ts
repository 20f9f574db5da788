// A node's neighbour or FDB entries for a peer disagree with the peer's Node
// annotations (VtepMAC, public-ip), or point at an address no node holds.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { inNodeOrder } from "../cluster-view.js";
import { joinNames } from "../evidence-lines.js";
import { overlayEntryProblems } from "../overlay-entries.js";
import { representativeTrace } from "../path-trace.js";

export function fdbStale(ev: CheckEvidence): Finding | undefined {
  const problems = ev.snapshot.nodes.flatMap((n) => overlayEntryProblems(ev, n.name)).filter((p) => p.kind !== "route");
  if (problems.length === 0) return undefined;
  const stale = inNodeOrder(
    ev,
    problems.map((p) => p.node),
  );
  const nodes = inNodeOrder(
    ev,
    problems.flatMap((p) => [p.node, ...(p.peer ? [p.peer] : [])]),
  );
  const ns = ev.snapshot.flannel.daemonSet?.namespace ?? "kube-flannel";
  const restarts = stale.map((node) => {
    const pod = ev.snapshot.flannel.pods.find((p) => p.node === node);
    return pod ? `kubectl -n ${ns} delete pod ${pod.name}` : `the flannel pod on ${node}`;
  });
  return {
    id: "fdb-stale",
    severity: "critical",
    nodes,
    evidence: problems.map((p) => p.line),
    explanation:
      "For each peer flannel writes a permanent neighbour entry (the peer's flannel.1 address → its VtepMAC) and an FDB entry (that MAC → " +
      "the peer's public-ip); VXLAN learning is off, so the kernel sends a peer's packets exactly where these entries say. An entry with the " +
      "wrong MAC or destination (left over from an earlier address, written by hand, or a public-ip-overwrite naming an address no node has) " +
      `sends the packets nowhere. Restart flannel on ${joinNames(stale)} so it re-programs the entries from the Node annotations ` +
      `(${restarts.join("; ")}); correct a wrong public-ip-overwrite annotation first. None of xnode's automatic fixes applies.`,
    remediations: [],
    trace: representativeTrace(ev, stale),
  };
}

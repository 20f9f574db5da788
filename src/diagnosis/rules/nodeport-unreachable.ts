// A NodePort answers somewhere but not from everywhere. Each failure is
// either a rule on the target node dropping the port, or (target without a
// backend) the forward across the overlay after DNAT, or neither.
import type { CheckEvidence, Finding, MatrixEntry, NodePortService } from "../../model/index.js";
import { inNodeOrder } from "../cluster-view.js";
import { joinNames, reachResult } from "../evidence-lines.js";
import { failingPairs, type FailingPair } from "../matrix-view.js";
import { nodePortBlock, type FilterBlock } from "../node-filters.js";
import { tracePair } from "../path-trace.js";

interface Failure {
  svc: NodePortService;
  entry: MatrixEntry;
  block?: FilterBlock;
  /** the failing pod pair from the target node to a backend node, when the connection had to cross the overlay */
  overlayPair?: FailingPair;
  crossesOverlay: boolean;
}

/** Failed checks of services that answered at least once; with externalTrafficPolicy Local, nodes without a backend never answer by design. */
function failures(ev: CheckEvidence): Failure[] {
  const broken = failingPairs(ev);
  return ev.snapshot.services.flatMap((svc) => {
    const entries = ev.matrix.filter((e) => e.kind === "nodeport" && e.service === `${svc.namespace}/${svc.name}`);
    if (!entries.some((e) => e.ok)) return [];
    const local = svc.externalTrafficPolicy === "Local";
    return entries
      .filter((e) => !e.ok && !(local && !svc.backendNodes.includes(e.to)))
      .map((entry) => ({
        svc,
        entry,
        block: nodePortBlock(ev, entry.to, entry.from, entry.target.split(":")[0]!, svc.nodePort),
        crossesOverlay: !svc.backendNodes.includes(entry.to),
        overlayPair: broken.find((p) => p.from === entry.to && svc.backendNodes.includes(p.to)),
      }));
  });
}

function explain(failed: readonly Failure[]): string {
  const services = joinNames([...new Set(failed.map(({ svc }) => `${svc.namespace}/${svc.name} (NodePort ${svc.nodePort})`))]);
  const blocked = failed.some((f) => f.block);
  const overlay = failed.some((f) => !f.block && f.crossesOverlay);
  const neither = failed.some((f) => !f.block && !f.crossesOverlay);
  return [
    `${services} answers on some nodes but not from everywhere.`,
    blocked ? "An iptables rule on the node that does not answer drops TCP to the NodePort (rule above): remove or narrow that rule." : "",
    overlay
      ? "A NodePort reached on a node that has no backend pod is forwarded, after DNAT, to a pod on another node across the overlay, so a " +
        "NodePort that answers only on the pod's own node points at the pod network between the nodes (see the other findings), not at kube-proxy."
      : "",
    neither ? "Where the backend runs on the node itself and no rule drops the port, look at kube-proxy on that node and at filtering outside iptables." : "",
    failed.some(({ svc }) => svc.externalTrafficPolicy === "Local")
      ? "With externalTrafficPolicy Local only nodes running a backend answer; the other nodes are left out."
      : "",
  ]
    .filter(Boolean)
    .join(" ");
}

export function nodeportUnreachable(ev: CheckEvidence): Finding | undefined {
  const failed = failures(ev);
  if (failed.length === 0) return undefined;
  const lines = failed.map(
    ({ svc, entry }) => `curl ${entry.target} from ${entry.from}: ${reachResult(entry)} (backend on ${joinNames(svc.backendNodes) || "no node"})`,
  );
  const blocks = [...new Set(failed.flatMap((f) => f.block?.line ?? []))];
  const overlayPair = failed.find((f) => !f.block && f.overlayPair)?.overlayPair;
  return {
    id: "nodeport-unreachable",
    severity: "critical",
    nodes: inNodeOrder(
      ev,
      failed.flatMap(({ entry }) => [entry.from, entry.to]),
    ),
    evidence: [...lines, ...blocks],
    explanation: explain(failed),
    remediations: [],
    ...(overlayPair ? { trace: { from: overlayPair.from, to: overlayPair.to, hops: tracePair(ev, overlayPair.from, overlayPair.to) } } : {}),
  };
}

// A node without a podCIDR (or sharing one) cannot run flannel: flanneld
// exits with `node "<n>" pod cidr not assigned` and the node gets no lease.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { inNodeOrder } from "../cluster-view.js";
import { describeFlannelPod } from "../evidence-lines.js";
import { cidrCovers, overlappingCidrPairs } from "../ipv4.js";
import { representativeTrace } from "../path-trace.js";

export function podCidrMissing(ev: CheckEvidence): Finding | undefined {
  const lines: string[] = [];
  const involved: string[] = [];
  const nodes = ev.snapshot.nodes;
  const network = ev.snapshot.flannel.network;
  const overlapping = overlappingCidrPairs(nodes.map((n) => n.podCIDR));
  nodes.forEach((n, i) => {
    if (!n.podCIDR) {
      involved.push(n.name);
      lines.push(`${n.name}: spec.podCIDR is empty`);
      const pod = ev.snapshot.flannel.pods.find((p) => p.node === n.name && !p.ready);
      if (pod) lines.push(`${describeFlannelPod(pod)}: flannel exits with "pod cidr not assigned" on a node without one`);
      return;
    }
    for (const j of overlapping.get(i) ?? []) {
      const other = nodes[j]!;
      if (!other.podCIDR) continue;
      involved.push(n.name, other.name);
      lines.push(
        n.podCIDR === other.podCIDR
          ? `podCIDR ${n.podCIDR} on both ${n.name} and ${other.name}`
          : `podCIDR ${n.podCIDR} of ${n.name} overlaps ${other.podCIDR} of ${other.name}`,
      );
    }
    if (network && !cidrCovers(network, n.podCIDR)) {
      involved.push(n.name);
      lines.push(`${n.name}: podCIDR ${n.podCIDR} lies outside the flannel Network ${network}`);
    }
  });
  if (lines.length === 0) return undefined;
  const names = inNodeOrder(ev, involved);
  return {
    id: "pod-cidr-missing",
    severity: "critical",
    nodes: names,
    evidence: lines,
    explanation:
      "flannel takes each node's subnet from its Node's spec.podCIDR (kube subnet manager). A node without one gets no lease: flanneld exits there " +
      '("pod cidr not assigned"), so its flannel pod crash-loops, its pods get no address and no other node routes to it. Two nodes with the same ' +
      "or overlapping podCIDR make the other nodes route one node's pods to the other, and a podCIDR outside flannel's Network is refused. " +
      "podCIDRs are assigned by kube-controller-manager (--allocate-node-cidrs=true with --cluster-cidr equal to flannel's Network); spec.podCIDR " +
      "cannot be changed once set, so a wrong one means deleting the Node and letting the kubelet register it again.",
    remediations: [],
    trace: representativeTrace(ev, names),
  };
}

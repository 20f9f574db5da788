// Nothing wrong: no finding, every node probed, every pod, host-to-pod and
// NodePort check answered (and there was at least one pod check).
import type { CheckEvidence, Finding, MatrixKind } from "../../model/index.js";

const count = (n: number, what: string) => `${n}/${n} ${what}`;

export function clusterHealthy(ev: CheckEvidence, earlier: readonly Finding[]): Finding | undefined {
  if (earlier.length > 0 || ev.unreachableNodes.length > 0) return undefined;
  const of = (...kinds: MatrixKind[]) => ev.matrix.filter((e) => kinds.includes(e.kind));
  const pod = of("pod-icmp", "pod-tcp");
  const checked = [...pod, ...of("node-pod-icmp", "nodeport")];
  if (!pod.some((e) => e.kind === "pod-icmp") || checked.some((e) => !e.ok)) return undefined;
  const pairs = new Set(pod.map((e) => `${e.from}\u0000${e.to}`)).size;
  const protocols = pod.some((e) => e.kind === "pod-tcp") ? "ICMP and TCP" : "ICMP";
  const hostToPod = of("node-pod-icmp").length;
  const nodePorts = of("nodeport").length;
  return {
    id: "cluster-healthy",
    severity: "info",
    nodes: ev.snapshot.nodes.map((n) => n.name),
    evidence: [
      `${count(pairs, "pod pairs")} answered (${protocols})`,
      ...(hostToPod ? [`${count(hostToPod, "host-to-pod pings")} answered`] : []),
      ...(nodePorts ? [`${count(nodePorts, "NodePort checks")} answered`] : []),
    ],
    explanation:
      "Every pod agent reached every other node's pod agent, every node reached the pods on the other nodes, and every NodePort answered " +
      "from every node; no rule found anything wrong in the nodes' flannel state.",
    remediations: [],
  };
}

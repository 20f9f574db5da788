// flannel's pod on a node (with a podCIDR: without one the crash is
// pod-cidr-missing's) is missing, not ready or crash-looping. k3s runs
// flannel inside k3s, so it has no flannel pods to be missing. When the API
// refused discovery, the finding says so and what to grant: it never claims
// flannel is absent when xnode was not allowed to look.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { describeFlannelPod, joinNames } from "../evidence-lines.js";
import { severityByFailures } from "../matrix-view.js";
import { representativeTrace } from "../path-trace.js";

function explanation(ev: CheckEvidence, nodes: string[]): string {
  const { daemonSet, forbidden } = ev.snapshot.flannel;
  if (!daemonSet && forbidden?.length) {
    return (
      `xnode could not tell whether flannel runs on ${joinNames(nodes)}: the API server refused the requests it looks for flannel with ` +
      "(listed above). Grant xnode's ServiceAccount those permissions (each line names the deploy/ RBAC file or kustomize component that does), " +
      "or name flannel's DaemonSet in XNODE_CONFIG (`flannel: { namespace, daemonSet, container }` with deploy/components/flannel-configured), then re-run the check."
    );
  }
  const where = daemonSet ? `kubectl -n ${daemonSet.namespace} logs <pod> -c ${daemonSet.container} --previous` : "the flannel pod's logs (with --previous)";
  return (
    `flannel is not running properly on ${joinNames(nodes)}. While flanneld is down a node keeps the routes, neighbour and FDB entries it ` +
    "already had, so traffic may still flow, but it no longer follows changes (a new node, a changed public IP) and its lease is not renewed; " +
    `a crash loop usually means a configuration problem flanneld states as it exits. Read ${where}` +
    (daemonSet
      ? "."
      : ", and check that flannel runs as a DaemonSet xnode can find (the names of kube-flannel.yml, kubespray, RKE2 canal, or flannel's labels in any namespace), " +
        "or name it in XNODE_CONFIG (`flannel: { namespace, daemonSet, container }`).")
  );
}

export function flannelPodNotReady(ev: CheckEvidence): Finding | undefined {
  const { daemonSet, pods, distribution, forbidden } = ev.snapshot.flannel;
  if (distribution === "k3s") return undefined;
  const lines: string[] = [];
  const nodes: string[] = [];
  for (const node of ev.snapshot.nodes.filter((n) => n.podCIDR)) {
    const onNode = pods.filter((p) => p.node === node.name);
    // during a rollout the old pod may still be terminating next to a ready new one
    if (onNode.some((p) => p.ready)) continue;
    const line = onNode[0]
      ? describeFlannelPod(onNode[0])
      : `${node.name}: ${!daemonSet && forbidden?.length ? "flannel's pod unknown (not allowed to look)" : "no flannel pod"}`;
    nodes.push(node.name);
    lines.push(line);
  }
  if (lines.length === 0) return undefined;
  if (!daemonSet) {
    const refused = (forbidden ?? []).map((r) => `refused: ${r}`);
    const searched = ev.snapshot.warnings.filter((w) => /flannel installation|DaemonSet/.test(w));
    lines.unshift(...(refused.length ? refused : searched.length ? searched : ["flannel DaemonSet not found"]));
  }
  return {
    id: "flannel-pod-not-ready",
    severity: severityByFailures(ev, nodes),
    nodes,
    evidence: lines,
    explanation: explanation(ev, nodes),
    remediations: [],
    trace: representativeTrace(ev, nodes),
  };
}

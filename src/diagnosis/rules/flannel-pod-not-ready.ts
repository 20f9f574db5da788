// flannel's pod on a node (with a podCIDR: without one the crash is
// pod-cidr-missing's) is missing, not ready or crash-looping.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { describeFlannelPod, joinNames } from "../evidence-lines.js";
import { severityByFailures } from "../matrix-view.js";
import { representativeTrace } from "../path-trace.js";

export function flannelPodNotReady(ev: CheckEvidence): Finding | undefined {
  const { daemonSet, pods } = ev.snapshot.flannel;
  const lines: string[] = [];
  const nodes: string[] = [];
  for (const node of ev.snapshot.nodes.filter((n) => n.podCIDR)) {
    const onNode = pods.filter((p) => p.node === node.name);
    // during a rollout the old pod may still be terminating next to a ready new one
    if (onNode.some((p) => p.ready)) continue;
    const line = onNode[0] ? describeFlannelPod(onNode[0]) : `${node.name}: no flannel pod`;
    nodes.push(node.name);
    lines.push(line);
  }
  if (lines.length === 0) return undefined;
  if (!daemonSet) {
    const searched = ev.snapshot.warnings.filter((w) => /daemonset/i.test(w));
    lines.unshift(...(searched.length ? searched : ["flannel DaemonSet not found"]));
  }
  const where = daemonSet ? `kubectl -n ${daemonSet.namespace} logs <pod> -c ${daemonSet.container} --previous` : "the flannel pod's logs (with --previous)";
  return {
    id: "flannel-pod-not-ready",
    severity: severityByFailures(ev, nodes),
    nodes,
    evidence: lines,
    explanation:
      `flannel is not running properly on ${joinNames(nodes)}. While flanneld is down a node keeps the routes, neighbour and FDB entries it ` +
      "already had, so traffic may still flow, but it no longer follows changes (a new node, a changed public IP) and its lease is not renewed; " +
      `a crash loop usually means a configuration problem flanneld states as it exits. Read ${where}` +
      (daemonSet ? "." : ", and check that flannel is deployed as a DaemonSet xnode can find (kube-flannel-ds in kube-flannel or kube-system)."),
    remediations: [],
    trace: representativeTrace(ev, nodes),
  };
}

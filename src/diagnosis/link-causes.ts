// Which findings are consequences of which: a consequence carries
// `explainedBy` (its causes' ids), so Slack and the CLI show each cause once
// with its consequences folded in. Pure; rules may set explainedBy themselves,
// this adds the relations that hold across rules.
import type { Finding, FindingId } from "../model/index.js";

/** Causes that, on the same nodes, break cross-node traffic and so NodePorts reached through another node. */
const OVERLAY_CAUSES: readonly FindingId[] = [
  "vtep-wrong-interface",
  "public-ip-overwrite-wrong",
  "udp-vxlan-blocked",
  "forward-policy-drop",
  "iptables-backend-split",
  "ip-forward-disabled",
  "route-missing",
  "fdb-stale",
  "pod-cidr-missing",
  "cni0-address-mismatch",
  "flannel-pod-not-ready",
];

/** consequence id → the ids that can cause it */
const CAUSES: Partial<Record<FindingId, readonly FindingId[]>> = {
  "vtep-duplicate-public-ip": ["vtep-wrong-interface", "public-ip-overwrite-wrong"],
  "forward-policy-drop": ["iptables-backend-split"],
  "nodeport-unreachable": OVERLAY_CAUSES,
  // node-public-ip naming an address the node lacks: flanneld exits at start
  "flannel-pod-not-ready": ["public-ip-overwrite-wrong"],
};

const overlaps = (a: readonly string[], b: readonly string[]) => a.some((n) => b.includes(n));

export function linkCauses(findings: readonly Finding[]): Finding[] {
  return findings.map((f) => {
    const candidates = CAUSES[f.id] ?? [];
    const causes = findings
      .filter((c) => c !== f && candidates.includes(c.id) && !c.explainedBy?.includes(f.id) && overlaps(c.nodes, f.nodes))
      .map((c) => c.id);
    const all = [...new Set([...(f.explainedBy ?? []), ...causes])];
    return all.length > 0 ? { ...f, explainedBy: all } : f;
  });
}

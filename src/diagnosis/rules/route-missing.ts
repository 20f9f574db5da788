// A node running flannel has no usable route for a peer's pod CIDR: that
// traffic follows the default route (or a blackhole) instead of the overlay.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { inNodeOrder } from "../cluster-view.js";
import { joinNames } from "../evidence-lines.js";
import { overlayEntryProblems } from "../overlay-entries.js";
import { representativeTrace } from "../path-trace.js";
import { planRestoreFlannelRoutes } from "../remediation/plan-routes.js";

export function routeMissing(ev: CheckEvidence): Finding | undefined {
  const problems = ev.snapshot.nodes.flatMap((n) => overlayEntryProblems(ev, n.name)).filter((p) => p.kind === "route");
  if (problems.length === 0) return undefined;
  const lacking = inNodeOrder(
    ev,
    problems.map((p) => p.node),
  );
  const nodes = inNodeOrder(
    ev,
    problems.flatMap((p) => [p.node, ...(p.peer ? [p.peer] : [])]),
  );
  const plan = planRestoreFlannelRoutes(ev, problems);
  return {
    id: "route-missing",
    severity: "critical",
    nodes,
    evidence: problems.map((p) => p.line),
    explanation:
      "flannel programs one route per peer lease (for VXLAN `<podCIDR> via <peer's flannel.1 address> dev flannel.1 onlink`, for host-gw " +
      `\`<podCIDR> via <peer's public-ip>\`). Without it, packets for that pod CIDR follow the default route out of the node and are lost, and ` +
      `replies from those pods are lost the same way, so traffic between the pods of ${joinNames(lacking)} and those peers fails both ways. ` +
      "flannel adds the route again when it restarts or re-programs the peer; if it keeps disappearing, something else on the node deletes it.",
    remediations: plan ? [plan] : [],
    trace: representativeTrace(ev, lacking),
  };
}

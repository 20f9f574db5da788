// net.ipv4.ip_forward=0: packets arrive on flannel.1 but never reach cni0
// (and pods' packets never leave for the overlay).
import type { CheckEvidence, Finding } from "../../model/index.js";
import { joinNames } from "../evidence-lines.js";
import { representativeTrace } from "../path-trace.js";
import { planEnableIpForward } from "../remediation/plan-host-fixes.js";

export function ipForwardDisabled(ev: CheckEvidence): Finding | undefined {
  const nodes = ev.snapshot.nodes.map((n) => n.name).filter((name) => ev.hosts.find((h) => h.node === name)?.sysctls?.ipForward === 0);
  if (nodes.length === 0) return undefined;
  const plan = planEnableIpForward(nodes);
  return {
    id: "ip-forward-disabled",
    severity: "critical",
    nodes,
    evidence: nodes.map((n) => `${n}: net.ipv4.ip_forward = 0`),
    explanation:
      `IPv4 forwarding is off on ${joinNames(nodes)}. Pod traffic is routed by the node between cni0 and flannel.1, so with forwarding off ` +
      "packets from other nodes arrive on flannel.1 but never reach the pods, and the pods' own packets never leave for the overlay; " +
      "traffic the node itself originates still works. Turn it on now and persist it in /etc/sysctl.d/ so a reboot does not undo it.",
    remediations: plan ? [plan] : [],
    trace: representativeTrace(ev, nodes),
  };
}

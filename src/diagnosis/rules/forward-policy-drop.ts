// The FORWARD chain drops pod traffic: policy DROP (Docker >= 1.13 sets it)
// with nothing accepting the pod network, or a DROP/REJECT ahead of flannel's
// FLANNEL-FWD jump.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { joinNames } from "../evidence-lines.js";
import { podForwardBlock } from "../node-filters.js";
import { representativeTrace } from "../path-trace.js";
import { planForwardAccept } from "../remediation/plan-host-fixes.js";

export function forwardPolicyDrop(ev: CheckEvidence): Finding | undefined {
  const blocks = ev.snapshot.nodes.flatMap((n) => {
    const block = podForwardBlock(ev, n.name);
    return block ? [{ node: n.name, block }] : [];
  });
  if (blocks.length === 0) return undefined;
  const nodes = blocks.map((b) => b.node);
  const network = ev.snapshot.flannel.network;
  const plan = planForwardAccept(
    network,
    blocks.map((b) => ({ node: b.node, byPolicy: b.block.verdict.rule === undefined })),
  );
  return {
    id: "forward-policy-drop",
    severity: "critical",
    nodes,
    evidence: blocks.map((b) => b.block.line),
    explanation:
      `The iptables FORWARD chain on ${joinNames(nodes)} drops traffic between the pods and the overlay. Docker (since 1.13) sets the FORWARD ` +
      "policy to DROP; flannel counters that by appending a jump to its FLANNEL-FWD chain, which accepts the cluster network. When that jump " +
      "is missing (flannel run with --iptables-forward-rules=false, or the rules flushed) or a DROP/REJECT rule comes before it, packets reach " +
      "flannel.1 but never cni0. Accept the pod network in FORWARD" +
      (network ? ` (${network})` : "") +
      " or restart flannel to restore its rules, and remove the rule that drops." +
      (plan ? "" : " No command is proposed because flannel's Network is unknown (kube-flannel-cfg not read)."),
    remediations: plan ? [plan] : [],
    trace: representativeTrace(ev, nodes),
  };
}

// The FORWARD chain drops pod traffic: policy DROP (Docker >= 1.13 sets it)
// with nothing accepting the pod network, or a DROP/REJECT ahead of flannel's
// FLANNEL-FWD jump. Every ruleset of a node counts (both iptables backends'
// hooks run), and the fix goes into each one that drops.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { joinNames } from "../evidence-lines.js";
import { podForwardBlocks } from "../node-filters.js";
import { representativeTrace } from "../path-trace.js";
import { planForwardAccept } from "../remediation/plan-host-fixes.js";

export function forwardPolicyDrop(ev: CheckEvidence, earlier: readonly Finding[] = []): Finding | undefined {
  const blocks = ev.snapshot.nodes.flatMap((n) => podForwardBlocks(ev, n.name).map((block) => ({ node: n.name, block })));
  if (blocks.length === 0) return undefined;
  const nodes = [...new Set(blocks.map((b) => b.node))];
  // flannel's rules in the other backend: the split is why FORWARD drops there
  const split = earlier.find((f) => f.id === "iptables-backend-split" && f.nodes.some((n) => nodes.includes(n)));
  const network = ev.snapshot.flannel.network;
  const plan = planForwardAccept(
    network,
    blocks.map((b) => ({ node: b.node, byPolicy: b.block.verdict.rule === undefined, tool: b.block.view.tool })),
  );
  return {
    id: "forward-policy-drop",
    severity: "critical",
    nodes,
    evidence: blocks.map((b) => b.block.line),
    explanation:
      `The iptables FORWARD chain on ${joinNames(nodes)} drops traffic between the pods and the overlay. Docker (since 1.13) sets the FORWARD ` +
      "policy to DROP; flannel counters that by appending a jump to its FLANNEL-FWD chain, which accepts the cluster network. When that jump " +
      "is missing (flannel run with --iptables-forward-rules=false, the rules flushed, or written into the other iptables backend) or a " +
      "DROP/REJECT rule comes before it, packets reach flannel.1 but never cni0. Accept the pod network in FORWARD" +
      (network ? ` (${network})` : "") +
      " of the ruleset that drops, or restart flannel to restore its rules, and remove the rule that drops." +
      (plan ? "" : " No command is proposed because flannel's Network is unknown (kube-flannel-cfg not read)."),
    remediations: plan ? [plan] : [],
    trace: representativeTrace(ev, nodes),
    ...(split ? { explainedBy: [split.id] } : {}),
  };
}

// VXLAN's UDP port is dropped on the way into a node while the nodes ping
// each other fine. Proven when the node's own iptables drop it; only
// suspected (a firewall outside the node) when every failing pair touches
// one node whose entries are all correct and no other finding explains it.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { hostOf, nodeNamed, vtepAddress } from "../cluster-view.js";
import { capLines, describeFailingPair, describeUnderlayPing, joinNames } from "../evidence-lines.js";
import { iptablesFullyRead } from "../iptables-views.js";
import { failingPairs, pairsInvolving, vtepPing } from "../matrix-view.js";
import { vxlanBlock } from "../node-filters.js";
import { overlayEntryProblems } from "../overlay-entries.js";
import { representativeTrace } from "../path-trace.js";
import { planOpenVxlanPort } from "../remediation/plan-host-fixes.js";

function otherVteps(ev: CheckEvidence, node: string): string[] {
  return ev.snapshot.nodes.map((n) => n.name).filter((n) => n !== node && vtepAddress(ev, n) !== undefined);
}

function blockedByRule(ev: CheckEvidence): Finding | undefined {
  const port = ev.snapshot.flannel.vxlanPort;
  const failing = failingPairs(ev);
  const found = ev.snapshot.nodes.flatMap((n) => {
    const blocks = otherVteps(ev, n.name).flatMap((peer) => {
      const block = vxlanBlock(ev, n.name, peer);
      return block ? [{ peer, block }] : [];
    });
    const pairs = pairsInvolving(failing, [n.name]);
    const ping = blocks.map((b) => vtepPing(ev, n.name, b.peer)).find((e) => e !== undefined);
    return blocks.length > 0 && pairs.length > 0 && ping ? [{ node: n.name, blocks, pairs, ping }] : [];
  });
  if (found.length === 0) return undefined;
  const nodes = found.map((f) => f.node);
  const plan = planOpenVxlanPort(
    port,
    found.flatMap((f) => f.blocks.map(({ peer, block }) => ({ node: f.node, table: block.verdict.table, chain: block.verdict.chain, peerAddress: vtepAddress(ev, peer)! }))),
  );
  return {
    id: "udp-vxlan-blocked",
    severity: "critical",
    nodes,
    evidence: found.flatMap((f) => [
      ...new Set(f.blocks.map((b) => b.block.line)),
      ...capLines(f.pairs.map(describeFailingPair), 4, "failing pairs"),
      describeUnderlayPing(f.ping),
    ]),
    explanation:
      `The iptables of ${joinNames(nodes)} drop VXLAN (udp ${port}) from the other nodes. The nodes reach each other (the underlay ping ` +
      "between the VTEP addresses answers) and flannel's routes and entries are in place, but every encapsulated pod packet toward " +
      `${joinNames(nodes)} is discarded on arrival, so pod traffic with ${nodes.length === 1 ? "that node" : "those nodes"} fails in both directions. ` +
      `Allow udp ${port} from the other nodes' addresses only, in whatever manages the firewall (firewalld, ufw, a script), so it survives a reload.`,
    remediations: plan ? [plan] : [],
    trace: representativeTrace(ev, nodes),
  };
}

/** Suspects: nodes in every failing pair no earlier finding explains, with all their entries right and the VTEP pingable. */
function suspectedOutsideFirewall(ev: CheckEvidence, earlier: readonly Finding[]): Finding | undefined {
  const covered = new Set(earlier.filter((f) => f.id !== "nodeport-unreachable").flatMap((f) => f.nodes));
  const unexplained = failingPairs(ev).filter((p) => !covered.has(p.from) && !covered.has(p.to));
  if (unexplained.length === 0) return undefined;
  const inEvery = [unexplained[0]!.from, unexplained[0]!.to].filter((n) => unexplained.every((p) => p.from === n || p.to === n));
  const suspects = inEvery.flatMap((node) => {
    const host = hostOf(ev, node);
    const readAll = host?.routes && host.fdb && host.neighbours && iptablesFullyRead(host);
    const peers = otherVteps(ev, node);
    if (!readAll || !nodeNamed(ev, node)?.podCIDR || overlayEntryProblems(ev, node).length > 0 || peers.some((p) => vxlanBlock(ev, node, p))) return [];
    const ping = peers.map((p) => vtepPing(ev, node, p)).find((e) => e !== undefined);
    return ping ? [{ node, ping }] : [];
  });
  if (suspects.length === 0) return undefined;
  const nodes = suspects.map((s) => s.node);
  const port = ev.snapshot.flannel.vxlanPort;
  return {
    id: "udp-vxlan-blocked",
    severity: "warning",
    nodes,
    evidence: [
      ...capLines(unexplained.map(describeFailingPair), 4, "failing pairs"),
      ...suspects.map((s) => describeUnderlayPing(s.ping)),
      ...nodes.map((n) => `${n}: routes, neighbour and FDB entries for every peer match the Node annotations; no iptables rule drops udp ${port}`),
    ],
    explanation:
      `Suspected: every failing pod pair involves ${joinNames(nodes)}, the nodes ping each other's VTEP addresses, flannel's routes, neighbour ` +
      `and FDB entries are correct and the node's iptables accept udp ${port}, yet encapsulated traffic does not get through. That pattern ` +
      `fits VXLAN (udp ${port}) being dropped outside what iptables-save shows: a cloud security group, a firewall between the nodes, ` +
      "nftables rules in their own tables, or a virtual switch filtering VXLAN. Check those for udp " +
      `${port} between the node addresses; xnode cannot change them.`,
    remediations: [],
    trace: representativeTrace(ev, nodes),
  };
}

export function udpVxlanBlocked(ev: CheckEvidence, earlier: readonly Finding[]): Finding | undefined {
  return blockedByRule(ev) ?? suspectedOutsideFirewall(ev, earlier);
}

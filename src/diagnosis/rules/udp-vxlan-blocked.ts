// VXLAN's UDP port is dropped on the way into a node while the nodes ping
// each other fine. Proven when the node's own firewall drops it (iptables
// or a native nftables table, vxlan-firewall.ts); only
// suspected (a firewall outside the node) when every failing pair touches
// one node whose entries are all correct and no other finding explains it.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { hostOf, nodeNamed, vtepAddress } from "../cluster-view.js";
import { capLines, describeFailingPair, describeUnderlayPing, joinNames } from "../evidence-lines.js";
import { iptablesFullyRead } from "../iptables-views.js";
import { failingPairs, pairsInvolving, vtepPing } from "../matrix-view.js";
import { droppedBetweenNodes } from "../observed-trace.js";
import { overlayEntryProblems } from "../overlay-entries.js";
import { representativeTrace } from "../path-trace.js";
import { planOpenVxlanPort, type VxlanPortOpening } from "../remediation/plan-host-fixes.js";
import { vxlanFirewalls, type VxlanFirewall } from "../vxlan-firewall.js";

type Drop = Extract<VxlanFirewall, { verdict: "drop" }>;

function otherVteps(ev: CheckEvidence, node: string): string[] {
  return ev.snapshot.nodes.map((n) => n.name).filter((n) => n !== node && vtepAddress(ev, n) !== undefined);
}

/** The fix where the drop is: iptables' chain, or the nftables table and chain of the dropping rule. */
function openingFor(node: string, peerAddress: string, drop: Drop): VxlanPortOpening {
  if (drop.backend === "nftables") return { node, nft: drop.spot, peerAddress };
  return { node, table: drop.block.verdict.table, chain: drop.block.verdict.chain, peerAddress, tool: drop.block.view.tool };
}

function firewallNames(drops: readonly Drop[]): string {
  const backends = new Set(drops.map((d) => d.backend));
  if (backends.size === 2) return "The iptables and nftables rules";
  return backends.has("nftables")
    ? `The nftables rules (${[...new Set(drops.flatMap((d) => (d.backend === "nftables" ? [`table ${d.spot.family} ${d.spot.table}`] : [])))].join(", ")})`
    : "The iptables";
}

function blockedByRule(ev: CheckEvidence): Finding | undefined {
  const port = ev.snapshot.flannel.vxlanPort;
  const failing = failingPairs(ev);
  const found = ev.snapshot.nodes.flatMap((n) => {
    // only a node in failing pairs can be the one dropping: ask its firewalls about every peer then (in a large cluster, few nodes)
    const pairs = pairsInvolving(failing, [n.name]);
    if (pairs.length === 0) return [];
    const peers = otherVteps(ev, n.name);
    const blocks = vxlanFirewalls(ev, n.name, peers).flatMap((block, i) => (block?.verdict === "drop" ? [{ peer: peers[i]!, block }] : []));
    const ping = blocks.map((b) => vtepPing(ev, n.name, b.peer)).find((e) => e !== undefined);
    return blocks.length > 0 && pairs.length > 0 && ping ? [{ node: n.name, blocks, pairs, ping }] : [];
  });
  if (found.length === 0) return undefined;
  const nodes = found.map((f) => f.node);
  const plan = planOpenVxlanPort(
    port,
    found.flatMap((f) => f.blocks.map(({ peer, block }) => openingFor(f.node, vtepAddress(ev, peer)!, block))),
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
      `${firewallNames(found.flatMap((f) => f.blocks.map((b) => b.block)))} of ${joinNames(nodes)} drop VXLAN (udp ${port}) from the other nodes. The nodes reach each other (the underlay ping ` +
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
    const firewalls = vxlanFirewalls(ev, node, peers).flatMap((f) => f ?? []);
    if (!readAll || !nodeNamed(ev, node)?.podCIDR || overlayEntryProblems(ev, node).length > 0 || firewalls.some((f) => f.verdict === "drop")) return [];
    const ping = peers.map((p) => vtepPing(ev, node, p)).find((e) => e !== undefined);
    // nftables: read and accepting, not evaluable (the lines say why), or not read
    const doubts = [...new Set(firewalls.flatMap((f) => (f.verdict === "unknown" ? [f.line] : [])))];
    const nftAccepts = host.nftables !== undefined && doubts.length === 0;
    return ping ? [{ node, ping, doubts, nftAccepts }] : [];
  });
  if (suspects.length === 0) return undefined;
  const nodes = suspects.map((s) => s.node);
  const port = ev.snapshot.flannel.vxlanPort;
  const nftAccepts = suspects.every((s) => s.nftAccepts);
  const nftDoubts = suspects.flatMap((s) => s.doubts);
  const outside = nftAccepts
    ? "outside what the nodes' iptables and nftables show: a cloud security group, a firewall between the nodes, "
    : nftDoubts.length > 0
      ? "by the nftables rules xnode could not evaluate (above), or outside the node: a cloud security group, a firewall between the nodes, "
      : "outside what iptables-save shows: a cloud security group, a firewall between the nodes, nftables rules in their own tables, ";
  return {
    id: "udp-vxlan-blocked",
    severity: "warning",
    nodes,
    evidence: [
      ...capLines(unexplained.map(describeFailingPair), 4, "failing pairs"),
      ...suspects.map((s) => describeUnderlayPing(s.ping)),
      ...suspects.map(
        (s) =>
          `${s.node}: routes, neighbour and FDB entries for every peer match the Node annotations; no iptables ${s.nftAccepts ? "or nftables " : ""}rule drops udp ${port}`,
      ),
      ...nftDoubts,
    ],
    explanation:
      `Suspected: every failing pod pair involves ${joinNames(nodes)}, the nodes ping each other's VTEP addresses, flannel's routes, neighbour ` +
      `and FDB entries are correct and the node's iptables${nftAccepts ? " and nftables" : ""} accept udp ${port}, yet encapsulated traffic does not get through. ` +
      `That pattern fits VXLAN (udp ${port}) being dropped ${outside}or a virtual switch filtering VXLAN. Check those for udp ` +
      `${port} between the node addresses; xnode cannot change them.`,
    remediations: [],
    trace: representativeTrace(ev, nodes),
  };
}

export function udpVxlanBlocked(ev: CheckEvidence, earlier: readonly Finding[]): Finding | undefined {
  // a node's own firewall first (it has a fix), then what captures proved about the network between the nodes
  return blockedByRule(ev) ?? droppedBetweenNodes(ev) ?? suspectedOutsideFirewall(ev, earlier);
}

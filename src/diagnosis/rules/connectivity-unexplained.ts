// The invariant's rule: probes failed (or could not run) and no rule above
// explains them. Never "healthy" then: the failing pairs, how far the packets
// got where a trace shows it, and what was checked and ruled out, so an
// operator knows where to look next.
import type { CheckEvidence, Finding, MatrixEntry } from "../../model/index.js";
import { hostOf, nodeNamed, vtepAddress } from "../cluster-view.js";
import { capLines, joinNames, reachResult } from "../evidence-lines.js";
import { iptablesFullyRead, unreadableLines } from "../iptables-views.js";
import { podForwardBlock } from "../node-filters.js";
import { overlayEntryProblems } from "../overlay-entries.js";
import { lastSeenLine, observedTrace, traceTouching } from "../observed-trace.js";
import { representativeTrace } from "../path-trace.js";
import { vxlanFirewalls } from "../vxlan-firewall.js";

/** Nodes that findings explain failures on. `nodeport-unreachable` explains NodePort probes only: it names nodes without saying why pods fail there. */
function explainedNodes(earlier: readonly Finding[], kind: MatrixEntry["kind"] | "agent"): Set<string> {
  const explains = (f: Finding) => f.id !== "cluster-healthy" && (f.id !== "nodeport-unreachable" || kind === "nodeport");
  return new Set(earlier.filter(explains).flatMap((f) => f.nodes));
}

function describeEntry(e: MatrixEntry): string {
  const via = e.via ? ` via ${e.via}` : "";
  return `${e.from} → ${e.to}: ${e.kind} ${e.target}${via} ${reachResult(e)}`;
}

/** What the rules checked on `node` and found in order, in operator words; and what could not be read. */
function ruledOut(ev: CheckEvidence, node: string): string[] {
  const host = hostOf(ev, node);
  if (!host) return [`${node}: not inspected`];
  const port = ev.snapshot.flannel.vxlanPort;
  const peers = ev.snapshot.nodes.filter((n) => n.name !== node && vtepAddress(ev, n.name));
  const lines: string[] = [];
  const unread = host.errors.map((e) => e.probe);
  if (host.routes && host.fdb && host.neighbours) {
    if (overlayEntryProblems(ev, node).length === 0) lines.push(`${node}: routes, neighbour and FDB entries for every peer match the Node annotations`);
  }
  // VXLAN in from the peers, through iptables (both backends) and native nftables: what each said, including "could not tell"
  const firewall = vxlanFirewalls(
    ev,
    node,
    peers.map((p) => p.name),
  ).filter((v) => v !== undefined);
  if (firewall.length > 0 && firewall.every((v) => v.verdict === "accept"))
    lines.push(`${node}: iptables and nftables accept udp ${port} from the other nodes`);
  else lines.push(...new Set(firewall.filter((v) => v.verdict === "unknown" || v.verdict === "unread").map((v) => v.line)));
  // every iptables ruleset read (both backends, no table unreadable): only then is "no drop" an accept
  if (iptablesFullyRead(host) && !podForwardBlock(ev, node)) lines.push(`${node}: iptables FORWARD lets pod traffic through`);
  lines.push(...unreadableLines(node, host));
  if (host.sysctls?.ipForward === 1) lines.push(`${node}: net.ipv4.ip_forward=1`);
  if (nodeNamed(ev, node)?.podCIDR) lines.push(`${node}: podCIDR ${nodeNamed(ev, node)!.podCIDR}`);
  if (unread.length > 0) lines.push(`${node}: could not read ${unread.join(", ")}`);
  return lines;
}

export function connectivityUnexplained(ev: CheckEvidence, earlier: readonly Finding[]): Finding | undefined {
  const explained = explainedNodes(earlier, "agent");
  // the sets once, not per entry: the matrix is O(N²)
  const [byNodePort, byOther] = [explainedNodes(earlier, "nodeport"), explainedNodes(earlier, "pod-icmp")];
  const failed = ev.matrix.filter((e) => {
    const by = e.kind === "nodeport" ? byNodePort : byOther;
    return !e.ok && !by.has(e.from) && !by.has(e.to);
  });
  // a node whose pod agent never got an address is often the node whose CNI is broken: its pairs were never probed
  const noPodAgent = ev.snapshot.nodes
    .filter((n) => !n.podAgent?.podIP && !ev.unreachableNodes.some((u) => u.node === n.name))
    .map((n) => ({ node: n.name, error: "no ready pod agent with an address: its pod pairs were not probed" }));
  const silent = [...ev.unreachableNodes, ...noPodAgent].filter((u) => !explained.has(u.node));
  const podChecks = ev.matrix.filter((e) => e.kind === "pod-icmp");
  const nothingProbed = podChecks.length === 0 && explained.size === 0 && ev.snapshot.nodes.length > 1;
  if (failed.length === 0 && silent.length === 0 && !nothingProbed) return undefined;

  const nodes = [...new Set([...failed.flatMap((e) => [e.from, e.to]), ...silent.map((u) => u.node)])];
  const involved = nodes.length > 0 ? nodes : ev.snapshot.nodes.map((n) => n.name);
  const captured = traceTouching(ev, nodes);
  const trace = captured ? observedTrace(ev, captured) : failed.length > 0 ? representativeTrace(ev, nodes) : undefined;
  const lastSeen = captured ? lastSeenLine(captured) : "no packet capture ran for these pairs: where the packets die is not known";
  return {
    id: "connectivity-unexplained",
    severity: "critical",
    nodes: involved,
    evidence: [
      ...capLines(failed.map(describeEntry), 6, "failed probes"),
      ...silent.map((u) => `${u.node}: agents did not answer (${u.error})`),
      ...(nothingProbed ? ["no pod-to-pod probe ran: no pod agent answered on any node"] : []),
      lastSeen,
      ...capLines(
        involved.flatMap((n) => ruledOut(ev, n)),
        8,
        "checks that found nothing wrong",
      ),
    ],
    explanation:
      `${failed.length > 0 ? `${failed.length} probe${failed.length === 1 ? "" : "s"} failed` : "Probes could not run"} involving ${joinNames(involved)}, ` +
      "and none of xnode's rules explains why: flannel's configuration, routes, neighbour and FDB entries, iptables and sysctls read correct where " +
      "they could be read. Something xnode cannot see drops the traffic: a firewall outside iptables (native nftables, a cloud security group, " +
      "a hypervisor or switch filter), a broken NIC or driver offload, or a policy engine. The evidence lists where the probe packets were last " +
      "seen and what was ruled out; `xnode trace <cluster> <from> <to>` captures another pair.",
    remediations: [],
    ...(trace ? { trace } : {}),
  };
}

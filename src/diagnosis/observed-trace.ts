// Reading packet-observed traces (CheckEvidence.traces): the trace a finding
// shows, and the one verdict a capture proves on its own: VXLAN packets that
// left the sender's underlay interface and never reached the receiver's were
// dropped by the network between the nodes.
import { nextPoint, type CheckEvidence, type Finding, type PacketTrace } from "../model/index.js";
import { capLines, joinNames } from "./evidence-lines.js";
import { tracePair } from "./path-trace.js";

const underlayOf = (t: PacketTrace, node: string) => t.observed.find((p) => p.role === "underlay" && p.point.startsWith(`${node}/`));

/** A finding's trace for a pair: the hops the evidence predicts, and what the captures saw. */
export function observedTrace(ev: CheckEvidence, t: PacketTrace): NonNullable<Finding["trace"]> {
  return { from: t.from, to: t.to, hops: tracePair(ev, t.from, t.to), observed: t.observed, lostAfter: t.lostAfter };
}

/** The first trace among failing pairs touching `nodes` that captured anything. */
export function traceTouching(ev: CheckEvidence, nodes: readonly string[]): PacketTrace | undefined {
  return (ev.traces ?? []).find((t) => !t.unavailable && (nodes.includes(t.from) || nodes.includes(t.to)));
}

/** "last seen at k8s-a/eth1 (3 probe packets); nothing at k8s-b/eth1" */
export function lastSeenLine(t: PacketTrace): string {
  if (t.unavailable) return `no packet capture for ${t.from} → ${t.to}: ${t.unavailable}`;
  const last = t.observed.find((p) => p.point === t.lostAfter);
  const next = nextPoint(t);
  const seen = last
    ? `probe packets from ${t.from} to ${t.to} were last seen at ${last.point} (${last.detail})`
    : `probe packets from ${t.from} to ${t.to} were not seen at any capture point`;
  return next ? `${seen}; next point ${next.point}: ${next.detail}` : seen;
}

interface BetweenNodes {
  trace: PacketTrace;
  out: string;
  into: string;
}

/** Seen leaving the sender's underlay interface, captured and not seen at the receiver's, on a VXLAN path. */
function lostBetween(t: PacketTrace): BetweenNodes | undefined {
  if (t.unavailable || !t.observed.some((p) => p.role === "tunnel")) return undefined;
  const out = underlayOf(t, t.from);
  const into = underlayOf(t, t.to);
  if (!out?.seen || !into || into.seen || !into.captured) return undefined;
  return { trace: t, out: out.point, into: into.point };
}

/** udp-vxlan-blocked proven by captures: sent out of the sender's NIC, never arrived at the receiver's. No node-side fix exists. */
export function droppedBetweenNodes(ev: CheckEvidence): Finding | undefined {
  const lost = (ev.traces ?? []).flatMap((t) => lostBetween(t) ?? []);
  if (lost.length === 0) return undefined;
  const port = ev.snapshot.flannel.vxlanPort;
  const nodes = [...new Set(lost.flatMap((l) => [l.trace.from, l.trace.to]))];
  return {
    id: "udp-vxlan-blocked",
    severity: "critical",
    nodes,
    evidence: capLines(
      lost.map((l) => `observed: VXLAN (udp ${port}) probe packets ${l.trace.from} → ${l.trace.to} left ${l.out} and never arrived at ${l.into}`),
      6,
      "observed pairs",
    ),
    explanation:
      `Packet captures on both ends show VXLAN (udp ${port}) leaving ${joinNames([...new Set(lost.map((l) => l.out))])} and never arriving on the other node, ` +
      "while nothing on the nodes drops it: the network between the nodes does (a cloud security group or network ACL, a hypervisor firewall such " +
      `as NSX, a switch ACL). Allow udp ${port} between the node addresses there; no change on the nodes can fix this.`,
    remediations: [],
    trace: observedTrace(ev, lost[0]!.trace),
  };
}

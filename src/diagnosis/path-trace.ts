// Walks one pod-to-pod path across flannel hop by hop, from the source pod
// through the route, neighbour, FDB and underlay to the peer's bridge, and
// stops at the first hop the evidence shows broken.
import type { CheckEvidence, Finding, TraceHop } from "../model/index.js";
import { flannelDevice, hostOf, nodeNamed } from "./cluster-view.js";
import { entriesBetween, failingPairs, pairsInvolving } from "./matrix-view.js";
import {
  bridgeHop,
  destinationPodHop,
  fdbHop,
  forwardingHop,
  neighbourHop,
  routeHop,
  sourcePodHop,
  underlayHop,
  vtepAddressHop,
  vxlanPortHop,
} from "./trace-hops.js";
import { expandedHost } from "./overlay-templates.js";

/** The address the source's pod agent was pointed at (the matrix), else the peer's pod agent IP. */
function destinationPodIp(ev: CheckEvidence, from: string, to: string): string | undefined {
  return entriesBetween(ev, from, to).find((e) => e.kind === "pod-icmp")?.target ?? nodeNamed(ev, to)?.podAgent?.podIP;
}

export function tracePair(ev: CheckEvidence, fromNode: string, toNode: string): TraceHop[] {
  const from = nodeNamed(ev, fromNode);
  const to = nodeNamed(ev, toNode);
  if (!from || !to) return [{ hop: "nodes", ok: false, detail: `${!from ? fromNode : toNode} is not a node of this cluster` }];
  // the trace reads entries for this one pair: the source's lists whole, templates filled in
  const fromHost = expandedHost(ev, hostOf(ev, fromNode));
  const hops: TraceHop[] = [];
  // records a hop and says whether to go on
  const pass = (hop: TraceHop) => {
    hops.push(hop);
    return hop.ok;
  };

  if (!pass(sourcePodHop(from, from.podAgent?.podIP))) return hops;
  if (!pass(bridgeHop("source cni0", from, fromHost))) return hops;
  if (!pass(forwardingHop("source forwarding", ev, fromNode))) return hops;
  const routing = routeHop(fromNode, fromHost, to, destinationPodIp(ev, fromNode, toNode));
  if (!pass(routing.hop)) return hops;

  const device = flannelDevice(ev, fromHost);
  const overVxlan = device !== undefined && routing.route?.dev === device.name;
  let underlayDst = overVxlan ? undefined : routing.route?.gateway;
  if (overVxlan && fromHost && routing.route?.gateway) {
    const neighbour = neighbourHop(fromNode, fromHost, device, routing.route.gateway, to);
    if (!pass(neighbour.hop) || !neighbour.mac) return hops;
    const fdb = fdbHop(fromNode, fromHost, device, neighbour.mac, to);
    if (!pass(fdb.hop) || !fdb.dst) return hops;
    if (!pass(vtepAddressHop(ev, fromNode, toNode, fdb.dst))) return hops;
    underlayDst = fdb.dst;
  }
  if (underlayDst && !pass(underlayHop(ev, fromNode, underlayDst))) return hops;
  if (overVxlan && !pass(vxlanPortHop(ev, fromNode, toNode))) return hops;
  if (!pass(forwardingHop("destination forwarding", ev, toNode))) return hops;
  if (!pass(bridgeHop("destination cni0", to, hostOf(ev, toNode)))) return hops;
  pass(
    destinationPodHop(
      ev,
      fromNode,
      toNode,
      hops.every((h) => !h.unverified),
    ),
  );
  return hops;
}

/**
 * A trace of one failing pair involving `nodes`: the first (in node order)
 * whose break shows on the way there, else the first failing pair at all.
 */
export function representativeTrace(ev: CheckEvidence, nodes: readonly string[]): Finding["trace"] {
  const pairs = pairsInvolving(failingPairs(ev), nodes).filter((p) => p.entries.some((e) => e.kind !== "node-pod-icmp"));
  // traced one by one up to the first that shows its break: a node in a large cluster is in thousands of pairs
  let first: Finding["trace"];
  for (const p of pairs) {
    const traced = { from: p.from, to: p.to, hops: tracePair(ev, p.from, p.to) };
    if (traced.hops.some((h) => !h.ok && h.hop !== "destination pod")) return traced;
    first ??= traced;
  }
  return first;
}

// What flannel should have programmed on a node for each peer lease (route,
// then for VXLAN the neighbour and FDB entries the route relies on), compared
// with what the node shows. route-missing, fdb-stale and the trace share it.
import type { CheckEvidence, HostEvidence, NodeSnapshot, RouteEntry } from "../model/index.js";
import {
  addressHolders,
  backendOf,
  everyNodeHasInterfaces,
  flannelDevice,
  flannelPeers,
  hostOf,
  memoized,
  nodeNamed,
  POD_BRIDGE,
  sameMac,
} from "./cluster-view.js";
import { describeFdb, describeNeighbour, describeRoute } from "./evidence-lines.js";
import { cidrContains, cidrCovers, parseCidr } from "./ipv4.js";
import { overlayProvenWorking } from "./matrix-view.js";
import { elidedPeer, entriesOf, isFlannelsPattern } from "./overlay-templates.js";

export interface EntryProblem {
  node: string;
  /** the peer whose lease the entry is for; absent for an FDB entry of no current peer */
  peer?: string;
  kind: "route" | "neighbour" | "fdb";
  line: string;
  /** an FDB entry's destination, when that is what is wrong */
  dst?: string;
}

const ZERO_MAC = "00:00:00:00:00:00";

function prefixOf(r: RouteEntry): number {
  return parseCidr(r.dst)?.prefixLength ?? -1;
}

/** Longest-prefix match for one address, as the kernel would pick (default included). */
export function routeLookup(routes: readonly RouteEntry[], ip: string): RouteEntry | undefined {
  return routes
    .filter((r) => cidrContains(r.dst, ip))
    .reduce<RouteEntry | undefined>((best, r) => (best === undefined || prefixOf(r) > prefixOf(best) ? r : best), undefined);
}

/** routeLookup by prefix length: the routes grouped by (prefix, network), the first of equals kept as reduce keeps it; the lengths present longest first. */
function routeIndex(routes: readonly RouteEntry[]): { lengths: number[]; byPrefix: Map<number, Map<number, RouteEntry>> } {
  const byPrefix = new Map<number, Map<number, RouteEntry>>();
  for (const r of routes) {
    const net = parseCidr(r.dst);
    if (!net) continue;
    let nets = byPrefix.get(net.prefixLength);
    if (!nets) byPrefix.set(net.prefixLength, (nets = new Map()));
    if (!nets.has(net.network)) nets.set(net.network, r);
  }
  return { lengths: [...byPrefix.keys()].sort((a, b) => b - a), byPrefix };
}

/** routeLookup for the rules: the same answer from an index built once per route table and diagnosis. */
function indexedRouteLookup(ev: CheckEvidence, routes: readonly RouteEntry[], address: number): RouteEntry | undefined {
  const { lengths, byPrefix } = memoized(ev, "routes", routes, routeIndex);
  for (const len of lengths) {
    const found = byPrefix.get(len)!.get(len === 0 ? 0 : (address & ((0xffffffff << (32 - len)) >>> 0)) >>> 0);
    if (found) return found;
  }
  return undefined;
}

/** A peer's pod CIDR as numbers, once per diagnosis. */
function podNetwork(ev: CheckEvidence, peer: NodeSnapshot): { network: number; prefixLength: number } | undefined {
  return memoized(ev, "pod-network", peer, (p) => (p.podCIDR ? parseCidr(p.podCIDR) : undefined));
}

/** The first neighbour entry per destination and device, as find() would return it. */
function neighbourIndex(neighbours: NonNullable<HostEvidence["neighbours"]>): Map<string, NonNullable<HostEvidence["neighbours"]>[number]> {
  const map = new Map<string, NonNullable<HostEvidence["neighbours"]>[number]>();
  for (const n of neighbours) if (!map.has(`${n.dst} ${n.dev}`)) map.set(`${n.dst} ${n.dev}`, n);
  return map;
}

/** FDB entries by device and lower-case MAC, in their order. */
function fdbIndex(fdb: NonNullable<HostEvidence["fdb"]>): Map<string, NonNullable<HostEvidence["fdb"]>> {
  const map = new Map<string, NonNullable<HostEvidence["fdb"]>>();
  for (const e of fdb) {
    const key = `${e.dev} ${e.mac.toLowerCase()}`;
    map.set(key, [...(map.get(key) ?? []), e]);
  }
  return map;
}

/** Why `route` (the kernel's pick for a pod CIDR) does not carry it to its node, or undefined when it does. */
export function routeProblem(route: RouteEntry | undefined, cidr: string): string | undefined {
  if (route === undefined) return `no route for ${cidr}`;
  if (route.dst === "default" || !cidrCovers(route.dst, cidr)) {
    return `no route for ${cidr} (it would follow ${describeRoute(route)})`;
  }
  if (route.type !== undefined && route.type !== "unicast") return `${cidr} hits a ${route.type} route (${describeRoute(route)})`;
  if (route.dev === POD_BRIDGE) return `${cidr} would go into the local pod bridge (${describeRoute(route)})`;
  return undefined;
}

function peerProblems(ev: CheckEvidence, node: NodeSnapshot, peer: NodeSnapshot): EntryProblem[] {
  const host = hostOf(ev, node.name);
  const routes = host?.routes;
  const cidr = peer.podCIDR;
  if (!routes || !cidr) return [];
  const elided = elidedPeer(ev, host, peer.name);
  const net = podNetwork(ev, peer);
  const kept = net && indexedRouteLookup(ev, routes, net.network);
  const device = flannelDevice(ev, host);
  // The elided route is the peer's pod CIDR itself: only a more specific route in the lists beats it.
  const keptWins = kept !== undefined && elided !== undefined && prefixOf(kept) > (net?.prefixLength ?? -1);
  if (elided && !keptWins && device && isFlannelsPattern(elided.template, device.name)) {
    // flannel's own three entries: only the public-ip they send to can be wrong, the same from every node
    const line = memoized(ev, "own-public-ip", peer, (p) => fdbDstProblem(ev, p, p.flannel.publicIP!));
    return line
      ? [{ node: node.name, peer: peer.name, kind: "fdb", line: `${describeFdb(node.name, entriesOf(elided).fdb)}, ${line}`, dst: peer.flannel.publicIP }]
      : [];
  }
  const entries = elided && entriesOf(elided);
  const route = entries && !keptWins ? entries.route : kept;
  const problem = routeProblem(route, cidr);
  const at = { node: node.name, peer: peer.name };
  if (problem) return [{ ...at, kind: "route", line: `${node.name}: ${problem}, ${peer.name}'s podCIDR` }];
  // Neighbour and FDB only matter for a route through flannel's VXLAN device (not host-gw, DirectRouting or a static fix).
  if (!route || !device || route.dev !== device.name || !peer.flannel.vtepMac) return [];
  const mac = peer.flannel.vtepMac;
  const problems: EntryProblem[] = [];
  const gateway = route.gateway;
  const neighbourKey = `${gateway} ${device.name}`;
  const neighbour =
    gateway &&
    host.neighbours &&
    (memoized(ev, "neighbours", host.neighbours, neighbourIndex).get(neighbourKey) ??
      (entries && `${entries.neighbour.dst} ${entries.neighbour.dev}` === neighbourKey ? entries.neighbour : undefined));
  if (gateway && host.neighbours && !neighbour) {
    problems.push({
      ...at,
      kind: "neighbour",
      line: `${node.name}: no neighbour entry for ${gateway} on ${device.name} (expected lladdr ${mac}, ${peer.name}'s VtepMAC)`,
    });
  } else if (neighbour && !sameMac(neighbour.lladdr, mac)) {
    problems.push({ ...at, kind: "neighbour", line: `${describeNeighbour(node.name, neighbour)}, but ${peer.name}'s VtepMAC is ${mac}` });
  }
  const fdbKey = `${device.name} ${mac.toLowerCase()}`;
  const fdb = host.fdb && [
    ...(memoized(ev, "fdb", host.fdb, fdbIndex).get(fdbKey) ?? []),
    ...(entries && `${entries.fdb.dev} ${entries.fdb.mac.toLowerCase()}` === fdbKey ? [entries.fdb] : []),
  ];
  if (fdb && fdb.length === 0) {
    problems.push({ ...at, kind: "fdb", line: `${node.name}: no FDB entry for ${peer.name}'s VtepMAC ${mac} on ${device.name}` });
  }
  for (const entry of fdb ?? []) {
    const line = fdbDstProblem(ev, peer, entry.dst);
    if (line) problems.push({ ...at, kind: "fdb", line: `${describeFdb(node.name, entry)}, ${line}`, dst: entry.dst });
  }
  return problems;
}

/**
 * What is wrong with sending `peer`'s VXLAN traffic to `dst`. The peer's own
 * public-ip is right unless no node holds it: a public-ip-overwrite naming an
 * address outside the cluster (a NAT) is accepted while the overlay to the
 * peer is seen working.
 */
function fdbDstProblem(ev: CheckEvidence, peer: NodeSnapshot, dst: string): string | undefined {
  const annotated = peer.flannel.publicIP;
  if (dst !== annotated) return `but ${peer.name}'s public-ip is ${annotated}${isNowhere(ev, dst) ? `; no node holds ${dst}` : ""}`;
  if (!isNowhere(ev, dst) || (peer.flannel.publicIPOverwrite === dst && overlayProvenWorking(ev, peer.name))) return undefined;
  return `${peer.name}'s public-ip${peer.flannel.publicIPOverwrite === dst ? " (from public-ip-overwrite)" : ""}, which no node holds`;
}

/** An address no node holds, when every node's interfaces were read (else we cannot know). */
function isNowhere(ev: CheckEvidence, ip: string): boolean {
  return everyNodeHasInterfaces(ev) && addressHolders(ev, ip).length === 0;
}

/** FDB entries of the VXLAN device for MACs of no current peer that point at an address no node holds. */
function strayFdbProblems(ev: CheckEvidence, node: NodeSnapshot, peers: readonly NodeSnapshot[]): EntryProblem[] {
  const host = hostOf(ev, node.name);
  const device = flannelDevice(ev, host);
  if (!device) return [];
  const peerMacs = new Set(peers.flatMap((p) => (p.flannel.vtepMac === undefined ? [] : [p.flannel.vtepMac.toLowerCase()])));
  return (host?.fdb ?? [])
    .filter((e) => e.dev === device.name && !sameMac(e.mac, ZERO_MAC) && !peerMacs.has(e.mac.toLowerCase()))
    .filter((e) => isNowhere(ev, e.dst))
    .map((e) => ({ node: node.name, kind: "fdb" as const, line: `${describeFdb(node.name, e)}: no node holds ${e.dst} and no node has that VtepMAC` }));
}

/**
 * Everything wrong with flannel's entries on `node`. Only for nodes where
 * flannel runs a data plane (a podCIDR and its VXLAN device, or host-gw).
 */
export function overlayEntryProblems(ev: CheckEvidence, name: string): EntryProblem[] {
  const node = nodeNamed(ev, name);
  if (!node?.podCIDR) return [];
  // route-missing, fdb-stale and the trace each ask: computed once per node and diagnosis
  return memoized(ev, "overlay-entries", node, (n) => nodeEntryProblems(ev, n));
}

function nodeEntryProblems(ev: CheckEvidence, node: NodeSnapshot): EntryProblem[] {
  const name = node.name;
  const backend = backendOf(ev, node);
  const programmed = backend === "host-gw" || (backend === "vxlan" && flannelDevice(ev, hostOf(ev, name)) !== undefined);
  if (!programmed) return [];
  const peers = flannelPeers(ev, node);
  return [...peers.flatMap((p) => peerProblems(ev, node, p)), ...strayFdbProblems(ev, node, peers)];
}

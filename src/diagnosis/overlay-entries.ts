// What flannel should have programmed on a node for each peer lease (route,
// then for VXLAN the neighbour and FDB entries the route relies on), compared
// with what the node shows. route-missing, fdb-stale and the trace share it.
import type { CheckEvidence, HostEvidence, NodeSnapshot, RouteEntry } from "../model/index.js";
import {
  addressHolders,
  backendOf,
  everyNodeHasInterfaces,
  flannelDevice,
  isFlannelLease,
  hostOf,
  memoized,
  nodeNamed,
  POD_BRIDGE,
  sameMac,
} from "./cluster-view.js";
import { describeFdb, describeNeighbour, describeRoute } from "./evidence-lines.js";
import { CidrIndex, cidrContains, cidrCovers, parseCidr } from "./ipv4.js";
import { overlayProvenWorking } from "./matrix-view.js";
import {
  elidedAt,
  elidedFdbFor,
  elidedNeighbour,
  elidedRouteFor,
  entriesOf,
  isFlannelsPattern,
  overlayTemplatesOf,
  peersUnderListedRoutes,
} from "./overlay-templates.js";

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

/** routeLookup by prefix length: the first of equal routes kept, as reduce keeps it. */
function routeIndex(routes: readonly RouteEntry[]): CidrIndex<RouteEntry> {
  const index = new CidrIndex<RouteEntry>();
  for (const r of routes) {
    const net = parseCidr(r.dst);
    if (net) index.add(net, r);
  }
  return index;
}

/** routeLookup for the rules: the same answer from an index built once per route table and diagnosis. */
function indexedRouteLookup(ev: CheckEvidence, routes: readonly RouteEntry[], address: number): RouteEntry | undefined {
  return memoized(ev, "routes", routes, routeIndex).longest(address);
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
  const net = podNetwork(ev, peer);
  const kept = net && indexedRouteLookup(ev, routes, net.network);
  // the kernel's pick: the longest prefix of the routes as listed and the one compaction took out that covers the address
  const elided = net && elidedRouteFor(ev, host, net.network);
  const route = elided && !(kept && prefixOf(kept) > prefixOf(elided)) ? elided : kept;
  const device = flannelDevice(ev, host);
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
    (memoized(ev, "neighbours", host.neighbours, neighbourIndex).get(neighbourKey) ?? elidedNeighbour(ev, host, gateway, device.name));
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
  const elidedFdb = host.fdb && elidedFdbFor(ev, host, device.name, mac);
  const fdb = host.fdb && [...(memoized(ev, "fdb", host.fdb, fdbIndex).get(fdbKey) ?? []), ...(elidedFdb ? [elidedFdb] : [])];
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
function strayFdbProblems(ev: CheckEvidence, node: NodeSnapshot, table: PeerTable): EntryProblem[] {
  const host = hostOf(ev, node.name);
  const device = flannelDevice(ev, host);
  if (!device) return [];
  const own = isFlannelLease(ev, node) ? node.flannel.vtepMac?.toLowerCase() : undefined;
  const isPeerMac = (mac: string) => (table.macs.get(mac) ?? 0) - (mac === own ? 1 : 0) > 0;
  return (host?.fdb ?? [])
    .filter((e) => e.dev === device.name && !sameMac(e.mac, ZERO_MAC) && !isPeerMac(e.mac.toLowerCase()))
    .filter((e) => isNowhere(ev, e.dst))
    .map((e) => ({ node: node.name, kind: "fdb" as const, line: `${describeFdb(node.name, e)}: no node holds ${e.dst} and no node has that VtepMAC` }));
}

/** The cluster's leases (isFlannelLease; a node's peers are these but itself), indexed once per diagnosis. */
interface PeerTable {
  candidate: boolean[];
  /** candidates per lower-case VtepMAC */
  macs: Map<string, number>;
}

function peerTable(ev: CheckEvidence): PeerTable {
  return memoized(ev, "peer-table", ev.snapshot, (snapshot) => {
    const candidate = snapshot.nodes.map((n) => isFlannelLease(ev, n));
    const macs = new Map<string, number>();
    snapshot.nodes.forEach((n, i) => {
      const mac = candidate[i] ? n.flannel.vtepMac?.toLowerCase() : undefined;
      if (mac) macs.set(mac, (macs.get(mac) ?? 0) + 1);
    });
    return { candidate, macs };
  });
}

/** Per lease, what is wrong with sending its VXLAN traffic to its own public-ip (the same from every node), once per diagnosis. */
function ownPublicIpProblems(ev: CheckEvidence, table: PeerTable): (string | undefined)[] {
  return memoized(ev, "own-public-ip", ev.snapshot, (snapshot) =>
    snapshot.nodes.map((p, i) => (table.candidate[i] ? fdbDstProblem(ev, p, p.flannel.publicIP!) : undefined)),
  );
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
  const table = peerTable(ev);
  const host = hostOf(ev, name);
  const device = flannelDevice(ev, host);
  // Peers whose three entries are flannel's own pattern (a template), where only their public-ip can be wrong:
  // judged from the template once per range, so a large cluster costs a pass over the peers, not a lookup per pair.
  const patterned = new Uint8Array(ev.snapshot.nodes.length);
  if (host?.overlay && device) {
    const beaten = peersUnderListedRoutes(ev, host.routes ?? []);
    for (const template of overlayTemplatesOf(ev, host)) {
      if (!isFlannelsPattern(template, device.name)) continue;
      for (const [start, end] of template.peers) for (let i = start; i <= end; i++) if (!beaten.has(i)) patterned[i] = 1;
    }
  }
  const own = patterned.some((x) => x === 1) ? ownPublicIpProblems(ev, table) : [];
  const problems: EntryProblem[] = [];
  ev.snapshot.nodes.forEach((peer, i) => {
    if (!table.candidate[i] || peer.name === name) return;
    if (patterned[i] === 1) {
      const line = own[i];
      if (line) {
        const elided = elidedAt(ev, host, i);
        if (!elided) throw new Error(`${name}: peer ${i} patterned but not elided`);
        const fdb = entriesOf(elided).fdb;
        problems.push({ node: name, peer: peer.name, kind: "fdb", line: `${describeFdb(name, fdb)}, ${line}`, dst: peer.flannel.publicIP });
      }
      return;
    }
    problems.push(...peerProblems(ev, node, peer));
  });
  return [...problems, ...strayFdbProblems(ev, node, table)];
}

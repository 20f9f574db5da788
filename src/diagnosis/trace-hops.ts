// The hops of a pod-to-pod path across flannel, each checked against the
// evidence. A hop whose evidence is missing is `unverified`, never broken.
import type { CheckEvidence, HostEvidence, NodeSnapshot, RouteEntry, TraceHop, VxlanDevice } from "../model/index.js";
import { addressHolders, everyNodeHasInterfaces, hostOf, interfaceHolding, POD_BRIDGE, sameMac, vtepAddress } from "./cluster-view.js";
import { describeRoute, describeUnderlayPing, reachResult } from "./evidence-lines.js";
import { iptablesFullyRead } from "./iptables-views.js";
import { entriesBetween, entriesFrom } from "./matrix-view.js";
import { cidrContains, networkAddress } from "./ipv4.js";
import { podForwardBlock } from "./node-filters.js";
import { routeLookup, routeProblem } from "./overlay-entries.js";
import { vxlanFirewall } from "./vxlan-firewall.js";

const unverified = (hop: string, detail: string): TraceHop => ({ hop, ok: true, detail, unverified: true });
const broken = (hop: string, detail: string): TraceHop => ({ hop, ok: false, detail });
const fine = (hop: string, detail: string): TraceHop => ({ hop, ok: true, detail });

export function sourcePodHop(node: NodeSnapshot, podIp: string | undefined): TraceHop {
  if (!node.podCIDR) return broken("source pod", `${node.name} has no podCIDR: flannel cannot run there and its pods get no address`);
  return fine("source pod", `pod ${podIp ?? "(address unknown)"} on ${node.name}, podCIDR ${node.podCIDR}`);
}

/** The pod bridge: present, up, and addressed inside the node's podCIDR (a stale cni0 from an earlier install is not). */
export function bridgeHop(hop: string, node: NodeSnapshot, host: HostEvidence | undefined): TraceHop {
  if (!host?.interfaces) return unverified(hop, `interfaces of ${node.name} not read`);
  const bridge = host.interfaces.find((i) => i.name === POD_BRIDGE);
  if (!bridge) return unverified(hop, `no ${POD_BRIDGE} on ${node.name} (no pod attached yet, or a bridge of another name)`);
  const addresses = bridge.addresses.map((a) => `${a.address}/${a.prefixLength}`);
  if (!bridge.up) return broken(hop, `${POD_BRIDGE} on ${node.name} is down`);
  const stray = bridge.addresses.find((a) => node.podCIDR && !cidrContains(node.podCIDR, a.address));
  if (stray) {
    return broken(
      hop,
      `${POD_BRIDGE} on ${node.name} has ${stray.address}/${stray.prefixLength}, outside its podCIDR ${node.podCIDR} (left from an earlier install?)`,
    );
  }
  return fine(hop, `${POD_BRIDGE} on ${node.name} up, ${addresses.join(", ") || "no address"}, MTU ${bridge.mtu}`);
}

export function forwardingHop(hop: string, ev: CheckEvidence, node: string): TraceHop {
  const host = hostOf(ev, node);
  if (host?.sysctls?.ipForward === 0) return broken(hop, `net.ipv4.ip_forward = 0 on ${node}: it does not forward between ${POD_BRIDGE} and the overlay`);
  const block = podForwardBlock(ev, node);
  if (block) return broken(hop, `${node}'s FORWARD chain drops pod traffic: ${block.line}`);
  if (host?.sysctls?.ipForward === undefined || !iptablesFullyRead(host, ["filter"])) return unverified(hop, `forwarding settings of ${node} not fully read`);
  return fine(hop, `${node}: ip_forward = 1, FORWARD accepts pod traffic`);
}

export interface RouteStep {
  hop: TraceHop;
  route?: RouteEntry;
}

export function routeHop(node: string, host: HostEvidence | undefined, peer: NodeSnapshot, dstIp: string | undefined): RouteStep {
  const cidr = peer.podCIDR ?? (dstIp && `${dstIp}/32`);
  const target = dstIp ?? (peer.podCIDR && networkAddress(peer.podCIDR));
  if (!host?.routes || !cidr || !target) return { hop: unverified("route", `routes of ${node} or the destination address unknown`) };
  const route = routeLookup(host.routes, target);
  const problem = routeProblem(route, cidr);
  if (problem) return { hop: broken("route", `${node}: ${problem}`) };
  return { hop: fine("route", `${node}: ${target} → ${describeRoute(route!)}`), route };
}

export interface NeighbourStep {
  hop: TraceHop;
  mac?: string;
}

export function neighbourHop(node: string, host: HostEvidence, device: VxlanDevice, gateway: string, peer: NodeSnapshot): NeighbourStep {
  // unread: go on with the MAC flannel would have written
  if (!host.neighbours) return { hop: unverified("neighbour", `neighbour table of ${node} not read`), mac: peer.flannel.vtepMac };
  const entry = host.neighbours.find((n) => n.dst === gateway && n.dev === device.name);
  const expected = peer.flannel.vtepMac;
  if (!entry?.lladdr) {
    return {
      hop: broken(
        "neighbour",
        `${node}: no resolved neighbour entry for ${gateway} on ${device.name}; flannel's device answers no ARP, so the kernel cannot fill it`,
      ),
    };
  }
  if (expected && !sameMac(entry.lladdr, expected)) {
    return {
      hop: broken("neighbour", `${node}: ${gateway} lladdr ${entry.lladdr} on ${device.name}, but ${peer.name}'s VtepMAC is ${expected}`),
      mac: entry.lladdr,
    };
  }
  return { hop: fine("neighbour", `${node}: ${gateway} lladdr ${entry.lladdr} (${peer.name}'s VtepMAC)`), mac: entry.lladdr };
}

export interface FdbStep {
  hop: TraceHop;
  dst?: string;
}

export function fdbHop(node: string, host: HostEvidence, device: VxlanDevice, mac: string, peer: NodeSnapshot): FdbStep {
  if (!host.fdb) return { hop: unverified("fdb", `FDB of ${node} not read`), dst: peer.flannel.publicIP };
  const entry = host.fdb.find((e) => e.dev === device.name && sameMac(e.mac, mac));
  if (!entry) return { hop: broken("fdb", `${node}: no FDB entry for ${mac} on ${device.name}: VXLAN has nowhere to send it`) };
  const expected = peer.flannel.publicIP;
  if (expected && entry.dst !== expected) {
    return { hop: broken("fdb", `${node}: FDB sends ${mac} to ${entry.dst}, but ${peer.name}'s public-ip is ${expected}`), dst: entry.dst };
  }
  return { hop: fine("fdb", `${node}: FDB sends ${mac} to ${entry.dst} (${peer.name}'s public-ip)`), dst: entry.dst };
}

/** Is the VXLAN destination an address of the peer, and not one of the sender's own? */
export function vtepAddressHop(ev: CheckEvidence, from: string, to: string, dst: string): TraceHop {
  const own = interfaceHolding(hostOf(ev, from), dst);
  if (own) return broken("vtep address", `FDB sends to ${dst}, which is ${from}'s own address on ${own.name}: VXLAN packets never leave the node`);
  const holders = addressHolders(ev, dst);
  const peer = holders.find((h) => h.node === to);
  if (peer) return fine("vtep address", `${dst} is ${to}'s address on ${peer.iface}`);
  if (holders[0]) return broken("vtep address", `${dst} belongs to ${holders[0].node} (on ${holders[0].iface}), not to ${to}`);
  if (everyNodeHasInterfaces(ev)) return broken("vtep address", `no node holds ${dst}: VXLAN packets for ${to} go nowhere`);
  return unverified("vtep address", `interfaces of ${to} not read; cannot tell whether it holds ${dst}`);
}

export function underlayHop(ev: CheckEvidence, from: string, dst: string): TraceHop {
  const pings = entriesFrom(ev, from).filter((e) => e.kind === "underlay-icmp" && e.target === dst);
  const answered = pings.find((e) => e.ok);
  if (answered) return fine("underlay", describeUnderlayPing(answered));
  if (pings[0]) return broken("underlay", describeUnderlayPing(pings[0]));
  return unverified("underlay", `no underlay ping from ${from} to ${dst} in the matrix`);
}

export function vxlanPortHop(ev: CheckEvidence, from: string, to: string): TraceHop {
  const port = ev.snapshot.flannel.vxlanPort;
  const firewall = vxlanFirewall(ev, to, from);
  if (!firewall) return unverified("vxlan port", `VTEP address of ${to} or ${from} unknown`);
  if (firewall.verdict === "drop") return broken("vxlan port", `${to} drops VXLAN (udp ${port}) from ${vtepAddress(ev, from)}: ${firewall.line}`);
  if (firewall.verdict !== "accept") return unverified("vxlan port", firewall.line);
  return fine("vxlan port", firewall.line);
}

/** `pathVerified`: every earlier hop was checked against evidence, so a failure here lies beyond what the nodes show. */
export function destinationPodHop(ev: CheckEvidence, from: string, to: string, pathVerified: boolean): TraceHop {
  const checks = entriesBetween(ev, from, to).filter((e) => e.kind === "pod-icmp" || e.kind === "pod-tcp");
  const failed = checks.filter((e) => !e.ok);
  const results = checks.map((e) => `${e.kind === "pod-tcp" ? "TCP" : "ICMP"} ${e.target} ${reachResult(e)}`).join(", ");
  if (checks.length === 0) return unverified("destination pod", `no pod check from ${from} to ${to} in the matrix`);
  if (failed.length === 0) return fine("destination pod", results);
  const hint = pathVerified
    ? `; every hop above checks out, so the drop is outside what the nodes show (a firewall between them) or on the way back (${to} → ${from})`
    : "";
  return broken("destination pod", `${results}${hint}`);
}

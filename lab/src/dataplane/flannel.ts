// The data-plane half of flanneld (see /work/shared/flannel-notes.md): the
// VXLAN device, MTUs, forwarding/masquerade rules, and the per-peer
// neighbour, FDB and route entries. The control-plane half (leases, node
// annotations, rollouts) lives in ../flannel-controller.ts.
import { randomBytes } from "node:crypto";
import type { Scenario } from "../scenario.js";
import { bridgeBatch, ipBatch, run } from "./exec.js";
import { parseFlannelArgs } from "./flannel-args.js";
import { canonicalCidr, cidrContains, isIpv4, networkAddress } from "./ipv4.js";
import { ensureRule, restoreRules, type Backend } from "./iptables.js";
import { linkName } from "./names.js";
import type { LabTopology } from "./topology.js";

export { chooseInterface, NO_MATCHING_IFACE_ERROR, type IfaceChoice } from "./flannel-iface.js";

export interface FlannelPeer {
  node: string;
  podCIDR: string;
  publicIP: string;
  /** "" when the peer published no backend-data */
  vtepMac: string;
  backendType: "vxlan" | "host-gw";
}

/** VXLAN header + outer UDP/IP/Ethernet: flannel.N's MTU is the underlay's minus this. */
const VXLAN_OVERHEAD = 50;

/** The jump flanneld appends to FORWARD (appended: an earlier DROP/REJECT still wins). */
export const FLANNEL_FORWARD_JUMP = ["-m", "comment", "--comment", "flanneld forward", "-j", "FLANNEL-FWD"];
const FLANNEL_MASQ_JUMP = ["-m", "comment", "--comment", "flanneld masq", "-j", "FLANNEL-POSTRTG"];

/**
 * The iptables backend flanneld writes its rules with on `node`: the system's
 * `iptables`, except on a node with the iptables-backend-split fault, where
 * flannel's image uses iptables-legacy while the node's own tools (Docker,
 * firewalld) use the nft backend. A property of the installation, so every
 * (re)start of flanneld on that node writes to legacy again.
 */
export function flannelIptablesBackend(s: Scenario, node: string): Backend {
  return s.faults.some((f) => f.kind === "iptables-backend-split" && f.node === node) ? "legacy" : "system";
}

interface LinkInfo {
  ifname: string;
  mtu: number;
  address: string;
  master?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; link?: string; port?: number } };
}

async function readLinks(netns: string): Promise<LinkInfo[]> {
  const { stdout } = await run(["ip", "-j", "-d", "-n", netns, "link", "show"]);
  return JSON.parse(stdout) as LinkInfo[];
}

/** Locally administered, unicast: what the kernel picks for a new device. */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

function nodeOf(topo: LabTopology, node: string) {
  const t = topo.nodes[node];
  if (!t) throw new Error(`unknown node ${node}`);
  return t;
}

/** Pod namespaces on the node: the pod agent and the service pods. */
function podNamespaces(topo: LabTopology, node: string): string[] {
  const agent = nodeOf(topo, node).podNetns;
  const services = Object.values(topo.services)
    .filter((svc) => svc.node === node)
    .map((svc) => svc.netns);
  return [...(agent ? [agent] : []), ...services];
}

/**
 * What flanneld does at start on one node: the backend device, the MTU the
 * CNI gives cni0 and pods (FLANNEL_MTU), and flannel's iptables chains.
 * Reads the underlay's MTU from the kernel, as flanneld does, so a changed
 * NIC MTU shows up at the next start.
 */
export async function setupFlannelNode(
  topo: LabTopology,
  s: Scenario,
  node: string,
  choice: { iface: string; address: string },
  vtepMac?: string,
  /** flanneld's effective flags (default: the scenario's args) */
  args: readonly string[] = s.flannel.args,
): Promise<{ vtepMac: string; mtu: number }> {
  const t = nodeOf(topo, node);
  if (!t.podCIDR) throw new Error(`node "${node}" pod cidr not assigned`);
  const links = await readLinks(t.netns);
  const ext = links.find((l) => l.ifname === choice.iface);
  if (!ext) throw new Error(`node ${node} has no interface ${choice.iface}`);

  let mtu = ext.mtu;
  let mac = "";
  if (s.flannel.backend === "vxlan") {
    mtu = ext.mtu - VXLAN_OVERHEAD;
    mac = await ensureVxlanDevice(t.netns, s, links, choice, mtu, t.podCIDR, vtepMac);
  }
  await setPodMtu(topo, node, links, mtu);
  await installFlannelRules(t.netns, s, args, t.podCIDR, flannelIptablesBackend(s, node));
  return { vtepMac: mac, mtu };
}

/** Creates flannel.<vni> (or keeps a matching one) and returns its MAC. */
async function ensureVxlanDevice(
  netns: string,
  s: Scenario,
  links: LinkInfo[],
  choice: { iface: string; address: string },
  mtu: number,
  podCIDR: string,
  vtepMac: string | undefined,
): Promise<string> {
  const { vni, port } = s.flannel;
  const dev = linkName.vxlan(vni);
  const existing = links.find((l) => l.ifname === dev);
  const data = existing?.linkinfo?.info_data;
  const matches =
    existing?.linkinfo?.info_kind === "vxlan" && data?.id === vni && data.local === choice.address && data.link === choice.iface && data.port === port;
  const mac = vtepMac ?? (matches ? existing.address : randomMac());
  const cmds: string[][] = [];
  if (existing && !matches) cmds.push(["link", "delete", dev]);
  if (!matches) {
    cmds.push([
      "link",
      "add",
      dev,
      "address",
      mac,
      "type",
      "vxlan",
      "id",
      String(vni),
      "local",
      choice.address,
      "dev",
      choice.iface,
      "dstport",
      String(port),
      "nolearning",
    ]);
  } else if (existing.address !== mac) {
    cmds.push(["link", "set", dev, "address", mac]);
  }
  cmds.push(["link", "set", dev, "mtu", String(mtu)], ["address", "replace", `${networkAddress(podCIDR)}/32`, "dev", dev], ["link", "set", dev, "up"]);
  await ipBatch(netns, cmds);
  return mac;
}

/** cni0, the host ends of the pod veths, and every pod's eth0 get the overlay MTU. */
async function setPodMtu(topo: LabTopology, node: string, links: LinkInfo[], mtu: number): Promise<void> {
  const netns = nodeOf(topo, node).netns;
  const value = String(mtu);
  const hostVeths = links.filter((l) => l.master === linkName.podBridge).map((l) => l.ifname);
  const hasBridge = links.some((l) => l.ifname === linkName.podBridge);
  await Promise.all([
    ipBatch(netns, [...hostVeths.map((v) => ["link", "set", v, "mtu", value]), ...(hasBridge ? [["link", "set", linkName.podBridge, "mtu", value]] : [])]),
    ...podNamespaces(topo, node).map((ns) => ipBatch(ns, [["link", "set", linkName.podEth, "mtu", value]])),
  ]);
}

/** FLANNEL-FWD (unless --iptables-forward-rules=false) and, with --ip-masq, FLANNEL-POSTRTG, as flanneld writes them. */
async function installFlannelRules(netns: string, s: Scenario, flags: readonly string[], podCIDR: string, backend: Backend): Promise<void> {
  const args = parseFlannelArgs(flags);
  const net = s.flannel.network;
  const lease = canonicalCidr(podCIDR);
  const fwd = '-m comment --comment "flanneld forward"';
  const masq = '-m comment --comment "flanneld masq"';
  const tables: string[] = [];
  if (args.iptablesForwardRules) {
    tables.push("*filter", ":FLANNEL-FWD - [0:0]", `-A FLANNEL-FWD -s ${net} ${fwd} -j ACCEPT`, `-A FLANNEL-FWD -d ${net} ${fwd} -j ACCEPT`, "COMMIT");
  }
  if (args.ipMasq) {
    tables.push(
      "*nat",
      ":FLANNEL-POSTRTG - [0:0]",
      `-A FLANNEL-POSTRTG -m mark --mark 0x4000/0x4000 ${masq} -j RETURN`,
      `-A FLANNEL-POSTRTG -s ${lease} -d ${net} ${masq} -j RETURN`,
      `-A FLANNEL-POSTRTG -s ${net} -d ${lease} ${masq} -j RETURN`,
      `-A FLANNEL-POSTRTG ! -s ${net} -d ${lease} ${masq} -j RETURN`,
      `-A FLANNEL-POSTRTG -s ${net} ! -d 224.0.0.0/4 ${masq} -j MASQUERADE --random-fully`,
      `-A FLANNEL-POSTRTG ! -s ${net} -d ${net} ${masq} -j MASQUERADE --random-fully`,
      "COMMIT",
    );
  }
  if (tables.length === 0) return;
  await restoreRules(netns, tables.join("\n") + "\n", backend);
  if (args.iptablesForwardRules) await ensureRule(netns, "filter", "FORWARD", FLANNEL_FORWARD_JUMP, backend);
  if (args.ipMasq) await ensureRule(netns, "nat", "POSTROUTING", FLANNEL_MASQ_JUMP, backend);
}

interface RouteEntry {
  dst: string;
  gateway?: string;
}
interface NeighEntry {
  dst: string;
  state?: string[];
}
interface FdbEntry {
  mac: string;
  dst?: string;
}

async function readJson<T>(argv: string[]): Promise<T[]> {
  const { stdout } = await run(argv);
  return stdout.trim() ? (JSON.parse(stdout) as T[]) : [];
}

/** "10.244.1.0/24" or "10.244.1.0" (a /32 as `ip -j route` prints it) → canonical CIDR. */
const routeCidr = (dst: string) => canonicalCidr(dst.includes("/") ? dst : `${dst}/32`);

/** Whether a route or neighbour destination ("default" included) lies inside the flannel network. */
function inNetwork(network: string, dst: string): boolean {
  const ip = dst.split("/")[0] ?? "";
  return isIpv4(ip) && cidrContains(network, ip);
}

/**
 * What flanneld does for the current set of leases: one entry set per peer of
 * this node's backend type, and removal of the entries of peers that left.
 * Only flannel's own entries are touched (on flannel.<vni>, or for host-gw
 * routes to pod networks via a peer on the external interface).
 */
export async function programPeers(topo: LabTopology, s: Scenario, node: string, extIface: string, peers: FlannelPeer[]): Promise<void> {
  const t = nodeOf(topo, node);
  const wanted = peers.filter((p) => p.node !== node && p.backendType === s.flannel.backend && (p.backendType === "host-gw" || p.vtepMac !== ""));
  if (s.flannel.backend === "host-gw") await programHostGwPeers(t.netns, s, extIface, t.podCIDR, wanted);
  else await programVxlanPeers(t.netns, s, wanted);
}

async function programVxlanPeers(netns: string, s: Scenario, peers: FlannelPeer[]): Promise<void> {
  const dev = linkName.vxlan(s.flannel.vni);
  const net = s.flannel.network;
  const [routes, neighs, fdb] = await Promise.all([
    readJson<RouteEntry>(["ip", "-j", "-n", netns, "route", "show", "dev", dev]),
    readJson<NeighEntry>(["ip", "-j", "-n", netns, "neigh", "show", "dev", dev]),
    readJson<FdbEntry>(["bridge", "-j", "-n", netns, "fdb", "show", "dev", dev]),
  ]);
  const wantedCidrs = new Set(peers.map((p) => canonicalCidr(p.podCIDR)));
  const wantedLeases = new Set(peers.map((p) => networkAddress(p.podCIDR)));
  const wantedMacs = new Set(peers.map((p) => p.vtepMac.toLowerCase()));

  const staleRoutes = routes.filter((r) => r.gateway && inNetwork(net, r.dst) && !wantedCidrs.has(routeCidr(r.dst)));
  const staleNeighs = neighs.filter((n) => n.state?.includes("PERMANENT") && inNetwork(net, n.dst) && !wantedLeases.has(n.dst));
  const staleFdb = fdb.filter((f) => f.dst && !wantedMacs.has(f.mac.toLowerCase()));

  // Neighbour, then FDB, then route: the route last so the kernel never has to ARP over the overlay.
  await ipBatch(netns, [
    ...staleRoutes.map((r) => ["route", "delete", routeCidr(r.dst), "dev", dev]),
    ...staleNeighs.map((n) => ["neigh", "delete", n.dst, "dev", dev]),
    ...peers.map((p) => ["neigh", "replace", networkAddress(p.podCIDR), "lladdr", p.vtepMac, "dev", dev, "nud", "permanent"]),
  ]);
  await bridgeBatch(netns, [
    ...staleFdb.map((f) => ["fdb", "delete", f.mac, "dev", dev, "dst", f.dst!, "self"]),
    ...peers.map((p) => ["fdb", "replace", p.vtepMac, "dev", dev, "dst", p.publicIP, "self", "permanent"]),
  ]);
  await ipBatch(
    netns,
    peers.map((p) => ["route", "replace", canonicalCidr(p.podCIDR), "via", networkAddress(p.podCIDR), "dev", dev, "onlink"]),
  );
}

async function programHostGwPeers(netns: string, s: Scenario, extIface: string, ownPodCIDR: string | undefined, peers: FlannelPeer[]): Promise<void> {
  const routes = await readJson<RouteEntry>(["ip", "-j", "-n", netns, "route", "show", "dev", extIface]);
  const keep = new Set(peers.map((p) => canonicalCidr(p.podCIDR)));
  if (ownPodCIDR) keep.add(canonicalCidr(ownPodCIDR));
  const stale = routes.filter((r) => r.gateway && inNetwork(s.flannel.network, r.dst) && !keep.has(routeCidr(r.dst)));
  await ipBatch(netns, [
    ...stale.map((r) => ["route", "delete", routeCidr(r.dst), "via", r.gateway!, "dev", extIface]),
    ...peers.map((p) => ["route", "replace", canonicalCidr(p.podCIDR), "via", p.publicIP, "dev", extIface]),
  ]);
}

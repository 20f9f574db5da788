// Read-only views of one check's evidence that several rules share: which
// host evidence belongs to a node, flannel's device and peers, the VTEP.
// Every accessor tolerates missing evidence by returning undefined or [].
import type { CheckEvidence, HostEvidence, InterfaceInfo, NodeSnapshot, VxlanDevice } from "../model/index.js";
import { cidrContains, formatIpv4, parseCidr, sameSubnet } from "./ipv4.js";

/** The bridge the CNI bridge plugin attaches pods to on flannel nodes. */
export const POD_BRIDGE = "cni0";

/**
 * The evidence indexed by node name and address, built once per diagnosis:
 * the rules look nodes, hosts and addresses up for every pair of nodes, which
 * scanning the lists would make cubic in the cluster's size. Only inside
 * withEvidenceIndex (the evidence is not changed while rules read it); any
 * other caller reads the lists as they are.
 */
interface EvidenceIndex {
  nodes: Map<string, NodeSnapshot>;
  hosts: Map<string, HostEvidence>;
  holders: Map<string, { node: string; iface: string }[]>;
  everyNodeHasInterfaces: boolean;
  memo: Map<string, WeakMap<object, unknown>>;
}

const indexes = new WeakMap<CheckEvidence, EvidenceIndex>();

function firstBy<T>(list: readonly T[], key: (t: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const item of list) if (!map.has(key(item))) map.set(key(item), item);
  return map;
}

function buildIndex(ev: CheckEvidence): EvidenceIndex {
  const hosts = firstBy(ev.hosts, (h) => h.node);
  const holders = new Map<string, { node: string; iface: string }[]>();
  for (const h of ev.hosts) {
    const seen = new Set<string>();
    for (const iface of h.interfaces ?? []) {
      for (const { address } of iface.addresses) {
        if (seen.has(address)) continue; // the first interface holding it, as interfaceHolding finds it
        seen.add(address);
        holders.set(address, [...(holders.get(address) ?? []), { node: h.node, iface: iface.name }]);
      }
    }
  }
  return {
    nodes: firstBy(ev.snapshot.nodes, (n) => n.name),
    hosts,
    holders,
    everyNodeHasInterfaces: ev.snapshot.nodes.every((n) => hosts.get(n.name)?.interfaces !== undefined),
    memo: new Map(),
  };
}

/** Runs `fn` (one diagnosis) with the evidence indexed; nested calls share the index. */
export function withEvidenceIndex<T>(ev: CheckEvidence, fn: () => T): T {
  if (indexes.has(ev)) return fn();
  indexes.set(ev, buildIndex(ev));
  try {
    return fn();
  } finally {
    indexes.delete(ev);
  }
}

/** `build(key)` once per key object during a diagnosis (`tag` names what is built); at every call outside one. */
export function memoized<K extends object, V>(ev: CheckEvidence, tag: string, key: K, build: (key: K) => V): V {
  const index = indexes.get(ev);
  if (!index) return build(key);
  let memo = index.memo.get(tag);
  if (!memo) index.memo.set(tag, (memo = new WeakMap()));
  if (!memo.has(key)) memo.set(key, build(key));
  return memo.get(key) as V;
}

export function nodeNamed(ev: CheckEvidence, name: string): NodeSnapshot | undefined {
  const index = indexes.get(ev);
  return index ? index.nodes.get(name) : ev.snapshot.nodes.find((n) => n.name === name);
}

export function hostOf(ev: CheckEvidence, name: string): HostEvidence | undefined {
  const index = indexes.get(ev);
  return index ? index.hosts.get(name) : ev.hosts.find((h) => h.node === name);
}

/** Distinct names in the order of the snapshot's nodes (names it does not know last). */
export function inNodeOrder(ev: CheckEvidence, names: Iterable<string>): string[] {
  const wanted = new Set(names);
  const known = ev.snapshot.nodes.map((n) => n.name).filter((n) => wanted.has(n));
  return [...known, ...[...wanted].filter((n) => !known.includes(n)).sort()];
}

export function sameMac(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && a.toLowerCase() === b.toLowerCase();
}

/** flannel's VXLAN device (flannel.<VNI>), not other VXLAN devices a node may carry. */
export function flannelDevice(ev: CheckEvidence, host: HostEvidence | undefined): VxlanDevice | undefined {
  const devices = host?.vxlan ?? [];
  const vni = ev.snapshot.flannel.vni;
  return devices.find((d) => d.name === `flannel.${vni}`) ?? devices.find((d) => d.name.startsWith("flannel.") && d.vni === vni);
}

export type Backend = "vxlan" | "host-gw";

/** The node's annotation first (what flannel runs), then net-conf.json, then what the node shows. */
export function backendOf(ev: CheckEvidence, node: NodeSnapshot): Backend | undefined {
  const declared = (node.flannel.backendType ?? ev.snapshot.flannel.backendType)?.toLowerCase();
  if (declared === "vxlan" || declared === "host-gw") return declared;
  if (declared !== undefined) return undefined;
  return flannelDevice(ev, hostOf(ev, node.name)) ? "vxlan" : undefined;
}

/**
 * A node other nodes' flannel programs entries for (a lease): a podCIDR and
 * the annotations flannel needs (public-ip; for VXLAN also the VtepMAC).
 */
export function isFlannelLease(ev: CheckEvidence, p: NodeSnapshot): boolean {
  return p.podCIDR !== undefined && p.flannel.publicIP !== undefined && (backendOf(ev, p) === "host-gw" || p.flannel.vtepMac !== undefined);
}

/** The address VXLAN packets to this node are sent to, as the node itself configured it. */
export function vtepAddress(ev: CheckEvidence, name: string): string | undefined {
  return flannelDevice(ev, hostOf(ev, name))?.local ?? nodeNamed(ev, name)?.flannel.publicIP;
}

export function interfaceHolding(host: HostEvidence | undefined, ip: string): InterfaceInfo | undefined {
  return host?.interfaces?.find((i) => i.addresses.some((a) => a.address === ip));
}

export interface VtepInterface {
  name: string;
  address?: string;
}

/** The underlay interface flannel's VTEP sits on: the device's `dev`, else the interface holding its local (or public) address. */
export function vtepInterface(ev: CheckEvidence, name: string): VtepInterface | undefined {
  const host = hostOf(ev, name);
  const device = flannelDevice(ev, host);
  const address = vtepAddress(ev, name);
  if (device?.underlay) return { name: device.underlay, address };
  const holder = address === undefined ? undefined : interfaceHolding(host, address);
  return holder && { name: holder.name, address };
}

/** The nodes, and their interface, holding `ip` (as far as their interfaces were read). */
export function addressHolders(ev: CheckEvidence, ip: string): readonly { node: string; iface: string }[] {
  const index = indexes.get(ev);
  if (index) return index.holders.get(ip) ?? [];
  return ev.hosts.flatMap((h) => {
    const iface = interfaceHolding(h, ip);
    return iface ? [{ node: h.node, iface: iface.name }] : [];
  });
}

/** Whether every node's interfaces were read, so "no node holds X" is a fact, not a gap. */
export function everyNodeHasInterfaces(ev: CheckEvidence): boolean {
  const index = indexes.get(ev);
  if (index) return index.everyNodeHasInterfaces;
  return ev.snapshot.nodes.every((n) => hostOf(ev, n.name)?.interfaces !== undefined);
}

/** An address of a pod on the node: the pod agent's, else one inside its podCIDR (enough to match CIDR rules). */
export function podAddress(node: NodeSnapshot): string | undefined {
  const ip = node.podAgent?.podIP;
  if (ip !== undefined && node.podCIDR !== undefined && cidrContains(node.podCIDR, ip)) return ip;
  const net = node.podCIDR === undefined ? undefined : parseCidr(node.podCIDR);
  return net && formatIpv4(net.network + 2);
}

/** The node's own address in the subnet of `target` (what it would send from), else its InternalIP. */
export function sourceAddressToward(ev: CheckEvidence, name: string, target: string): string | undefined {
  const own = hostOf(ev, name)
    ?.interfaces?.flatMap((i) => i.addresses)
    .find((a) => sameSubnet(a.address, target, a.prefixLength));
  return own?.address ?? nodeNamed(ev, name)?.internalIP;
}

/**
 * FDB entries in the order of the nodes whose VtepMAC they carry (others
 * last, as they came): the FDB's own order is the kernel's, and evidence
 * lines read the same whether the entries came as read or from templates.
 */
export function inMacOwnerOrder<E extends { mac: string }>(ev: CheckEvidence, entries: readonly E[]): E[] {
  const owners = memoized(ev, "mac-owners", ev.snapshot, (snapshot) => {
    const m = new Map<string, number>();
    snapshot.nodes.forEach((n, i) => {
      const mac = n.flannel.vtepMac?.toLowerCase();
      if (mac && !m.has(mac)) m.set(mac, i);
    });
    return m;
  });
  const order = (e: E) => owners.get(e.mac.toLowerCase()) ?? ev.snapshot.nodes.length;
  return [...entries].sort((a, b) => order(a) - order(b));
}

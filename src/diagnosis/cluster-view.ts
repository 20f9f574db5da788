// Read-only views of one check's evidence that several rules share: which
// host evidence belongs to a node, flannel's device and peers, the VTEP.
// Every accessor tolerates missing evidence by returning undefined or [].
import type { CheckEvidence, HostEvidence, InterfaceInfo, NodeSnapshot, VxlanDevice } from "../model/index.js";
import { cidrContains, formatIpv4, parseCidr, sameSubnet } from "./ipv4.js";

/** The bridge the CNI bridge plugin attaches pods to on flannel nodes. */
export const POD_BRIDGE = "cni0";

export function nodeNamed(ev: CheckEvidence, name: string): NodeSnapshot | undefined {
  return ev.snapshot.nodes.find((n) => n.name === name);
}

export function hostOf(ev: CheckEvidence, name: string): HostEvidence | undefined {
  return ev.hosts.find((h) => h.node === name);
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
 * The leases flannel on `node` programs entries for: other nodes with a podCIDR
 * and the annotations flannel needs (public-ip; for VXLAN also the VtepMAC).
 */
export function flannelPeers(ev: CheckEvidence, node: NodeSnapshot): NodeSnapshot[] {
  return ev.snapshot.nodes.filter(
    (p) =>
      p.name !== node.name &&
      p.podCIDR !== undefined &&
      p.flannel.publicIP !== undefined &&
      (backendOf(ev, p) === "host-gw" || p.flannel.vtepMac !== undefined),
  );
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
export function addressHolders(ev: CheckEvidence, ip: string): { node: string; iface: string }[] {
  return ev.hosts.flatMap((h) => {
    const iface = interfaceHolding(h, ip);
    return iface ? [{ node: h.node, iface: iface.name }] : [];
  });
}

/** Whether every node's interfaces were read, so "no node holds X" is a fact, not a gap. */
export function everyNodeHasInterfaces(ev: CheckEvidence): boolean {
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

// Where a probe packet goes in a synthetic cluster, hop by hop, from the
// topology and the nodes' faults: the source pod's bridge, the source's
// forward path, route and FDB, the VXLAN packet on both NICs, the
// destination's firewall, VTEP and forward path. Pure.
import { nodeByInternalIP, nodeByPodAddress, type SynthCluster, type SynthNode } from "./cluster-plan.js";
import { NO_FAULTS, type NodeFaults } from "./node-faults.js";
import { sysctlValue } from "./host-tools.js";

export type Proto = "icmp" | "tcp";

/** A hop a capture can watch: node and interface, with its role on the path. */
export interface Hop {
  node: string;
  iface: string;
  role: "bridge" | "tunnel" | "underlay";
}

export interface OneWay {
  delivered: boolean;
  /** the hops that saw the packet, in path order */
  seen: Hop[];
}

export interface Endpoint {
  node: SynthNode;
  /** a pod on the node's bridge, or the node itself */
  pod: boolean;
}

export class PacketModel {
  constructor(
    readonly c: SynthCluster,
    private readonly faults: Map<string, NodeFaults>,
  ) {}

  faultsOf(node: SynthNode): NodeFaults {
    return this.faults.get(node.name) ?? NO_FAULTS;
  }

  /** Which endpoint an address is, seen from anywhere in the cluster. */
  endpointOf(ip: string): (Endpoint & { address: "pod" | "vtep" | "cni0" | "node" }) | undefined {
    const byPod = nodeByPodAddress(this.c, ip);
    if (byPod) {
      if (ip === byPod.podIP) return { node: byPod, pod: true, address: "pod" };
      if (ip === byPod.flannelIP) return { node: byPod, pod: false, address: "vtep" };
      if (ip === byPod.cni0IP) return { node: byPod, pod: false, address: "cni0" };
      return undefined;
    }
    const node = nodeByInternalIP(this.c, ip);
    return node && node.internalIP === ip ? { node, pod: false, address: "node" } : undefined;
  }

  private forwards(f: NodeFaults, proto: Proto, port: number | undefined): boolean {
    if (f.forwardPolicyDrop || sysctlValue(f, "net.ipv4.ip_forward") === "0") return false;
    return !f.nftDrops.some((d) => d.hook === "forward" && d.proto === proto && d.port === port);
  }

  /**
   * One packet across the overlay. `dport` is the TCP destination port of a
   * request (undefined for ICMP and for replies, whose port no drop matches).
   */
  overlay(src: Endpoint, dst: Endpoint, proto: Proto, dport?: number): OneWay {
    const { c } = this;
    const seen: Hop[] = [];
    const at = (node: SynthNode, iface: string, role: Hop["role"]) => seen.push({ node: node.name, iface, role });
    const sf = this.faultsOf(src.node);
    const df = this.faultsOf(dst.node);
    const lost = { delivered: false, seen };
    if (src.pod) {
      at(src.node, "cni0", "bridge");
      if (!this.forwards(sf, proto, dport)) return lost;
    }
    if (sf.deletedRoutes.has(dst.node.podCIDR)) {
      at(src.node, c.iface, "underlay"); // out of the default route, unencapsulated, to the gateway that has no route back
      return lost;
    }
    at(src.node, c.vxlanDevice, "tunnel");
    at(src.node, c.iface, "underlay");
    if (sf.staleFdb.has(dst.node.name)) return lost; // encapsulated toward an address no node holds
    at(dst.node, c.iface, "underlay");
    const vxlanPort = c.scenario.flannel.port;
    if (df.inputUdpDrops.includes(vxlanPort) || df.nftDrops.some((d) => d.hook === "input" && d.proto === "udp" && d.port === vxlanPort)) return lost;
    at(dst.node, c.vxlanDevice, "tunnel");
    // the inner frame carries the VTEP MAC the sender's neighbour entry has: the one flannel published
    if (df.changedVtepMac) return lost;
    if (proto === "tcp" && dport !== undefined && df.preroutingTcpDrops.includes(dport)) return lost;
    if (dst.pod) {
      if (!this.forwards(df, proto, dport)) return lost;
      at(dst.node, "cni0", "bridge");
    } else if (proto === "tcp" && df.nftDrops.some((d) => d.hook === "input" && d.proto === "tcp" && d.port === dport)) {
      return lost;
    }
    return { delivered: true, seen };
  }

  /** Node to node on the flat underlay: only the destination's own firewall can stop it. */
  underlay(src: SynthNode, dst: SynthNode, proto: Proto, dport?: number): boolean {
    if (src === dst || proto === "icmp" || dport === undefined) return true;
    const df = this.faultsOf(dst);
    return !df.preroutingTcpDrops.includes(dport) && !df.nftDrops.some((d) => d.hook === "input" && d.proto === "tcp" && d.port === dport);
  }

  /** A request and its answer: both ways must get through. */
  roundTrip(from: Endpoint, address: string, proto: Proto, dport?: number): boolean {
    const to = this.endpointOf(address);
    if (!to) return false;
    if (to.node === from.node && !to.pod && !from.pod) return true;
    const overlay = from.pod || to.pod || to.address === "vtep" || to.address === "cni0";
    if (!overlay) return this.underlay(from.node, to.node, proto, dport);
    if (to.node === from.node) return true; // same bridge or the node's own pod: never leaves the node
    return this.overlay(from, to, proto, dport).delivered && this.overlay(to, from, proto).delivered;
  }
}

/** A stable, plausible round-trip time in milliseconds for a pair. */
export function rttMsOf(a: SynthNode, b: SynthNode): number {
  return Math.round((0.18 + (((a.index * 31 + b.index * 17) % 97) / 97) * 0.9) * 1000) / 1000;
}

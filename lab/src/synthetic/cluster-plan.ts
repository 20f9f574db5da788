// The addresses, MACs and pod names of a synthetic cluster, derived from the
// scenario alone (pure): node i is node-000i on one flat underlay, with the
// i-th /24 of flannel.network as podCIDR (flannel's default SubnetLen), cni0
// at .1, the pod agent at .2 and flannel.<VNI> at .0, as on the lab's real nodes.
import { createHash } from "node:crypto";
import { hostAddress, intToIp, ipToInt, parseCidr, type Cidr } from "../dataplane/ipv4.js";
import type { Scenario } from "../scenario.js";
import { syntheticNodeName } from "./names.js";

export interface SynthNode {
  index: number;
  name: string;
  internalIP: string;
  podCIDR: string;
  /** flannel.<VNI>'s address: the podCIDR's network address */
  flannelIP: string;
  cni0IP: string;
  podIP: string;
  eth0Mac: string;
  /** what flanneld published in backend-data (and what every peer programmed) */
  vtepMac: string;
  cni0Mac: string;
  podMac: string;
}

export interface SynthCluster {
  scenario: Scenario;
  underlay: { cidr: string; prefixLength: number; gateway: string };
  /** the underlay NIC of every node */
  iface: string;
  vxlanDevice: string;
  nodes: SynthNode[];
  byName: Map<string, SynthNode>;
  /** flannel.network and the underlay, parsed once: every probe's address is looked up in them */
  podNetwork: Cidr;
  underlayNetwork: Cidr;
}

/** Private ranges tried for the underlay; the first that does not overlap flannel.network and fits the nodes wins. */
const UNDERLAY_CANDIDATES = ["172.16.0.0/16", "192.168.0.0/16", "100.64.0.0/16"];
/** Node addresses start here (.1 is the gateway). */
const FIRST_HOST = 10;
const SUBNET_LEN = 24;

function overlaps(a: string, b: string): boolean {
  const [x, y] = [parseCidr(a), parseCidr(b)];
  return x.base < y.base + y.size && y.base < x.base + x.size;
}

/** A locally administered unicast MAC derived from `seed`, as stable as the node's name. */
export function macFrom(seed: string): string {
  const b = createHash("sha256").update(seed).digest().subarray(0, 6);
  b[0] = (b[0]! & 0xfe) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

export function planSyntheticCluster(s: Scenario): SynthCluster {
  if (!s.synthetic) throw new Error(`scenario ${s.name} has no synthetic block`);
  const count = s.synthetic.nodes;
  const network = parseCidr(s.flannel.network);
  if (network.prefix > SUBNET_LEN || network.size / 2 ** (32 - SUBNET_LEN) < count) {
    throw new Error(`flannel.network ${s.flannel.network} has fewer than ${count} /${SUBNET_LEN} subnets for the synthetic nodes`);
  }
  const underlayCidr = UNDERLAY_CANDIDATES.find((c) => !overlaps(c, s.flannel.network) && parseCidr(c).size >= count + FIRST_HOST + 1);
  if (!underlayCidr) throw new Error(`no underlay range (${UNDERLAY_CANDIDATES.join(", ")}) is free of flannel.network ${s.flannel.network}`);
  const underlay = parseCidr(underlayCidr);
  const nodes: SynthNode[] = [];
  for (let i = 0; i < count; i++) {
    const name = syntheticNodeName(i);
    const podCIDR = `${intToIp(network.base + i * 2 ** (32 - SUBNET_LEN))}/${SUBNET_LEN}`;
    nodes.push({
      index: i,
      name,
      internalIP: intToIp(underlay.base + FIRST_HOST + i),
      podCIDR,
      flannelIP: podCIDR.split("/")[0]!,
      cni0IP: hostAddress(podCIDR, 1),
      podIP: hostAddress(podCIDR, 2),
      eth0Mac: macFrom(`${name}/eth0`),
      vtepMac: macFrom(`${name}/vtep`),
      cni0Mac: macFrom(`${name}/cni0`),
      podMac: macFrom(`${name}/pod`),
    });
  }
  return {
    scenario: s,
    underlay: { cidr: underlayCidr, prefixLength: underlay.prefix, gateway: intToIp(underlay.base + 1) },
    iface: "eth0",
    vxlanDevice: `flannel.${s.flannel.vni}`,
    nodes,
    byName: new Map(nodes.map((n) => [n.name, n])),
    podNetwork: network,
    underlayNetwork: underlay,
  };
}

/** The node whose pod CIDR holds `ip`, by arithmetic (podCIDRs are consecutive /24s). */
export function nodeByPodAddress(c: SynthCluster, ip: string): SynthNode | undefined {
  const { base, size } = c.podNetwork;
  const n = ipToInt(ip);
  return n >= base && n < base + size ? c.nodes[Math.floor((n - base) / 2 ** (32 - SUBNET_LEN))] : undefined;
}

/** The node whose underlay address is `ip`. */
export function nodeByInternalIP(c: SynthCluster, ip: string): SynthNode | undefined {
  const { base, size } = c.underlayNetwork;
  const n = ipToInt(ip);
  return n >= base && n < base + size ? c.nodes[n - base - FIRST_HOST] : undefined;
}

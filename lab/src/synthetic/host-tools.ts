// What the read-only tools print on a synthetic node: `ip -j addr/route/neigh`,
// `ip -j -d link show type vxlan`, `bridge -j fdb`, the sysctl files,
// iptables-save (nft backend) and `nft -j list ruleset`. Shapes and field
// order copied from a namespace-lab node (iproute2 6.1, iptables 1.8.9,
// nftables 1.0.6), rebuilt from the topology and the node's faults.
import type { SynthCluster, SynthNode } from "./cluster-plan.js";
import type { NodeFaults } from "./node-faults.js";

const FOREVER = { valid_life_time: 4294967295, preferred_life_time: 4294967295 };
const UP = ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"];
const VXLAN_OVERHEAD = 50;
const IFINDEX = { lo: 1, cni0: 2, vxlan: 3, eth0: 10, veth: 100 } as const;

/** The EUI-64 link-local address the kernel gives an interface with this MAC. */
function linkLocal(mac: string): string {
  const b = mac.split(":").map((x) => parseInt(x, 16));
  b[0]! ^= 0x02;
  const words = [(b[0]! << 8) | b[1]!, (b[2]! << 8) | 0xff, (0xfe << 8) | b[3]!, (b[4]! << 8) | b[5]!];
  return `fe80::${words.map((w) => w.toString(16)).join(":")}`.replace(/(^|:)0(:0)+(:|$)/, "::");
}

function inet6(mac: string) {
  return { family: "inet6", local: linkLocal(mac), prefixlen: 64, scope: "link", ...FOREVER };
}

function loopback() {
  return {
    ifindex: IFINDEX.lo,
    ifname: "lo",
    flags: ["LOOPBACK", "UP", "LOWER_UP"],
    mtu: 65536,
    qdisc: "noqueue",
    operstate: "UNKNOWN",
    group: "default",
    txqlen: 1000,
    link_type: "loopback",
    address: "00:00:00:00:00:00",
    broadcast: "00:00:00:00:00:00",
    addr_info: [
      { family: "inet", local: "127.0.0.1", prefixlen: 8, scope: "host", label: "lo", ...FOREVER },
      { family: "inet6", local: "::1", prefixlen: 128, scope: "host", ...FOREVER },
    ],
  };
}

export function vtepMacOf(node: SynthNode, f: NodeFaults): string {
  return f.changedVtepMac ?? node.vtepMac;
}

export function mtuOf(f: NodeFaults, iface: string, fallback: number): number {
  return f.mtus[iface] ?? fallback;
}

/** flannel sets flannel.<VNI>, cni0 and the pods from the underlay's MTU at start (before any mtu fault). */
const OVERLAY_MTU = 1500 - VXLAN_OVERHEAD;

export function addrShow(c: SynthCluster, n: SynthNode, f: NodeFaults): string {
  const dev = c.vxlanDevice;
  return JSON.stringify([
    loopback(),
    {
      ifindex: IFINDEX.cni0,
      ifname: "cni0",
      flags: UP,
      mtu: mtuOf(f, "cni0", OVERLAY_MTU),
      qdisc: "noqueue",
      operstate: "UP",
      group: "default",
      txqlen: 1000,
      link_type: "ether",
      address: n.cni0Mac,
      broadcast: "ff:ff:ff:ff:ff:ff",
      addr_info: [{ family: "inet", local: n.cni0IP, prefixlen: 24, scope: "global", label: "cni0", ...FOREVER }, inet6(n.cni0Mac)],
    },
    {
      ifindex: IFINDEX.vxlan,
      ifname: dev,
      flags: UP,
      mtu: mtuOf(f, dev, OVERLAY_MTU),
      qdisc: "noqueue",
      operstate: "UNKNOWN",
      group: "default",
      txqlen: 1000,
      link_type: "ether",
      address: vtepMacOf(n, f),
      broadcast: "ff:ff:ff:ff:ff:ff",
      addr_info: [{ family: "inet", local: n.flannelIP, prefixlen: 32, scope: "global", label: dev, ...FOREVER }, inet6(vtepMacOf(n, f))],
    },
    {
      ifindex: IFINDEX.eth0,
      link_index: 1100 + n.index,
      ifname: c.iface,
      flags: UP,
      mtu: mtuOf(f, c.iface, 1500),
      qdisc: "noqueue",
      operstate: "UP",
      group: "default",
      txqlen: 1000,
      link_type: "ether",
      address: n.eth0Mac,
      broadcast: "ff:ff:ff:ff:ff:ff",
      link_netnsid: 0,
      addr_info: [{ family: "inet", local: n.internalIP, prefixlen: c.underlay.prefixLength, scope: "global", label: c.iface, ...FOREVER }, inet6(n.eth0Mac)],
    },
    {
      ifindex: IFINDEX.veth,
      link_index: 2,
      ifname: "veth0",
      flags: UP,
      mtu: mtuOf(f, "veth0", OVERLAY_MTU),
      qdisc: "noqueue",
      master: "cni0",
      operstate: "UP",
      group: "default",
      txqlen: 1000,
      link_type: "ether",
      address: n.cni0Mac,
      broadcast: "ff:ff:ff:ff:ff:ff",
      link_netnsid: 1,
      addr_info: [inet6(n.cni0Mac)],
    },
  ]);
}

/** `ip -j addr show` inside the node's pod agent. */
export function podAddrShow(n: SynthNode): string {
  return JSON.stringify([
    loopback(),
    {
      ifindex: 2,
      link_index: IFINDEX.veth,
      ifname: "eth0",
      flags: UP,
      mtu: OVERLAY_MTU,
      qdisc: "noqueue",
      operstate: "UP",
      group: "default",
      txqlen: 1000,
      link_type: "ether",
      address: n.podMac,
      broadcast: "ff:ff:ff:ff:ff:ff",
      link_netnsid: 0,
      addr_info: [{ family: "inet", local: n.podIP, prefixlen: 24, scope: "global", label: "eth0", ...FOREVER }, inet6(n.podMac)],
    },
  ]);
}

/** flannel's three entries for a peer, as iproute2 prints them (also with placeholders, for the agent's template). */
export const flannelRoute = (dev: string, cidr: string, gw: string) => ({ dst: cidr, gateway: gw, dev, flags: ["onlink"] });
export const flannelNeighbour = (dev: string, gw: string, mac: string) => ({ dst: gw, dev, lladdr: mac, state: ["PERMANENT"] });
export const flannelFdb = (dev: string, mac: string, ip: string) => ({ mac, ifname: dev, dst: ip, flags: ["self"], state: "permanent" });

/**
 * Numeric order of the kernel's table dump: the underlay's connected route
 * sorts by its address like the rest. `peers` (all nodes by default) are the
 * nodes whose pod CIDR routes are listed, the node itself among them.
 */
export function routeShow(c: SynthCluster, n: SynthNode, f: NodeFaults, peers: readonly SynthNode[] = c.nodes): string {
  const dev = c.vxlanDevice;
  const routes: { key: number; route: object }[] = peers
    .filter((p) => !f.deletedRoutes.has(p.podCIDR))
    .map((p) =>
      p === n
        ? { key: p.index, route: { dst: p.podCIDR, dev: "cni0", protocol: "kernel", scope: "link", prefsrc: n.cni0IP, flags: [] } }
        : { key: p.index, route: flannelRoute(dev, p.podCIDR, p.flannelIP) },
    );
  const connected = { dst: c.underlay.cidr, dev: c.iface, protocol: "kernel", scope: "link", prefsrc: n.internalIP, flags: [] };
  // pod CIDRs are 10.x or lower in the usual layouts; keep the kernel's order by comparing first octets
  const podFirst = Number(c.scenario.flannel.network.split(".")[0]) < Number(c.underlay.cidr.split(".")[0]);
  const ordered = routes.map((r) => r.route);
  return JSON.stringify([
    { dst: "default", gateway: c.underlay.gateway, dev: c.iface, flags: [] },
    ...(podFirst ? [...ordered, connected] : [connected, ...ordered]),
  ]);
}

export function vxlanShow(c: SynthCluster, n: SynthNode, f: NodeFaults): string {
  const { vni, port } = c.scenario.flannel;
  return JSON.stringify([
    {
      ifindex: IFINDEX.vxlan,
      ifname: c.vxlanDevice,
      flags: UP,
      mtu: mtuOf(f, c.vxlanDevice, OVERLAY_MTU),
      qdisc: "noqueue",
      operstate: "UNKNOWN",
      linkmode: "DEFAULT",
      group: "default",
      txqlen: 1000,
      link_type: "ether",
      address: vtepMacOf(n, f),
      broadcast: "ff:ff:ff:ff:ff:ff",
      promiscuity: 0,
      allmulti: 0,
      min_mtu: 68,
      max_mtu: 65535,
      linkinfo: {
        info_kind: "vxlan",
        info_data: {
          id: vni,
          local: n.internalIP,
          link: c.iface,
          port_range: { low: 0, high: 0 },
          port,
          learning: false,
          ttl: 0,
          df: "unset",
          ageing: 300,
          udp_csum: true,
          udp_zero_csum6_tx: false,
          udp_zero_csum6_rx: false,
        },
      },
      inet6_addr_gen_mode: "eui64",
      num_tx_queues: 1,
      num_rx_queues: 1,
      gso_max_size: 65536,
      gso_max_segs: 65535,
      tso_max_size: 524280,
      tso_max_segs: 65535,
      gro_max_size: 65536,
    },
  ]);
}

function multicastFdb(ifname: string, mac: string, extra: string[] = []) {
  const tail = mac.split(":").slice(3).join(":");
  return ["33:33:00:00:00:01", ...extra, "01:00:5e:00:00:01", `33:33:ff:${tail}`].map((m) => ({ mac: m, ifname, flags: ["self"], state: "permanent" }));
}

/** The VTEP address n's FDB entry for peer p sends to. */
const fdbDestination = (f: NodeFaults, p: SynthNode): string => f.staleFdb.get(p.name) ?? p.internalIP;

/** `peers`: the nodes whose flannel entries are listed (all by default; the node itself never is). */
export function fdbShow(c: SynthCluster, n: SynthNode, f: NodeFaults, peers: readonly SynthNode[] = c.nodes): string {
  const dev = c.vxlanDevice;
  return JSON.stringify([
    ...multicastFdb("cni0", n.cni0Mac, ["01:00:5e:00:00:6a", "33:33:00:00:00:6a"]),
    ...peers.filter((p) => p !== n).map((p) => flannelFdb(dev, p.vtepMac, fdbDestination(f, p))),
    ...multicastFdb(c.iface, n.eth0Mac),
    { mac: n.podMac, ifname: "veth0", flags: [], master: "cni0", state: "" },
    { mac: n.cni0Mac, ifname: "veth0", flags: [], master: "cni0", state: "permanent" },
    ...multicastFdb("veth0", n.cni0Mac),
  ]);
}

export function neighShow(c: SynthCluster, n: SynthNode, peers: readonly SynthNode[] = c.nodes): string {
  return JSON.stringify(peers.filter((p) => p !== n).map((p) => flannelNeighbour(c.vxlanDevice, p.flannelIP, p.vtepMac)));
}

const SYSCTL_DEFAULTS: Record<string, string> = { "net.ipv4.ip_forward": "1", "net.ipv4.conf.all.rp_filter": "0", "net.ipv4.conf.default.rp_filter": "0" };

/** A sysctl's value on the node, by dotted key. */
export function sysctlValue(f: NodeFaults, key: string): string | undefined {
  return f.sysctls[key] ?? SYSCTL_DEFAULTS[key];
}

/** `cat /proc/sys/…` of several files: their values, or cat's complaint and exit 1. */
export function catFiles(f: NodeFaults, files: string[]): { stdout: string; stderr: string; exitCode: number } {
  let stdout = "";
  let stderr = "";
  for (const file of files) {
    const value = file.startsWith("/proc/sys/") ? sysctlValue(f, file.slice("/proc/sys/".length).replaceAll("/", ".")) : undefined;
    if (value === undefined) stderr += `cat: ${file}: No such file or directory\n`;
    else stdout += `${value}\n`;
  }
  return { stdout, stderr, exitCode: stderr ? 1 : 0 };
}

// The ways a host's flannel entries go wrong, as changes to captured or
// built evidence: the cases the overlay compaction (overlay-templates.test.ts)
// and the agent's folding of the same tables (agent-overlay-fold.test.ts)
// must both get right.
import type { CheckEvidence, HostEvidence } from "../../src/model/index.js";
import { buildEvidence, nthAddress } from "./fixture-builder.js";

export type Mutation = (host: HostEvidence, ev: CheckEvidence) => string | undefined;

// The ways a peer's entries differ from flannel's pattern, each on one entry.
export const mutations: Record<string, Mutation> = {
  "FDB entry sends elsewhere": (h) => {
    const e = h.fdb?.find((f) => f.dev.startsWith("flannel"));
    if (!e) return undefined;
    e.dst = "192.0.2.77";
    return e.mac;
  },
  "neighbour with a stale MAC": (h) => {
    const n = h.neighbours?.find((x) => x.dev.startsWith("flannel"));
    if (!n) return undefined;
    n.lladdr = "02:00:00:00:00:99";
    return n.dst;
  },
  "route missing": (h) => {
    const i = h.routes?.findIndex((r) => r.dev?.startsWith("flannel")) ?? -1;
    return i < 0 ? undefined : h.routes!.splice(i, 1)[0]!.dst;
  },
  "neighbour missing": (h) => {
    const i = h.neighbours?.findIndex((n) => n.dev.startsWith("flannel")) ?? -1;
    return i < 0 ? undefined : h.neighbours!.splice(i, 1)[0]!.dst;
  },
  "FDB entry twice": (h) => {
    const e = h.fdb?.find((f) => f.dev.startsWith("flannel"));
    if (!e) return undefined;
    h.fdb!.push({ ...e, dst: "192.0.2.78" });
    return e.mac;
  },
  "a more specific blackhole inside a peer's pod CIDR": (h) => {
    const r = h.routes?.find((x) => x.dev?.startsWith("flannel"));
    if (!r) return undefined;
    h.routes!.push({ dst: r.dst.replace(/\/\d+$/, "/25"), type: "blackhole", onlink: false });
    return r.dst;
  },
  "route through cni0": (h) => {
    const r = h.routes?.find((x) => x.dev?.startsWith("flannel"));
    if (!r) return undefined;
    r.dev = "cni0";
    return r.dst;
  },
  "peer's VtepMAC annotation changed": (h, ev) => {
    const peer = ev.snapshot.nodes.find((n) => n.name !== h.node && n.flannel.vtepMac);
    if (!peer) return undefined;
    peer.flannel.vtepMac = "02:00:00:00:00:98";
    return peer.name;
  },
};

// Faults that make two peers' lookups meet (found by review): a compacted entry must never answer for another peer.
/** A flat LAN of `count` healthy flannel nodes, node-0 …, pod CIDRs 10.0.<i>.0/24. */
export function lanCluster(cluster: string, count: number): CheckEvidence {
  return buildEvidence({
    cluster,
    networks: [{ name: "lan", gateway: "10.128.0.1" }],
    nodes: Array.from({ length: count }, (_, i) => ({
      name: `node-${i}`,
      podCIDR: `10.0.${i}.0/24`,
      interfaces: [{ name: "eth0", network: "lan", address: `${nthAddress("10.128.0.0/16", i + 2)}/16` }],
    })),
    flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", network: "10.0.0.0/8", args: ["--ip-masq", "--kube-subnet-mgr"] },
  });
}
const on = (ev: CheckEvidence, name: string) => ev.hosts.find((h) => h.node === name)!;
const failTo = (ev: CheckEvidence, name: string) => {
  for (const m of ev.matrix) if (m.to === name && m.kind !== "underlay-icmp") Object.assign(m, { ok: false, error: "timeout", rttMs: undefined });
};

export const sharedLookups: Record<string, (ev: CheckEvidence) => void> = {
  "two peers with one VtepMAC (cloned VMs), one FDB entry for it": (ev) => {
    const [one, two] = [ev.snapshot.nodes[1]!, ev.snapshot.nodes[2]!];
    const old = two.flannel.vtepMac!;
    two.flannel.vtepMac = one.flannel.vtepMac;
    for (const h of ev.hosts.filter((x) => x.node !== one.name && x.node !== two.name)) {
      h.fdb = h.fdb!.filter((e) => e.mac !== old);
      h.fdb.find((e) => e.mac === one.flannel.vtepMac)!.dst = two.flannel.publicIP!;
      for (const n of h.neighbours!) if (n.lladdr === old) n.lladdr = one.flannel.vtepMac;
    }
  },
  "two peers with one podCIDR, one route and neighbour for it": (ev) => {
    ev.snapshot.nodes[2]!.podCIDR = "10.0.1.0/24";
    const h = on(ev, "node-0");
    h.routes = h.routes!.filter((r) => r.dst !== "10.0.2.0/24");
    h.neighbours = h.neighbours!.filter((n) => n.dst !== "10.0.2.0");
  },
  "a /24 inside another peer's /16, its route missing": (ev) => {
    ev.snapshot.nodes[1]!.podCIDR = "10.1.0.0/16";
    ev.snapshot.nodes[2]!.podCIDR = "10.1.5.0/24";
    const h = on(ev, "node-0");
    h.routes = h.routes!.filter((r) => r.dst !== "10.0.2.0/24").map((r) => (r.dst === "10.0.1.0/24" ? { ...r, dst: "10.1.0.0/16", gateway: "10.1.0.0" } : r));
    h.neighbours = h.neighbours!.filter((n) => n.dst !== "10.0.2.0").map((n) => (n.dst === "10.0.1.0" ? { ...n, dst: "10.1.0.0" } : n));
  },
  "a /24 and a /16 at one network address": (ev) => {
    ev.snapshot.nodes[1]!.podCIDR = "10.1.0.0/24";
    ev.snapshot.nodes[2]!.podCIDR = "10.1.0.0/16";
    const h = on(ev, "node-0");
    h.routes = h.routes!.map((r) =>
      r.dst === "10.0.1.0/24"
        ? { ...r, dst: "10.1.0.0/24", gateway: "10.1.0.0" }
        : r.dst === "10.0.2.0/24"
          ? { ...r, dst: "10.1.0.0/16", gateway: "10.1.0.0" }
          : r,
    );
    h.neighbours = h.neighbours!.map((n) => (n.dst === "10.0.1.0" ? { ...n, dst: "10.1.0.0" } : n)).filter((n) => n.dst !== "10.0.2.0");
  },
  "a route via another peer's lease address": (ev) => {
    const h = on(ev, "node-0");
    h.routes = h.routes!.map((r) => (r.dst === "10.0.1.0/24" ? { ...r, gateway: "10.0.2.0" } : r));
    h.neighbours = h.neighbours!.filter((n) => n.dst !== "10.0.1.0");
  },
  "a node listed twice, its public-ip held by no node": (ev) => {
    const one = ev.snapshot.nodes[1]!;
    one.flannel.publicIP = "192.0.2.9";
    for (const h of ev.hosts) for (const e of h.fdb ?? []) if (e.mac === one.flannel.vtepMac) e.dst = "192.0.2.9";
    ev.snapshot.nodes.push(structuredClone(one));
  },
  "a wrong public-ip-overwrite, and another peer's FDB entry sending there too": (ev) => {
    const [one, two] = [ev.snapshot.nodes[1]!, ev.snapshot.nodes[2]!];
    Object.assign(one.flannel, { publicIP: "192.0.2.50", publicIPOverwrite: "192.0.2.50" });
    for (const h of ev.hosts) for (const e of h.fdb ?? []) if (e.mac === one.flannel.vtepMac) e.dst = "192.0.2.50";
    on(ev, "node-0").fdb!.find((e) => e.mac === two.flannel.vtepMac)!.dst = "192.0.2.50";
    failTo(ev, one.name);
  },
  "every VM on one NAT address (the seed's fault)": (ev) => {
    for (const n of ev.snapshot.nodes) n.flannel.publicIP = "10.0.2.15";
    for (const h of ev.hosts) {
      h.interfaces!.push({ name: "enp0s3", index: 9, mac: "08:00:27:00:00:01", up: true, mtu: 1500, addresses: [{ address: "10.0.2.15", prefixLength: 24 }] });
      for (const e of h.fdb ?? []) e.dst = "10.0.2.15";
    }
    for (const m of ev.matrix) if (m.kind !== "underlay-icmp") Object.assign(m, { ok: false, error: "timeout", rttMs: undefined });
  },
  "upper-case VtepMAC annotations": (ev) => {
    for (const n of ev.snapshot.nodes) n.flannel.vtepMac = n.flannel.vtepMac!.toUpperCase();
  },
};

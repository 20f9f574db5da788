// Decides what every agent contacts in the reachability round. Pure.
// Pod agents build the pod matrix (N execs, not N²); host agents check the
// underlay per interface, node→pod and every NodePort. Which peers: all of
// them in a small cluster, a bounded sample plus the suspects' full rows and
// columns in a large one (sample-peers.ts).
import { cidrContains, sameSubnet } from "../diagnosis/ipv4.js";
import type { ClusterSnapshot, HostEvidence, InterfaceInfo, PlannedEntry, PlannedTarget, ReachTarget } from "../model/index.js";
import { samplePeers, type PeerSample } from "./sample-peers.js";

export const POD_AGENT_PORT = 8080;

export interface ReachPlan {
  host: Map<string, PlannedTarget[]>;
  pod: Map<string, PlannedTarget[]>;
}

/**
 * Interfaces that carry node-to-node traffic: not loopback, not flannel's own
 * devices, not the pod bridge or pod veths.
 */
export function underlayInterfaces(host: HostEvidence, podCIDR?: string): InterfaceInfo[] {
  const overlay = new Set((host.vxlan ?? []).map((v) => v.name));
  return (host.interfaces ?? []).filter(
    (i) =>
      i.name !== "lo" &&
      !overlay.has(i.name) &&
      !i.name.startsWith("veth") &&
      i.name !== "cni0" &&
      i.addresses.length > 0 &&
      !(podCIDR && i.addresses.every((a) => cidrContains(podCIDR, a.address))),
  );
}

/** Addresses of `peer` that `from` can address out of `iface`, minus the ones `from` holds itself. */
function peerAddressesVia(iface: InterfaceInfo, peerIfaces: InterfaceInfo[], own: Set<string>): string[] {
  return peerIfaces.flatMap((pi) =>
    pi.addresses.map((a) => a.address).filter((addr) => !own.has(addr) && iface.addresses.some((mine) => sameSubnet(mine.address, addr, mine.prefixLength))),
  );
}

export function planReachTargets(
  snapshot: ClusterSnapshot,
  hosts: HostEvidence[],
  peers: PeerSample = samplePeers(snapshot.nodes.map((n) => n.name)),
): ReachPlan {
  const plan: ReachPlan = { host: new Map(), pod: new Map() };
  const nodeByName = new Map(snapshot.nodes.map((n) => [n.name, n]));
  const byNode = new Map(hosts.map((h) => [h.node, h]));
  const podCIDROf = new Map(snapshot.nodes.map((n) => [n.name, n.podCIDR]));
  const underlay = new Map(hosts.map((h) => [h.node, underlayInterfaces(h, podCIDROf.get(h.node))]));
  const add = (map: Map<string, PlannedTarget[]>, node: string, target: Omit<ReachTarget, "id">, entry: PlannedEntry) => {
    const list = map.get(node) ?? [];
    list.push({ target: { ...target, id: `t${list.length}` }, entry });
    map.set(node, list);
  };

  for (const from of snapshot.nodes) {
    const fromHost = byNode.get(from.name);
    const fromIfaces = underlay.get(from.name) ?? [];
    const own = new Set(fromIfaces.flatMap((i) => i.addresses.map((a) => a.address)));
    const toNodes = peers.peersOf(from.name).map((name) => nodeByName.get(name)!);
    const probed = new Set([from.name, ...toNodes.map((n) => n.name)]);
    for (const to of toNodes) {
      if (fromHost) {
        for (const iface of fromIfaces) {
          for (const address of peerAddressesVia(iface, underlay.get(to.name) ?? [], own)) {
            add(
              plan.host,
              from.name,
              { kind: "icmp", address, iface: iface.name },
              { from: from.name, to: to.name, kind: "underlay-icmp", target: address, via: iface.name },
            );
          }
        }
        if (to.podAgent?.podIP) {
          add(
            plan.host,
            from.name,
            { kind: "icmp", address: to.podAgent.podIP },
            { from: from.name, to: to.name, kind: "node-pod-icmp", target: to.podAgent.podIP },
          );
        }
      }
      if (from.podAgent && to.podAgent?.podIP) {
        const ip = to.podAgent.podIP;
        add(plan.pod, from.name, { kind: "icmp", address: ip }, { from: from.name, to: to.name, kind: "pod-icmp", target: ip });
        add(
          plan.pod,
          from.name,
          { kind: "tcp", address: ip, port: POD_AGENT_PORT },
          { from: from.name, to: to.name, kind: "pod-tcp", target: `${ip}:${POD_AGENT_PORT}` },
        );
      }
    }
    if (!fromHost) continue;
    // NodePorts: the port of the node itself and of every peer it probes, through an address the source can address directly.
    for (const svc of snapshot.services) {
      for (const to of snapshot.nodes.filter((n) => probed.has(n.name))) {
        const address =
          to.name === from.name
            ? (to.internalIP ?? fromIfaces[0]?.addresses[0]?.address)
            : fromIfaces.flatMap((iface) => peerAddressesVia(iface, underlay.get(to.name) ?? [], own))[0];
        if (!address) continue;
        add(
          plan.host,
          from.name,
          { kind: "tcp", address, port: svc.nodePort },
          {
            from: from.name,
            to: to.name,
            kind: "nodeport",
            target: `${address}:${svc.nodePort}`,
            service: `${svc.namespace}/${svc.name}`,
          },
        );
      }
    }
  }
  return plan;
}

// add-routes plans: flannel's own route put back (route-missing), or pod
// CIDRs routed over an interface proven to reach the peers, around a broken
// VXLAN path (vtep-wrong-interface).
import type { CheckEvidence, RemediationPlan } from "../../model/index.js";
import { backendOf, flannelDevice, hostOf, nodeNamed, vtepInterface } from "../cluster-view.js";
import { networkAddress } from "../ipv4.js";
import type { EntryProblem } from "../overlay-entries.js";
import type { ProvenInterface } from "../underlay-proof.js";
import { commandPlan, type NodeCommand } from "./command-plan.js";
import { flannelRestartCommand } from "./plan-flannel-restart.js";

/** One route per (node, peer): the peer's podCIDR via the address the node's proven interface reached it at. */
export function planUnderlayRoutes(ev: CheckEvidence, chosen: ReadonlyMap<string, ProvenInterface>): RemediationPlan | undefined {
  const commands: NodeCommand[] = [];
  for (const [node, proven] of chosen) {
    for (const peer of ev.snapshot.nodes) {
      const via = proven.reach.get(peer.name)?.target;
      if (peer.name === node || !peer.podCIDR || !via) continue;
      commands.push({ node, argv: ["ip", "route", "replace", peer.podCIDR, "via", via, "dev", proven.iface] });
    }
  }
  if (commands.length === 0) return undefined;
  return commandPlan(
    "add-routes",
    "Route each node's pod CIDR to it directly over the interface proven to reach it, bypassing the broken VXLAN path",
    commands,
    false,
    [
      "Lost at reboot: the routes are not persistent. To keep them until flannel is fixed, add them to the node's network configuration (a netplan `routes:` entry, a NetworkManager connection's routes, or `up ip route replace …` in /etc/network/interfaces).",
      "flannel replaces a route for the same prefix whenever it re-programs that peer (its restart, a change of the peer's Node), which puts the traffic back on the broken VXLAN path; fix flannel's interface for good.",
      "Packets travel unencapsulated, like flannel's host-gw backend: this works only while the nodes share that network.",
      "Routes are needed in both directions: apply them on every listed node.",
    ],
  );
}

/** The route flannel programs for each peer whose route is missing (route-missing problems). */
export function planRestoreFlannelRoutes(ev: CheckEvidence, problems: readonly EntryProblem[]): RemediationPlan | undefined {
  const commands = problems.flatMap((p): NodeCommand[] => {
    const node = nodeNamed(ev, p.node);
    const peer = p.peer === undefined ? undefined : nodeNamed(ev, p.peer);
    const cidr = peer?.podCIDR;
    if (!node || !peer || !cidr) return [];
    if (backendOf(ev, node) === "host-gw") {
      const dev = vtepInterface(ev, p.node)?.name;
      const via = peer.flannel.publicIP;
      return dev && via ? [{ node: p.node, argv: ["ip", "route", "replace", cidr, "via", via, "dev", dev] }] : [];
    }
    const device = flannelDevice(ev, hostOf(ev, p.node));
    const lease = networkAddress(cidr);
    return device && lease ? [{ node: p.node, argv: ["ip", "route", "replace", cidr, "via", lease, "dev", device.name, "onlink"] }] : [];
  });
  if (commands.length === 0) return undefined;
  return commandPlan("add-routes", "Put back the routes flannel programs for the peers' pod CIDRs", commands, false, [
    "Not persistent, but flannel programs the same route itself when it starts; if the route disappears again, something else on the node deletes it (a network manager, a cleanup script).",
    `For VXLAN the route relies on flannel's neighbour and FDB entries for that peer; if those are missing too, restart flannel (${[...new Set(commands.map((c) => c.node))].map((n) => flannelRestartCommand(ev, n)).join("; ")}).`,
  ]);
}

// Breaks a programmed lab the way real clusters break (flannel-notes.md,
// "Failure causes"). Applied after flannel has programmed the nodes.
import type { Scenario, ScenarioFault } from "../scenario.js";
import { bridgeBatch, ipBatch } from "./exec.js";
import { FLANNEL_FORWARD_JUMP, type FlannelPeer } from "./flannel.js";
import { addressOf, hostAddress, parseCidr } from "./ipv4.js";
import { deleteRule, iptables } from "./iptables.js";
import { linkName } from "./names.js";
import { writeSysctls } from "./sysctl.js";
import type { LabTopology } from "./topology.js";

/**
 * `peers` are the current flannel leases (as programPeers receives them);
 * only stale-fdb needs them, for the peer's VtepMAC and public IP.
 */
export async function applyFault(topo: LabTopology, s: Scenario, fault: ScenarioFault, peers: readonly FlannelPeer[]): Promise<void> {
  const netns = topo.nodes[fault.node]?.netns;
  if (!netns) throw new Error(`fault ${fault.kind}: unknown node ${fault.node}`);
  switch (fault.kind) {
    case "drop-udp":
      await iptables(netns, "filter", ["-A", "INPUT", "-p", "udp", "-m", "udp", "--dport", String(fault.port), "-j", "DROP"]);
      return;
    case "drop-tcp":
      // Before kube-proxy's DNAT, so forwarded NodePort traffic is caught; the node's own connections never pass PREROUTING.
      await iptables(netns, "mangle", ["-A", "PREROUTING", "-p", "tcp", "-m", "tcp", "--dport", String(fault.port), "-j", "DROP"]);
      return;
    case "forward-policy-drop":
      // Docker >= 1.13 sets the policy; the lost flannel jump leaves nothing accepting pod traffic.
      await iptables(netns, "filter", ["-P", "FORWARD", "DROP"]);
      await deleteRule(netns, "filter", "FORWARD", FLANNEL_FORWARD_JUMP);
      return;
    case "sysctl":
      await writeSysctls(netns, { [fault.key]: fault.value });
      return;
    case "mtu":
      await ipBatch(netns, [["link", "set", fault.interface, "mtu", String(fault.mtu)]]);
      return;
    case "delete-route":
      await ipBatch(netns, [["route", "delete", fault.to]]);
      return;
    case "stale-fdb": {
      const peer = peers.find((p) => p.node === fault.peer);
      if (!peer?.vtepMac) throw new Error(`fault stale-fdb: no VXLAN lease with a VtepMAC for peer ${fault.peer}`);
      const dst = unusedAddressNear(s, fault.peer, peer.publicIP);
      await bridgeBatch(netns, [["fdb", "replace", peer.vtepMac, "dev", linkName.vxlan(s.flannel.vni), "dst", dst, "self", "permanent"]]);
      return;
    }
  }
}

/**
 * An address in the network of the peer's public IP that no node interface
 * and no gateway holds (searched from the top of the network down), so an FDB
 * entry pointing there leads nowhere.
 */
function unusedAddressNear(s: Scenario, peerNode: string, publicIP: string): string {
  const iface = s.nodes.find((n) => n.name === peerNode)?.interfaces.find((f) => addressOf(f.address) === publicIP);
  const cidr = iface?.address ?? `${publicIP}/24`;
  const used = new Set([
    ...s.nodes.flatMap((n) => n.interfaces.map((f) => addressOf(f.address))),
    ...s.networks.flatMap((n) => (n.gateway ? [n.gateway] : [])),
  ]);
  for (let n = parseCidr(cidr).size - 2; n >= 1; n--) {
    const candidate = hostAddress(cidr, n);
    if (!used.has(candidate)) return candidate;
  }
  throw new Error(`stale-fdb: no unused address in ${cidr}`);
}

// Breaks a programmed lab the way real clusters break (flannel-notes.md,
// "Failure causes"). Applied after flannel has programmed the nodes. A fault
// acts in its node's namespace, or (underlay-drop) in its network's, whose
// bridge stands for everything between the nodes. iptables faults use the
// system's iptables (flannel's backend for forward-policy-drop); nft-drop and
// underlay-drop load native nftables tables that no iptables-save shows.
import type { Scenario, ScenarioFault } from "../scenario.js";
import { bridgeBatch, inNetns, ipBatch, run } from "./exec.js";
import { FLANNEL_FORWARD_JUMP, flannelIptablesBackend, randomMac, type FlannelPeer } from "./flannel.js";
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
  const netns = faultNetns(topo, fault);
  switch (fault.kind) {
    case "drop-udp":
      await iptables(netns, "filter", ["-A", "INPUT", "-p", "udp", "-m", "udp", "--dport", String(fault.port), "-j", "DROP"]);
      return;
    case "drop-tcp":
      // Before kube-proxy's DNAT, so forwarded NodePort traffic is caught; the node's own connections never pass PREROUTING.
      await iptables(netns, "mangle", ["-A", "PREROUTING", "-p", "tcp", "-m", "tcp", "--dport", String(fault.port), "-j", "DROP"]);
      return;
    case "forward-policy-drop": {
      // Docker >= 1.13 sets the policy; the lost flannel jump leaves nothing accepting pod traffic.
      const backend = flannelIptablesBackend(s, fault.node);
      await iptables(netns, "filter", ["-P", "FORWARD", "DROP"], false, backend);
      await deleteRule(netns, "filter", "FORWARD", FLANNEL_FORWARD_JUMP, backend);
      return;
    }
    case "nft-drop":
      await nftLoad(netns, await firewalldDropRuleset(netns, fault.proto, fault.port, fault.hook));
      return;
    case "underlay-drop":
      await nftLoad(netns, underlayDropRuleset(fault.proto, fault.port));
      return;
    case "iptables-backend-split":
      // flanneld already wrote FLANNEL-FWD and its FORWARD jump with iptables-legacy on this node
      // (flannelIptablesBackend); the nft backend gets Docker's policy and nothing that accepts pod traffic.
      if (flannelIptablesBackend(s, fault.node) !== "legacy")
        throw new Error(`fault ${fault.kind}: flannel's rules on ${fault.node} are not in iptables-legacy`);
      await iptables(netns, "filter", ["-P", "FORWARD", "DROP"], false, "nft");
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
    case "cni0-address":
      // The CNI bridge plugin only ever adds cni0's address; one left from an old podCIDR stays, and with it
      // the connected route to the current podCIDR is gone (the pods' gateway address too).
      await ipBatch(netns, [
        ["address", "flush", "dev", linkName.podBridge],
        ["address", "add", fault.address, "dev", linkName.podBridge],
      ]);
      return;
    case "vtep-mac-change":
      // A new MAC on flannel.<vni> only; the annotation and the peers' entries still name the old one.
      await ipBatch(netns, [["link", "set", linkName.vxlan(s.flannel.vni), "address", randomMac()]]);
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

/** The namespace a fault breaks: its node's, or (underlay-drop) its network's. */
function faultNetns(topo: LabTopology, fault: ScenarioFault): string {
  if ("network" in fault) {
    const netns = topo.networks[fault.network]?.netns;
    if (!netns) throw new Error(`fault ${fault.kind}: unknown network ${fault.network}`);
    return netns;
  }
  const netns = topo.nodes[fault.node]?.netns;
  if (!netns) throw new Error(`fault ${fault.kind}: unknown node ${fault.node}`);
  return netns;
}

/** The table firewalld's nftables backend (firewalld >= 0.6) keeps all its rules in. */
export const FIREWALLD_TABLE = { family: "inet", name: "firewalld" } as const;
/** The bridge-family table an underlay-drop puts in a network's namespace. */
export const UNDERLAY_TABLE = { family: "bridge", name: "underlay-firewall" } as const;

/** `nft -f -` in the namespace: the whole text is one transaction. */
async function nftLoad(netns: string, ruleset: string): Promise<void> {
  await run(inNetns(netns, ["nft", "-f", "-"]), { input: ruleset });
}

/**
 * firewalld's base chain for `hook`, as its nftables backend declares it:
 * priority filter + 10, so it runs after iptables' filter chains, policy
 * accept. The chain (with the first rules firewalld puts in it: established
 * traffic and loopback accepted) is created once; each fault adds its drop,
 * so two nft-drop faults on one node share the table as firewalld's would.
 * (Real firewalld reaches its drops through zone chains, ending in a reject;
 * one rule in the base chain keeps the evidence readable.)
 */
export async function firewalldDropRuleset(netns: string, proto: "udp" | "tcp", port: number, hook: "input" | "forward"): Promise<string> {
  const { family, name } = FIREWALLD_TABLE;
  const chain = hook === "input" ? "filter_INPUT" : "filter_FORWARD";
  const exists = (await run(inNetns(netns, ["nft", "list", "chain", family, name, chain]), { allowFail: true })).code === 0;
  return [
    ...(exists
      ? []
      : [
          `table ${family} ${name} {`,
          `  chain ${chain} {`,
          `    type filter hook ${hook} priority filter + 10; policy accept;`,
          "    ct state { established, related } accept",
          '    iifname "lo" accept',
          "  }",
          "}",
        ]),
    `add rule ${family} ${name} ${chain} ${proto} dport ${port} drop`,
    "",
  ].join("\n");
}

/**
 * A filter on the bridge of a network namespace: frames between two ports of
 * the segment (node to node) carrying `<proto> dport <port>` are dropped, as
 * a security group or a hypervisor firewall would. Traffic to the network's
 * own gateway address is not forwarded by the bridge and stays untouched.
 */
export function underlayDropRuleset(proto: "udp" | "tcp", port: number): string {
  const { family, name } = UNDERLAY_TABLE;
  return [
    `table ${family} ${name} {`,
    "  chain forward {",
    "    type filter hook forward priority filter; policy accept;",
    "  }",
    "}",
    `add rule ${family} ${name} forward ${proto} dport ${port} drop`,
    "",
  ].join("\n");
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
    ...s.nodes.flatMap((n) => n.interfaces.flatMap((f) => [f.address, ...(f.extraAddresses ?? [])].map(addressOf))),
    ...s.networks.flatMap((n) => (n.gateway ? [n.gateway] : [])),
  ]);
  for (let n = parseCidr(cidr).size - 2; n >= 1; n--) {
    const candidate = hostAddress(cidr, n);
    if (!used.has(candidate)) return candidate;
  }
  throw new Error(`stale-fdb: no unused address in ${cidr}`);
}

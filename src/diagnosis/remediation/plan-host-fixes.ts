// Fixes run on a node through its host agent: open the VXLAN port, accept
// pod traffic in FORWARD, turn on ip_forward. None survives a reboot.
import type { RemediationPlan } from "../../model/index.js";
import { joinNames } from "../evidence-lines.js";
import type { IptablesTool } from "../iptables-views.js";
import type { NftOpeningSpot } from "../vxlan-firewall.js";
import { commandPlan } from "./command-plan.js";

/** A node whose built-in iptables `table` `chain` drops VXLAN from a peer's VTEP address. */
export interface IptablesVxlanOpening {
  node: string;
  table: string;
  chain: string;
  peerAddress: string;
  /** the backend whose ruleset drops (its own tool writes the accept); plain iptables when unknown */
  tool?: IptablesTool;
}

/** A node whose nftables drop it: the accept goes into the table and chain of the drop, right before the dropping rule (`beforeHandle`), or at the top of a base chain whose policy drops. */
export interface NftVxlanOpening {
  node: string;
  nft: NftOpeningSpot;
  peerAddress: string;
}

export type VxlanPortOpening = IptablesVxlanOpening | NftVxlanOpening;

/** The comment on the rules xnode inserts into nftables, so people (and `nft list`) can tell them apart. */
export const NFT_RULE_COMMENT = "xnode-open-vxlan-port";

/** `nft insert rule inet firewalld filter_INPUT position 5 ip saddr { a, b } udp dport 8472 accept comment xnode-open-vxlan-port` */
export function nftAcceptArgv(spot: NftOpeningSpot, sources: readonly string[], proto: "udp" | "tcp", port: number): string[] {
  const saddr = sources.length === 1 ? sources[0]! : `{ ${sources.join(", ")} }`;
  const position = spot.beforeHandle !== undefined ? ["position", String(spot.beforeHandle)] : [];
  return [
    "nft",
    "insert",
    "rule",
    spot.family,
    spot.table,
    spot.chain,
    ...position,
    "ip",
    "saddr",
    saddr,
    proto,
    "dport",
    String(port),
    "accept",
    "comment",
    NFT_RULE_COMMENT,
  ];
}

/** One nft rule per place that drops, accepting all the peers that meet it there. */
function nftCommands(port: number, openings: readonly NftVxlanOpening[]): { node: string; argv: string[] }[] {
  const groups = new Map<string, { node: string; spot: NftOpeningSpot; peers: string[] }>();
  for (const o of openings) {
    const key = JSON.stringify([o.node, o.nft.family, o.nft.table, o.nft.chain, o.nft.beforeHandle ?? null]);
    const group = groups.get(key) ?? { node: o.node, spot: o.nft, peers: [] };
    if (!group.peers.includes(o.peerAddress)) group.peers.push(o.peerAddress);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => ({ node: g.node, argv: nftAcceptArgv(g.spot, g.peers, "udp", port) }));
}

export function planOpenVxlanPort(port: number, openings: readonly VxlanPortOpening[]): RemediationPlan | undefined {
  const nft = openings.filter((o): o is NftVxlanOpening => "nft" in o);
  const iptables = openings.filter((o): o is IptablesVxlanOpening => !("nft" in o));
  const commands = [
    ...iptables.map((o) => ({
      node: o.node,
      argv: [
        ...iptablesTool(o.tool),
        ...(o.table === "filter" ? [] : ["-t", o.table]),
        "-I",
        o.chain,
        "1",
        "-p",
        "udp",
        "--dport",
        String(port),
        "-s",
        o.peerAddress,
        "-j",
        "ACCEPT",
      ],
    })),
    ...nftCommands(port, nft),
  ];
  if (commands.length === 0) return undefined;
  const firewalld = nft.some((o) => o.nft.table === "firewalld");
  return commandPlan(
    "open-vxlan-port",
    `Accept VXLAN (udp ${port}) from the other nodes' VTEP addresses on ${joinNames([...new Set(openings.map((o) => o.node))])}`,
    commands,
    false,
    [
      "Not persistent: lost at reboot or when the firewall (firewalld, ufw, a script) reloads its rules; add the same allowance to that firewall's own configuration.",
      `Only the peers' VTEP addresses are allowed; a node added later, or one whose VTEP address changes, needs its own rule.`,
      ...(nft.length > 0
        ? [
            `The nftables accept goes into the table and chain that drop, right before the dropping rule: an accept in another table or chain would not stop it (every base chain of the hook runs).`,
          ]
        : []),
      ...(firewalld
        ? [
            `firewalld rebuilds its table on \`firewall-cmd --reload\` and at restart, dropping the rule: make it permanent with \`firewall-cmd --permanent --add-rich-rule='rule family="ipv4" source address="<peer>" port port="${port}" protocol="udp" accept'\` per peer, then \`firewall-cmd --reload\`.`,
          ]
        : []),
    ],
  );
}

/**
 * A node's FORWARD ruleset that drops pod traffic; `byPolicy` when the policy
 * decides (appending suffices), else a rule does. `tool` edits that ruleset:
 * `iptables` (the default) or the backend's own, iptables-legacy or iptables-nft.
 */
export interface ForwardOpening {
  node: string;
  byPolicy: boolean;
  tool?: IptablesTool;
}

/** The command head for a ruleset: legacy writes take the xtables lock (-w waits for it, as kube-proxy and flannel do). */
function iptablesTool(tool: IptablesTool = "iptables"): string[] {
  return tool === "iptables-legacy" ? [tool, "-w"] : [tool];
}

export function planForwardAccept(network: string | undefined, openings: readonly ForwardOpening[]): RemediationPlan | undefined {
  if (network === undefined || openings.length === 0) return undefined;
  // Behind a dropping rule an appended ACCEPT would never be reached: insert at the top instead.
  const position = (o: ForwardOpening) => (o.byPolicy ? ["-A", "FORWARD"] : ["-I", "FORWARD", "1"]);
  const commands = openings.flatMap((o) =>
    ["-s", "-d"].map((dir) => ({ node: o.node, argv: [...iptablesTool(o.tool), ...position(o), dir, network, "-j", "ACCEPT"] })),
  );
  const named = [...new Set(openings.flatMap((o) => (o.tool && o.tool !== "iptables" ? [o.tool] : [])))];
  return commandPlan(
    "set-forward-accept",
    `Accept forwarded traffic from and to the pod network ${network} on ${joinNames([...new Set(openings.map((o) => o.node))])}`,
    commands,
    false,
    [
      "Not persistent: lost at reboot or when Docker, firewalld or another tool rewrites FORWARD; restarting flannel also restores its own FLANNEL-FWD rules (unless it runs with --iptables-forward-rules=false).",
      `Accepts all forwarded traffic of ${network}, as flannel's own FLANNEL-FWD chain does.`,
      ...(named.length > 0
        ? [
            `Written with ${named.join(" and ")}, into the backend whose FORWARD drops: both backends' hooks run, so an ACCEPT in the other one would change nothing.`,
          ]
        : []),
    ],
  );
}

export function planEnableIpForward(nodes: readonly string[]): RemediationPlan | undefined {
  if (nodes.length === 0) return undefined;
  return commandPlan(
    "enable-ip-forward",
    `Turn on IPv4 forwarding on ${joinNames(nodes)}`,
    nodes.map((node) => ({ node, argv: ["sysctl", "-w", "net.ipv4.ip_forward=1"] })),
    false,
    [
      "Not persistent: to keep it after a reboot, put `net.ipv4.ip_forward = 1` in a file under /etc/sysctl.d/ (e.g. /etc/sysctl.d/99-kubernetes.conf) on the node.",
      "Whatever turned it off (a hardening profile, a sysctl file with ip_forward = 0) may turn it off again at the next boot or `sysctl --system`.",
    ],
  );
}

/** A node whose cni0 holds `stale` addresses outside its podCIDR; `gateway` ("10.244.1.1/24") is what the CNI bridge plugin wants there. */
export interface Cni0Repair {
  node: string;
  gateway: string;
  /** whether cni0 already holds the gateway (then only the stale addresses go) */
  hasGateway: boolean;
  stale: string[];
}

export function planFixCni0Address(repairs: readonly Cni0Repair[]): RemediationPlan | undefined {
  // the gateway first: the connected route to the pods comes back before the stale address goes
  const commands = repairs.flatMap((r) => [
    ...(r.hasGateway ? [] : [{ node: r.node, argv: ["ip", "addr", "add", r.gateway, "dev", "cni0"] }]),
    ...r.stale.map((address) => ({ node: r.node, argv: ["ip", "addr", "del", address, "dev", "cni0"] })),
  ]);
  if (commands.length === 0) return undefined;
  return commandPlan(
    "fix-cni0-address",
    `Give cni0 its podCIDR's gateway address and remove the stale one on ${joinNames(repairs.map((r) => r.node))}`,
    commands,
    // the address itself is gone at reboot, but so is cni0: the bridge plugin then recreates it with the gateway
    true,
    [
      "Pods started while cni0 had the stale address may have failed or kept a stale configuration: delete the node's pods stuck in ContainerCreating so they are created again.",
      "At a reboot cni0 is recreated and the CNI bridge plugin gives it the gateway itself, as long as the node's podCIDR stays the same.",
      "Whatever reassigned the address (a network manager configured for cni0, an old script) may do it again: make it leave cni0 alone.",
    ],
  );
}

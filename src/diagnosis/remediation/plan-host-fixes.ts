// Fixes run on a node through its host agent: open the VXLAN port, accept
// pod traffic in FORWARD, turn on ip_forward. None survives a reboot.
import type { RemediationPlan } from "../../model/index.js";
import { joinNames } from "../evidence-lines.js";
import type { IptablesTool } from "../iptables-views.js";
import { commandPlan } from "./command-plan.js";

/** A node whose built-in `table` `chain` drops VXLAN from a peer's VTEP address. */
export interface VxlanPortOpening {
  node: string;
  table: string;
  chain: string;
  peerAddress: string;
}

export function planOpenVxlanPort(port: number, openings: readonly VxlanPortOpening[]): RemediationPlan | undefined {
  const commands = openings.map((o) => ({
    node: o.node,
    argv: ["iptables", ...(o.table === "filter" ? [] : ["-t", o.table]), "-I", o.chain, "1", "-p", "udp", "--dport", String(port), "-s", o.peerAddress, "-j", "ACCEPT"],
  }));
  if (commands.length === 0) return undefined;
  return commandPlan(
    "open-vxlan-port",
    `Accept VXLAN (udp ${port}) from the other nodes' VTEP addresses on ${joinNames([...new Set(openings.map((o) => o.node))])}`,
    commands,
    false,
    [
      "Not persistent: lost at reboot or when the firewall (firewalld, ufw, a script) reloads its rules; add the same allowance to that firewall's own configuration.",
      `Only the peers' VTEP addresses are allowed; a node added later, or one whose VTEP address changes, needs its own rule.`,
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
        ? [`Written with ${named.join(" and ")}, into the backend whose FORWARD drops: both backends' hooks run, so an ACCEPT in the other one would change nothing.`]
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

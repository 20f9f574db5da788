// The three questions the rules ask of a node's iptables: does it drop VXLAN
// from a peer, pod traffic it should forward, or a NodePort? Each answer
// carries the line that proves it.
import type { CheckEvidence, IptablesState } from "../model/index.js";
import { hasJump } from "../probes/iptables.js";
import { flannelDevice, hostOf, nodeNamed, podAddress, POD_BRIDGE, sourceAddressToward, vtepAddress, vtepInterface } from "./cluster-view.js";
import { describeRule } from "./evidence-lines.js";
import { evaluateChain, namesDestinationPort, type Packet, type Verdict } from "./iptables-eval.js";
import { podTcpPort } from "./matrix-view.js";

export interface FilterBlock {
  verdict: Verdict;
  /** the deciding rule, or the policy with what nothing accepted */
  line: string;
}

/** Chains a packet for one of the node's own addresses passes, in order (nat's DNAT sits between PREROUTING and INPUT). */
const ARRIVAL: readonly [table: string, chain: string][] = [
  ["raw", "PREROUTING"],
  ["mangle", "PREROUTING"],
  ["mangle", "INPUT"],
  ["filter", "INPUT"],
];

function block(node: string, verdict: Verdict, what: string, policyNote = ""): FilterBlock {
  const line = verdict.rule
    ? describeRule(node, verdict.rule)
    : `${node}: ${verdict.table} ${verdict.chain} policy ${verdict.policy} and no rule accepts ${what}${policyNote}`;
  return { verdict, line };
}

/** The first drop along `chains`; with `portRulesOnly`, only a rule naming the destination port counts. */
function firstDrop(state: IptablesState, chains: readonly (readonly [string, string])[], p: Packet, portRulesOnly: boolean): Verdict | undefined {
  for (const [table, chain] of chains) {
    const verdict = evaluateChain(state, table, chain, p);
    if (verdict.verdict === "accept") continue;
    return !portRulesOnly || (verdict.rule && namesDestinationPort(verdict.rule)) ? verdict : undefined;
  }
  return undefined;
}

/** VXLAN from `peer`'s VTEP to `node`'s: dropped on arrival (a rule or a policy), or by a FORWARD rule naming the port. */
export function vxlanBlock(ev: CheckEvidence, node: string, peer: string): FilterBlock | undefined {
  const state = hostOf(ev, node)?.iptables;
  const src = vtepAddress(ev, peer);
  const dst = vtepAddress(ev, node);
  if (!state || !src || !dst) return undefined;
  const port = ev.snapshot.flannel.vxlanPort;
  const packet: Packet = { protocol: "udp", src, dst, dport: port, inIface: vtepInterface(ev, node)?.name };
  const verdict = firstDrop(state, ARRIVAL, packet, false) ?? firstDrop(state, [["filter", "FORWARD"]], packet, true);
  return verdict && block(node, verdict, `udp ${port} from ${src}`);
}

/**
 * Pod traffic through `node`'s FORWARD chain, both ways between its pods and
 * another node's (ICMP, and TCP on the matrix's port): the first drop found.
 */
export function podForwardBlock(ev: CheckEvidence, node: string): FilterBlock | undefined {
  const self = nodeNamed(ev, node);
  const host = hostOf(ev, node);
  const state = host?.iptables;
  const peer = ev.snapshot.nodes.find((n) => n.name !== node && n.podCIDR !== undefined);
  const local = self && podAddress(self);
  const remote = peer && podAddress(peer);
  if (!state || !local || !remote) return undefined;
  const overlay = flannelDevice(ev, host)?.name ?? vtepInterface(ev, node)?.name;
  const tcpPort = podTcpPort(ev);
  const shapes: Pick<Packet, "protocol" | "dport">[] = [{ protocol: "icmp" }, ...(tcpPort ? [{ protocol: "tcp" as const, dport: tcpPort }] : [])];
  const directions: Pick<Packet, "src" | "dst" | "inIface" | "outIface">[] = [
    { src: remote, dst: local, inIface: overlay, outIface: POD_BRIDGE },
    { src: local, dst: remote, inIface: POD_BRIDGE, outIface: overlay },
  ];
  const network = ev.snapshot.flannel.network;
  const note = [
    hasJump(state, "filter", "FORWARD", "FLANNEL-FWD") ? "" : "no jump to FLANNEL-FWD",
    network ? `nothing accepting ${network}` : "",
  ].filter(Boolean);
  for (const direction of directions) {
    for (const shape of shapes) {
      const verdict = evaluateChain(state, "filter", "FORWARD", { ...direction, ...shape });
      if (verdict.verdict === "drop") return block(node, verdict, "pod traffic", note.length ? ` (${note.join(", ")})` : "");
    }
  }
  return undefined;
}

/**
 * A rule naming the NodePort that drops a connection from `from` on arrival at
 * `node`: in raw/mangle PREROUTING (before kube-proxy's DNAT) or, where the
 * service address is local (IPVS mode), in INPUT.
 */
export function nodePortBlock(ev: CheckEvidence, node: string, from: string, targetAddress: string, nodePort: number): FilterBlock | undefined {
  const state = hostOf(ev, node)?.iptables;
  const src = sourceAddressToward(ev, from, targetAddress);
  if (!state || !src) return undefined;
  const verdict = firstDrop(state, ARRIVAL, { protocol: "tcp", src, dst: targetAddress, dport: nodePort }, true);
  return verdict && block(node, verdict, `tcp ${nodePort}`);
}

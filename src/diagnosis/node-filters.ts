// The three questions the rules ask of a node's iptables: does it drop VXLAN
// from a peer, pod traffic it should forward, or a NodePort? Every ruleset of
// the node is asked (both backends' hooks run: a drop in either drops the
// packet). Each answer carries the line that proves it and the ruleset it is in.
import type { CheckEvidence, IptablesState } from "../model/index.js";
import { hasJump } from "../probes/iptables.js";
import { flannelDevice, hostOf, nodeNamed, podAddress, POD_BRIDGE, sourceAddressToward, vtepAddress, vtepInterface } from "./cluster-view.js";
import { describeRule } from "./evidence-lines.js";
import { evaluateChain, namesDestinationPort, type Packet, type Verdict } from "./iptables-eval.js";
import { iptablesViews, rulesetLabel, type IptablesView } from "./iptables-views.js";
import { podTcpPort } from "./matrix-view.js";

export interface FilterBlock {
  verdict: Verdict;
  /** the deciding rule, or the policy with what nothing accepted */
  line: string;
  /** the ruleset that drops: its backend, and the tool that edits it */
  view: IptablesView;
}

/** Chains a packet for one of the node's own addresses passes, in order (nat's DNAT sits between PREROUTING and INPUT). */
const ARRIVAL: readonly [table: string, chain: string][] = [
  ["raw", "PREROUTING"],
  ["mangle", "PREROUTING"],
  ["mangle", "INPUT"],
  ["filter", "INPUT"],
];

function block(node: string, view: IptablesView, verdict: Verdict, what: string, policyNote = ""): FilterBlock {
  const where = rulesetLabel(node, view);
  const line = verdict.rule
    ? describeRule(where, verdict.rule)
    : `${where}: ${verdict.table} ${verdict.chain} policy ${verdict.policy} and no rule accepts ${what}${policyNote}`;
  return { verdict, line, view };
}

/** The first drop along `chains` (an unreadable table decides nothing); with `portRulesOnly`, only a rule naming the destination port counts. */
function firstDrop(state: IptablesState, chains: readonly (readonly [string, string])[], p: Packet, portRulesOnly: boolean): Verdict | undefined {
  for (const [table, chain] of chains) {
    const verdict = evaluateChain(state, table, chain, p);
    if (verdict.verdict !== "drop") continue;
    return !portRulesOnly || (verdict.rule && namesDestinationPort(verdict.rule)) ? verdict : undefined;
  }
  return undefined;
}

/** The ruleset and verdict that drop a packet, before it is put in words. */
export interface RulesetDrop {
  view: IptablesView;
  verdict: Verdict;
}

/** VXLAN from `src` to `node`'s VTEP address `dst`: dropped on arrival (a rule or a policy), or by a FORWARD rule naming the port. */
export function vxlanDrop(ev: CheckEvidence, node: string, src: string, dst: string): RulesetDrop | undefined {
  const packet: Packet = { protocol: "udp", src, dst, dport: ev.snapshot.flannel.vxlanPort, inIface: vtepInterface(ev, node)?.name };
  for (const view of iptablesViews(hostOf(ev, node))) {
    const verdict = firstDrop(view.state, ARRIVAL, packet, false) ?? firstDrop(view.state, [["filter", "FORWARD"]], packet, true);
    if (verdict) return { view, verdict };
  }
  return undefined;
}

/** VXLAN from `peer`'s VTEP to `node`'s, when a ruleset of `node` drops it. */
export function vxlanBlock(ev: CheckEvidence, node: string, peer: string): FilterBlock | undefined {
  const src = vtepAddress(ev, peer);
  const dst = vtepAddress(ev, node);
  const drop = src && dst ? vxlanDrop(ev, node, src, dst) : undefined;
  return drop && vxlanBlockOf(node, drop, ev.snapshot.flannel.vxlanPort, src!);
}

/** A vxlanDrop of VXLAN from `src`, with the line that proves it. */
export function vxlanBlockOf(node: string, drop: RulesetDrop, port: number, src: string): FilterBlock {
  return block(node, drop.view, drop.verdict, `udp ${port} from ${src}`);
}

/**
 * Pod traffic through `node`'s FORWARD chains, both ways between its pods and
 * another node's (ICMP, and TCP on the matrix's port): the first drop found.
 */
export function podForwardBlock(ev: CheckEvidence, node: string): FilterBlock | undefined {
  return podForwardBlocks(ev, node)[0];
}

/** The first drop of pod traffic in each of `node`'s rulesets that drops it. */
export function podForwardBlocks(ev: CheckEvidence, node: string): FilterBlock[] {
  return iptablesViews(hostOf(ev, node)).flatMap((view) => {
    const found = podForwardBlockIn(ev, node, view);
    return found ? [found] : [];
  });
}

function podForwardBlockIn(ev: CheckEvidence, node: string, view: IptablesView): FilterBlock | undefined {
  const self = nodeNamed(ev, node);
  const host = hostOf(ev, node);
  const state = view.state;
  const peer = ev.snapshot.nodes.find((n) => n.name !== node && n.podCIDR !== undefined);
  const local = self && podAddress(self);
  const remote = peer && podAddress(peer);
  if (!local || !remote) return undefined;
  const overlay = flannelDevice(ev, host)?.name ?? vtepInterface(ev, node)?.name;
  const tcpPort = podTcpPort(ev);
  const shapes: Pick<Packet, "protocol" | "dport">[] = [{ protocol: "icmp" }, ...(tcpPort ? [{ protocol: "tcp" as const, dport: tcpPort }] : [])];
  const directions: Pick<Packet, "src" | "dst" | "inIface" | "outIface">[] = [
    { src: remote, dst: local, inIface: overlay, outIface: POD_BRIDGE },
    { src: local, dst: remote, inIface: POD_BRIDGE, outIface: overlay },
  ];
  const network = ev.snapshot.flannel.network;
  const note = [hasJump(state, "filter", "FORWARD", "FLANNEL-FWD") ? "" : "no jump to FLANNEL-FWD", network ? `nothing accepting ${network}` : ""].filter(
    Boolean,
  );
  for (const direction of directions) {
    for (const shape of shapes) {
      const verdict = evaluateChain(state, "filter", "FORWARD", { ...direction, ...shape });
      if (verdict.verdict === "drop") return block(node, view, verdict, "pod traffic", note.length ? ` (${note.join(", ")})` : "");
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
  const src = sourceAddressToward(ev, from, targetAddress);
  if (!src) return undefined;
  for (const view of iptablesViews(hostOf(ev, node))) {
    const verdict = firstDrop(view.state, ARRIVAL, { protocol: "tcp", src, dst: targetAddress, dport: nodePort }, true);
    if (verdict) return block(node, view, verdict, `tcp ${nodePort}`);
  }
  return undefined;
}

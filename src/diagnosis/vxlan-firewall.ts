// Whether VXLAN from a peer gets into a node, asked of every firewall xnode
// reads there: the iptables rulesets (iptables-save of each backend,
// node-filters.ts) and the native nftables tables (`nft -j list ruleset`,
// nft-eval.ts). Every one of them runs on the packet's way in, so the first
// drop in any decides; "accept" needs every one read and accepting.
import type { CheckEvidence, HostEvidence } from "../model/index.js";
import { hostOf, vtepAddress, vtepInterface } from "./cluster-view.js";
import { describeNftRule } from "./evidence-lines.js";
import { sourceRanges } from "./iptables-eval.js";
import { iptablesFullyRead, iptablesViews } from "./iptables-views.js";
import { netContains, parseCidr, parseIpv4 } from "./ipv4.js";
import { baseChains, evaluateNftPath, type NftHook, type NftVerdict } from "./nft-eval.js";
import { vxlanBlockOf, vxlanDrop, type FilterBlock, type RulesetDrop } from "./node-filters.js";

/** A packet for one of the node's own addresses: the underlay device's ingress, then prerouting and input. */
export const ARRIVAL_HOOKS: readonly NftHook[] = ["ingress", "prerouting", "input"];

/** Where an accept has to go in nftables so the packet meets it before the drop: right before the dropping rule, or at the top of a base chain whose policy drops. */
export interface NftOpeningSpot {
  family: string;
  table: string;
  chain: string;
  beforeHandle?: number;
}

export type VxlanFirewall =
  | { verdict: "drop"; backend: "iptables"; block: FilterBlock; line: string }
  | { verdict: "drop"; backend: "nftables"; nft: NftVerdict; spot: NftOpeningSpot; line: string }
  /** something on the way could not be evaluated: not a proof either way */
  | { verdict: "unknown"; nft: NftVerdict; line: string }
  /** nothing read drops it, but not every firewall of the node was read */
  | { verdict: "unread"; line: string }
  | { verdict: "accept"; line: string };

function nftSpot(v: NftVerdict): NftOpeningSpot {
  if (v.rule) return { family: v.rule.family, table: v.rule.table, chain: v.rule.chain, beforeHandle: v.rule.handle };
  return { family: v.chain!.family, table: v.chain!.table, chain: v.chain!.name };
}

function nftLine(node: string, v: NftVerdict, what: string): string {
  const base = v.chain;
  if (v.verdict === "drop") {
    if (v.rule) return describeNftRule(node, v.rule, base?.name);
    return `${node}: nft ${base!.family} ${base!.table} ${base!.name} policy drop and no rule accepts ${what}`;
  }
  const at = v.rule ? describeNftRule(node, v.rule, base?.name) : `${node}: nft${base ? ` ${base.family} ${base.table} ${base.name}` : ""}`;
  return `${at} (cannot tell whether it lets ${what} in: ${v.reason ?? "not evaluable"})`;
}

/** What the firewalls decided, before it is put in words: an iptables drop, else nftables' verdict (undefined when not read). */
type Evaluated = { drop: RulesetDrop } | { drop?: undefined; nft: NftVerdict | undefined };

/**
 * A key per source address that is the same for sources no firewall of the
 * node tells apart: inside the same iptables -s ranges, and no native
 * nftables chain on the way in (one there may match any source).
 */
function sourceClass(host: HostEvidence | undefined): (src: string) => string {
  const ruleset = host?.nftables;
  if (ruleset && ARRIVAL_HOOKS.some((hook) => baseChains(ruleset, hook).length > 0)) return (src) => src;
  const ranges = [...new Set(iptablesViews(host).flatMap((view) => sourceRanges(view.state)))].map((range) => parseCidr(range));
  return (src) => {
    const address = parseIpv4(src);
    return ranges.map((net) => (net && address !== undefined && netContains(net, address) ? "1" : "0")).join("");
  };
}

function evaluate(ev: CheckEvidence, node: string, src: string, dst: string): Evaluated {
  const drop = vxlanDrop(ev, node, src, dst);
  if (drop) return { drop };
  const ruleset = hostOf(ev, node)?.nftables;
  const port = ev.snapshot.flannel.vxlanPort;
  return {
    nft: ruleset && evaluateNftPath(ruleset, { l4proto: "udp", dport: port, saddr: src, daddr: dst, iifname: vtepInterface(ev, node)?.name }, ARRIVAL_HOOKS),
  };
}

/** VXLAN from `peer`'s VTEP to `node`'s, through every firewall of `node`; undefined when either VTEP address is unknown. */
export function vxlanFirewall(ev: CheckEvidence, node: string, peer: string): VxlanFirewall | undefined {
  return vxlanFirewalls(ev, node, [peer])[0];
}

/**
 * vxlanFirewall for each of `peers`, in their order. The firewalls are
 * evaluated once per class of sources they cannot tell apart, not once per
 * peer: the rules ask about every pair of nodes.
 */
export function vxlanFirewalls(ev: CheckEvidence, node: string, peers: readonly string[]): (VxlanFirewall | undefined)[] {
  const dst = vtepAddress(ev, node);
  const host = hostOf(ev, node);
  const classOf = sourceClass(host);
  const iptablesRead = iptablesFullyRead(host);
  const evaluated = new Map<string, Evaluated>();
  return peers.map((peer) => {
    const src = vtepAddress(ev, peer);
    if (!src || !dst) return undefined;
    const key = classOf(src);
    let decided = evaluated.get(key);
    if (!decided) evaluated.set(key, (decided = evaluate(ev, node, src, dst)));
    return inWords(ev, node, src, decided, iptablesRead);
  });
}

function inWords(ev: CheckEvidence, node: string, src: string, decided: Evaluated, iptables: boolean): VxlanFirewall {
  const port = ev.snapshot.flannel.vxlanPort;
  const what = `udp ${port} from ${src}`;
  if (decided.drop) {
    const block: FilterBlock = vxlanBlockOf(node, decided.drop, port, src);
    return { verdict: "drop", backend: "iptables", block, line: block.line };
  }
  const nft = decided.nft;
  if (nft?.verdict === "drop") return { verdict: "drop", backend: "nftables", nft, spot: nftSpot(nft), line: nftLine(node, nft, what) };
  if (nft?.verdict === "unknown") return { verdict: "unknown", nft, line: nftLine(node, nft, what) };
  if (!iptables || !nft) {
    const unread = [!iptables && "iptables", !nft && "nftables"].filter(Boolean).join(" and ");
    const read = iptables ? "iptables accept" : nft ? "nftables accept" : "";
    return { verdict: "unread", line: `${node}: ${read ? `${read} ${what}; ` : ""}${unread} not (fully) read` };
  }
  return { verdict: "accept", line: `${node}'s iptables and nftables accept ${what}` };
}

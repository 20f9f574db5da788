// Whether VXLAN from a peer gets into a node, asked of every firewall xnode
// reads there: the iptables rulesets (iptables-save of each backend,
// node-filters.ts) and the native nftables tables (`nft -j list ruleset`,
// nft-eval.ts). Every one of them runs on the packet's way in, so the first
// drop in any decides; "accept" needs every one read and accepting.
import type { CheckEvidence } from "../model/index.js";
import { hostOf, vtepAddress, vtepInterface } from "./cluster-view.js";
import { describeNftRule } from "./evidence-lines.js";
import { iptablesFullyRead } from "./iptables-views.js";
import { evaluateNftPath, type NftHook, type NftVerdict } from "./nft-eval.js";
import { vxlanBlock, type FilterBlock } from "./node-filters.js";

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

/** VXLAN from `peer`'s VTEP to `node`'s, through every firewall of `node`; undefined when either VTEP address is unknown. */
export function vxlanFirewall(ev: CheckEvidence, node: string, peer: string): VxlanFirewall | undefined {
  const src = vtepAddress(ev, peer);
  const dst = vtepAddress(ev, node);
  if (!src || !dst) return undefined;
  const port = ev.snapshot.flannel.vxlanPort;
  const what = `udp ${port} from ${src}`;
  const host = hostOf(ev, node);
  const block = vxlanBlock(ev, node, peer);
  if (block) return { verdict: "drop", backend: "iptables", block, line: block.line };
  const ruleset = host?.nftables;
  const nft =
    ruleset && evaluateNftPath(ruleset, { l4proto: "udp", dport: port, saddr: src, daddr: dst, iifname: vtepInterface(ev, node)?.name }, ARRIVAL_HOOKS);
  if (nft?.verdict === "drop") return { verdict: "drop", backend: "nftables", nft, spot: nftSpot(nft), line: nftLine(node, nft, what) };
  if (nft?.verdict === "unknown") return { verdict: "unknown", nft, line: nftLine(node, nft, what) };
  const iptables = iptablesFullyRead(host);
  if (!iptables || !nft) {
    const unread = [!iptables && "iptables", !nft && "nftables"].filter(Boolean).join(" and ");
    const read = iptables ? "iptables accept" : nft ? "nftables accept" : "";
    return { verdict: "unread", line: `${node}: ${read ? `${read} ${what}; ` : ""}${unread} not (fully) read` };
  }
  return { verdict: "accept", line: `${node}'s iptables and nftables accept ${what}` };
}

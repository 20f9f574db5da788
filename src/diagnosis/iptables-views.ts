// The iptables rulesets a node's packets pass, and what to call each. Both
// backends (iptables-legacy and iptables-nft) register their own netfilter
// hooks, so a packet passes every ruleset the node holds: an ACCEPT in one
// does not stop a DROP in the other. Evidence of checks before xnode read both
// backends holds one ruleset (the agent's iptables-save), with no backend named.
import type { HostEvidence, IptablesBackend, IptablesBackends, IptablesState } from "../model/index.js";
import { holdsTables, unreadableTable } from "../probes/iptables.js";

/** The command that edits a ruleset on the node: `iptables` is the agent's default (its wrapper), the others name a backend. */
export type IptablesTool = "iptables" | "iptables-legacy" | "iptables-nft";

export interface IptablesView {
  /** undefined: the one ruleset of an older check */
  backend?: IptablesBackend;
  state: IptablesState;
  tool: IptablesTool;
}

const BACKENDS: readonly IptablesBackend[] = ["legacy", "nft"];

/**
 * Plain `iptables` for the nft backend when the legacy one was read and holds
 * no table: all the node's rules are in nft, as on most nodes today, and the
 * agent's wrapper picks nft too. Anywhere else the backend is named, so a
 * command cannot land in the other one.
 */
function toolFor(backends: IptablesBackends, backend: IptablesBackend): IptablesTool {
  if (backend === "nft" && backends.legacy && !holdsTables(backends.legacy)) return "iptables";
  return backend === "nft" ? "iptables-nft" : "iptables-legacy";
}

/** Every ruleset of the node that was read, legacy first. */
export function iptablesViews(host: HostEvidence | undefined): IptablesView[] {
  const backends = host?.iptablesBackends;
  if (!backends) return host?.iptables ? [{ state: host.iptables, tool: "iptables" }] : [];
  return BACKENDS.flatMap((backend) => {
    const state = backends[backend];
    return state ? [{ backend, state, tool: toolFor(backends, backend) }] : [];
  });
}

/** The view of one backend, when it was read. */
export function backendView(host: HostEvidence | undefined, backend: IptablesBackend): IptablesView | undefined {
  return iptablesViews(host).find((v) => v.backend === backend);
}

/**
 * Whether every ruleset a packet passes was read, with `tables` readable in
 * each: only then does "no rule drops it" mean the node lets it through.
 */
export function iptablesFullyRead(host: HostEvidence | undefined, tables: readonly string[] = ["raw", "mangle", "filter"]): boolean {
  if (!host) return false;
  const backends = host.iptablesBackends;
  const complete = backends ? BACKENDS.every((b) => backends[b] !== undefined) : host.iptables !== undefined;
  return complete && iptablesViews(host).every((v) => tables.every((t) => !unreadableTable(v.state, t)));
}

/** Whether any iptables ruleset of the node was read. */
export function iptablesReadAny(host: HostEvidence | undefined): boolean {
  return iptablesViews(host).length > 0;
}

/** Where an evidence line's rule is: "k8s-node2", or "k8s-node2 (iptables-nft)" when the backend is named. */
export function rulesetLabel(node: string, view: IptablesView): string {
  return view.tool === "iptables" ? node : `${node} (${view.tool})`;
}

/** What could not be read in the node's rulesets, one line each: "k8s-node2 (iptables-nft): table filter unreadable: …". */
export function unreadableLines(node: string, host: HostEvidence | undefined): string[] {
  return iptablesViews(host).flatMap((v) => (v.state.unreadable ?? []).map((u) => `${rulesetLabel(node, v)}: table ${u.table} unreadable: ${u.reason}`));
}

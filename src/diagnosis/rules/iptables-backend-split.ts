// A node keeps rules in both iptables backends: flannel's forward rules in
// one, and a FORWARD chain that drops pod traffic in the other (Docker's
// policy DROP, typically). Both backends' hooks run for every forwarded
// packet, so flannel's ACCEPT in one does not stop the DROP in the other, and
// either backend's iptables-save alone looks fine or like a plain
// forward-policy-drop. The cause of forward-policy-drop on those nodes.
import type { CheckEvidence, Finding, IptablesRule, IptablesState } from "../../model/index.js";
import { hasJump, holdsTables, ruleTokens, rulesIn, unreadableTable } from "../../probes/iptables.js";
import { hostOf } from "../cluster-view.js";
import { capLines, describeRule, joinNames } from "../evidence-lines.js";
import { iptablesViews, rulesetLabel, type IptablesView } from "../iptables-views.js";
import { podForwardBlocks, type FilterBlock } from "../node-filters.js";

const FLANNEL_CHAIN = "FLANNEL-FWD";

function accepts(rule: IptablesRule): boolean {
  const t = ruleTokens(rule.spec);
  return t.some((tok, i) => (tok === "-j" || tok === "--jump") && t[i + 1] === "ACCEPT");
}

/** `-s <network> … -j ACCEPT` or `-d <network> … -j ACCEPT`, as flannel writes them. */
function acceptsNetwork(rule: IptablesRule, network: string): boolean {
  const t = ruleTokens(rule.spec);
  return accepts(rule) && t.some((tok, i) => (tok === "-s" || tok === "-d" || tok === "--source" || tok === "--destination") && t[i + 1] === network);
}

/**
 * flannel's forward rules in one ruleset: since v0.20 FORWARD's jump to
 * FLANNEL-FWD and the ACCEPTs there; up to v0.19 `-s/-d <Network> -j ACCEPT`
 * in FORWARD itself (that form needs the Network to be known).
 */
export function flannelForwardRules(state: IptablesState, network: string | undefined): IptablesRule[] {
  if (unreadableTable(state, "filter")) return [];
  const chain = hasJump(state, "filter", "FORWARD", FLANNEL_CHAIN) ? rulesIn(state, "filter", FLANNEL_CHAIN).filter(accepts) : [];
  const old = network ? rulesIn(state, "filter", "FORWARD").filter((r) => acceptsNetwork(r, network)) : [];
  return [...chain, ...old];
}

interface Split {
  node: string;
  flannel: { view: IptablesView; rules: IptablesRule[] }[];
  drops: FilterBlock[];
  views: IptablesView[];
}

function splitOn(ev: CheckEvidence, node: string, network: string | undefined): Split | undefined {
  const views = iptablesViews(hostOf(ev, node)).filter((v) => v.backend !== undefined && holdsTables(v.state));
  if (views.length < 2) return undefined;
  const flannel = views.flatMap((view) => {
    const rules = flannelForwardRules(view.state, network);
    return rules.length > 0 ? [{ view, rules }] : [];
  });
  const drops = podForwardBlocks(ev, node).filter((b) => b.view.backend !== undefined && flannelForwardRules(b.view.state, network).length === 0);
  return flannel.length > 0 && drops.length > 0 ? { node, flannel, drops, views } : undefined;
}

function describeView(v: IptablesView): string {
  const tables = new Set([...v.state.policies, ...v.state.rules].map((x) => x.table)).size;
  return `${v.tool} ${tables} table${tables === 1 ? "" : "s"}, ${v.state.rules.length} rule${v.state.rules.length === 1 ? "" : "s"}`;
}

export function iptablesBackendSplit(ev: CheckEvidence): Finding | undefined {
  const network = ev.snapshot.flannel.network;
  const splits = ev.snapshot.nodes.flatMap((n) => splitOn(ev, n.name, network) ?? []);
  if (splits.length === 0) return undefined;
  const nodes = splits.map((s) => s.node);
  const flannelTools = [...new Set(splits.flatMap((s) => s.flannel.map((f) => f.view.tool)))];
  const dropTools = [...new Set(splits.flatMap((s) => s.drops.map((d) => d.view.tool)))];
  return {
    id: "iptables-backend-split",
    severity: "critical",
    nodes,
    evidence: splits.flatMap((s) => [
      `${s.node}: rules in both iptables backends (${s.views.map(describeView).join("; ")})`,
      ...s.flannel.flatMap((f) =>
        capLines(
          f.rules.map((r) => describeRule(rulesetLabel(s.node, f.view), r)),
          2,
          `flannel rules in ${f.view.tool}`,
        ),
      ),
      ...s.drops.map((d) => d.line),
    ]),
    explanation:
      `${joinNames(nodes)} ${nodes.length === 1 ? "keeps" : "keep"} iptables rules in both backends: flannel's forward rules, which accept the pod network` +
      (network ? ` ${network}` : "") +
      `, are in ${joinNames(flannelTools)}, while the FORWARD chain of ${joinNames(dropTools)} drops pod traffic (Docker, since 1.13, sets its policy to DROP). ` +
      "Each backend has its own netfilter hooks and a forwarded packet passes both, so flannel's ACCEPT in one does not stop the DROP in the other; " +
      "iptables-save of either backend alone looks fine, or like a lone FORWARD drop. It happens when flannel's image and the node's own tools " +
      "(Docker, firewalld, the distribution's iptables) use different backends. The set-forward-accept fix accepts the pod network in the backend " +
      "that drops, until the next reboot or firewall reload. To end the split, make them agree on one backend: a flannel image that detects the " +
      "node's backend (as kube-proxy's iptables-wrapper does), or the node's iptables alternative switched to the one flannel uses, then Docker and " +
      "flannel restarted.",
    remediations: [],
  };
}

// One way to write each kind of evidence line, so every finding quotes
// values the same way ("k8s-master1 FDB: … dst 10.0.2.15").
import type { FdbEntry, FlannelPodState, IptablesRule, MatrixEntry, NeighbourEntry, NftRule, RouteEntry, VxlanDevice } from "../model/index.js";
import type { FailingPair } from "./matrix-view.js";

/** "a", "a and b", "a, b and c" */
export function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names[0] ?? "";
  return `${names.slice(0, -1).join(", ")} and ${names[names.length - 1]}`;
}

/** At most `max` lines; the rest summarised in one line so a large cluster stays readable. */
export function capLines(lines: readonly string[], max: number, what: string): string[] {
  if (lines.length <= max) return [...lines];
  return [...lines.slice(0, max), `… and ${lines.length - max} more ${what}`];
}

export function reachResult(e: MatrixEntry): string {
  if (e.ok) return e.rttMs === undefined ? "ok" : `ok (${e.rttMs} ms)`;
  return e.error ?? "failed";
}

export function describeUnderlayPing(e: MatrixEntry): string {
  return `ping ${e.target} from ${e.from}${e.via ? ` via ${e.via}` : ""} (${e.to}): ${reachResult(e)}`;
}

const KIND_LABEL: Record<string, string> = { "pod-icmp": "pod ICMP", "pod-tcp": "pod TCP", "node-pod-icmp": "host ICMP" };

/** "k8s-master1 → k8s-node1: pod ICMP 10.244.1.5 timeout, pod TCP 10.244.1.5:8080 timeout" */
export function describeFailingPair(pair: FailingPair): string {
  const parts = pair.entries.map((e) => `${KIND_LABEL[e.kind] ?? e.kind} ${e.target} ${reachResult(e)}`);
  return `${pair.from} → ${pair.to}: ${parts.join(", ")}`;
}

export function describeVxlan(node: string, d: VxlanDevice): string {
  const local = d.local ? ` local ${d.local}` : "";
  const dev = d.underlay ? ` dev ${d.underlay}` : "";
  return `${node} ${d.name}: vxlan id ${d.vni}${local}${dev} dstport ${d.port}`;
}

export function describeFdb(node: string, e: FdbEntry): string {
  return `${node} FDB: ${e.mac} dst ${e.dst}`;
}

export function describeNeighbour(node: string, n: NeighbourEntry): string {
  return `${node} neighbour: ${n.dst} lladdr ${n.lladdr ?? "(none)"} dev ${n.dev}${n.states.length ? ` ${n.states.join(",")}` : ""}`;
}

/** As `ip route` prints it: "10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink". */
export function describeRoute(r: RouteEntry): string {
  return [r.type, r.dst, r.gateway && `via ${r.gateway}`, r.dev && `dev ${r.dev}`, r.onlink && "onlink"].filter(Boolean).join(" ");
}

/** As iptables-save prints it, with the table when it is not filter. */
export function describeRule(node: string, rule: IptablesRule): string {
  const table = rule.table === "filter" ? "" : `-t ${rule.table} `;
  return `${node}: ${table}-A ${rule.chain}${rule.spec ? ` ${rule.spec}` : ""}`;
}

/** "k8s-node2: nft inet firewalld filter_INPUT: udp dport 8472 drop", naming the base chain when the rule sits in a chain it jumps to. */
export function describeNftRule(node: string, rule: Pick<NftRule, "family" | "table" | "chain" | "text">, baseChain?: string): string {
  const via = baseChain && baseChain !== rule.chain ? ` (from ${baseChain})` : "";
  return `${node}: nft ${rule.family} ${rule.table} ${rule.chain}${via}: ${rule.text}`;
}

/** "k8s-node1: kube-flannel-ds-x7k2p not ready (CrashLoopBackOff, 4 restarts)" */
export function describeFlannelPod(p: FlannelPodState): string {
  const why = [p.reason, `${p.restarts} restart${p.restarts === 1 ? "" : "s"}`].filter(Boolean).join(", ");
  return `${p.node}: ${p.name} ${p.ready ? "ready" : "not ready"} (${why})`;
}

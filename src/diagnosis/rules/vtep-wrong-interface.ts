// flannel's VTEP sits on an interface that the underlay pings show cannot
// reach some peer, while another interface of the node reaches them all.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { flannelDevice, hostOf, vtepInterface, type VtepInterface } from "../cluster-view.js";
import { capLines, describeUnderlayPing, describeVxlan, joinNames } from "../evidence-lines.js";
import { entriesBetween, overlayProvenWorking, underlayReach } from "../matrix-view.js";
import { representativeTrace } from "../path-trace.js";
import { describeFlag, flannelFlagsOn, ifaceSelection } from "../flannel-flags.js";
import { flannelIfaceChoice, routesForChoice } from "../flannel-iface-choice.js";
import { planFlannelIface } from "../remediation/plan-flannel-iface.js";
import { planUnderlayRoutes } from "../remediation/plan-routes.js";
import { interfacesReachingAll, proveUnderlay, underlayPeers, type ProvenInterface } from "../underlay-proof.js";

interface WrongVtep {
  node: string;
  vtep: VtepInterface;
  unreached: string[];
  alternative: ProvenInterface;
}

function wrongVtep(ev: CheckEvidence, node: string): WrongVtep | undefined {
  const vtep = vtepInterface(ev, node);
  // a VTEP the pod matrix shows working is right, whatever ICMP on it says
  if (!vtep || overlayProvenWorking(ev, node)) return undefined;
  const peers = underlayPeers(ev, node);
  const unreached = peers.filter((p) => !underlayReach(ev, node, vtep.name, p));
  const alternative = interfacesReachingAll(ev, node, peers).find((p) => p.iface !== vtep.name);
  return unreached.length > 0 && alternative ? { node, vtep, unreached, alternative } : undefined;
}

function evidenceLines(ev: CheckEvidence, w: WrongVtep): string[] {
  const device = flannelDevice(ev, hostOf(ev, w.node));
  const lines = [device ? describeVxlan(w.node, device) : `${w.node}: VTEP ${w.vtep.address ?? "(address unknown)"} on ${w.vtep.name}`];
  for (const peer of w.unreached) {
    const failed = entriesBetween(ev, w.node, peer).filter((e) => e.kind === "underlay-icmp" && e.via === w.vtep.name);
    if (failed.length > 0) lines.push(...capLines(failed.map(describeUnderlayPing), 2, `pings to ${peer}`));
    else lines.push(`${w.node} ${w.vtep.name}: no address of ${peer} on ${w.vtep.name}'s network other than our own`);
  }
  lines.push(...[...w.alternative.reach.values()].map(describeUnderlayPing));
  return lines;
}

/** "enp0s3 on k8s-master1 and k8s-node1" / "eth0 on a and ens33 on b" */
function byInterface(items: readonly { iface: string; node: string }[]): string {
  const names = [...new Set(items.map((i) => i.iface))];
  return joinNames(names.map((name) => `${name} on ${joinNames(items.filter((i) => i.iface === name).map((i) => i.node))}`));
}

/** Why flannel sits there, from its effective flags (command, args, FLANNELD_* env, k3s flags) and its own choice imitated. */
function whyThatInterface(ev: CheckEvidence, wrong: readonly WrongVtep[]): string {
  const told = [...new Set(wrong.flatMap((w) => ifaceSelection(flannelFlagsOn(ev, w.node)).map(describeFlag)))];
  const chosen = new Map<string, string[]>();
  for (const w of wrong) {
    const node = ev.snapshot.nodes.find((n) => n.name === w.node);
    const host = hostOf(ev, w.node);
    const flags = flannelFlagsOn(ev, w.node);
    const choice = node && host ? flannelIfaceChoice(flags, node, routesForChoice(ev, host, flags)) : undefined;
    if (choice?.iface === w.vtep.name) chosen.set(choice.how, [...(chosen.get(choice.how) ?? []), w.node]);
  }
  const picks = [...chosen].map(([how, nodes]) => `${how} (${joinNames(nodes)})`);
  const how = picks.length ? ` flannel's own rule picks it: ${picks.join("; ")}.` : "";
  if (told.length) return `flannel's flags select that interface: ${told.join("; ")}.${how}`;
  return (
    "flannel takes the interface holding the default route unless --iface, --iface-regex or --iface-can-reach (or a node-public-ip annotation) says otherwise, " +
    `and with a NAT adapter on every machine that is the wrong one.${how}`
  );
}

export function vtepWrongInterface(ev: CheckEvidence): Finding | undefined {
  const wrong = ev.snapshot.nodes.flatMap((n) => (n.podCIDR ? (wrongVtep(ev, n.name) ?? []) : []));
  if (wrong.length === 0) return undefined;
  const nodes = wrong.map((w) => w.node);
  const proof = proveUnderlay(ev);
  const iface = planFlannelIface(ev, proof);
  const firstProven = new Map([...proof.proven].map(([node, list]) => [node, list[0]!]));
  const routes = planUnderlayRoutes(ev, iface.choice?.perNode ?? firstProven);
  const vteps = byInterface(wrong.map((w) => ({ iface: w.vtep.name, node: w.node })));
  const better = byInterface(wrong.map((w) => ({ iface: w.alternative.iface, node: w.node })));
  const why = whyThatInterface(ev, wrong);
  return {
    id: "vtep-wrong-interface",
    severity: "critical",
    nodes,
    evidence: wrong.flatMap((w) => evidenceLines(ev, w)),
    explanation:
      `flannel's VXLAN endpoint sits on ${vteps}, which cannot reach every other node, while ${better} can ` +
      `(proven by the underlay pings above). VXLAN packets leave through the VTEP's interface, so they never arrive. ${why} ` +
      "Tell flannel which interface to use; static routes over the working interface are a stopgap." +
      (iface.plan ? "" : ` No flannel patch is proposed: ${iface.reason}.`),
    remediations: [iface.plan, routes].filter((p) => p !== undefined),
    trace: representativeTrace(ev, nodes),
  };
}

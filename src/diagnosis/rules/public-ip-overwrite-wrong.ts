// A node's public-ip-overwrite or node-public-ip annotation makes flannel
// advertise an address that is not the node's, or one its peers cannot reach.
// flannel copies public-ip-overwrite into public-ip as it is (subnet/kube
// kube.go, AcquireLease); node-public-ip becomes --public-ip and picks the
// interface holding it, and flanneld exits when none does (main.go).
import type { CheckEvidence, Finding, NodeSnapshot } from "../../model/index.js";
import { addressHolders, everyNodeHasInterfaces, flannelDevice, hostOf, inMacOwnerOrder } from "../cluster-view.js";
import { elidedFdbTo } from "../overlay-templates.js";
import { capLines, describeFdb, describeFlannelPod, describeUnderlayPing, describeVxlan, joinNames } from "../evidence-lines.js";
import { entriesTo, overlayProvenWorking } from "../matrix-view.js";
import { representativeTrace } from "../path-trace.js";
import { FLANNEL_ANNOTATIONS } from "../remediation/node-annotations.js";
import { planRemovePublicIpOverride, type WrongOverride } from "../remediation/plan-flannel-restart.js";

/** Why `address` is wrong as the address VXLAN packets to `node` are sent to, or undefined when nothing shows it wrong. */
function whyWrong(ev: CheckEvidence, node: string, address: string): string[] | undefined {
  const holders = addressHolders(ev, address);
  const others = holders.filter((h) => h.node !== node);
  if (others.length > 0) {
    const named = joinNames(others.map((h) => `${h.node} (${h.iface})`));
    // held by the node too (a NAT address every VM has): each of those peers keeps what it sends there
    return holders.some((h) => h.node === node)
      ? [
          `${address} is also an address of ${named}: ${others.length === 1 ? "it keeps the packets it sends" : "they keep the packets they send"} there for ${node}'s pods`,
        ]
      : [`${address} is an address of ${named}, not of ${node}: packets for ${node}'s pods go there`];
  }
  if (holders.length === 0) {
    return everyNodeHasInterfaces(ev) ? [`no interface of any node holds ${address}`] : undefined;
  }
  // the node's own address: wrong only when the peers tried it and none got an answer
  const pings = entriesTo(ev, node).filter((e) => e.kind === "underlay-icmp" && e.target === address);
  if (pings.length === 0 || pings.some((e) => e.ok)) return undefined;
  return [`${node}'s peers cannot reach ${address} (${holders[0]!.iface}):`, ...capLines(pings.map(describeUnderlayPing), 3, "pings")];
}

function wrongOverrides(ev: CheckEvidence, node: NodeSnapshot): WrongOverride[] {
  // a NAT address nobody holds is fine while traffic to the node works
  if (!node.podCIDR || overlayProvenWorking(ev, node.name)) return [];
  const { publicIP, publicIPOverwrite, nodePublicIP } = node.flannel;
  const pod = ev.snapshot.flannel.pods.find((p) => p.node === node.name);
  const out: WrongOverride[] = [];
  if (publicIPOverwrite && publicIP === publicIPOverwrite) {
    const why = whyWrong(ev, node.name, publicIPOverwrite);
    if (why) out.push({ node: node.name, annotation: FLANNEL_ANNOTATIONS.publicIPOverwrite, value: publicIPOverwrite, why });
  }
  if (nodePublicIP && nodePublicIP !== publicIPOverwrite) {
    const why = whyWrong(ev, node.name, nodePublicIP);
    const notHeld = !addressHolders(ev, nodePublicIP).some((h) => h.node === node.name);
    // advertised, or (not held by the node) the reason flanneld cannot start there
    const crashing = notHeld && pod !== undefined && !pod.ready;
    if (why && (publicIP === nodePublicIP || crashing)) {
      const exits = crashing ? [`${describeFlannelPod(pod)}: flanneld exits when no interface holds its --public-ip`] : [];
      out.push({ node: node.name, annotation: FLANNEL_ANNOTATIONS.nodePublicIP, value: nodePublicIP, why: [...why, ...exits] });
    }
  }
  return out;
}

function evidenceLines(ev: CheckEvidence, w: WrongOverride): string[] {
  const host = hostOf(ev, w.node);
  const device = flannelDevice(ev, host);
  const sentThere = ev.hosts.flatMap((h) => {
    if (h.node === w.node) return [];
    const there = (dst: string) => dst === w.value;
    return inMacOwnerOrder(ev, [...(h.fdb ?? []).filter((e) => there(e.dst)), ...elidedFdbTo(ev, h, there)]).map((e) => describeFdb(h.node, e));
  });
  return [
    `${w.node}: annotation ${w.annotation}=${w.value}`,
    ...w.why,
    ...(device ? [describeVxlan(w.node, device)] : []),
    ...capLines(sentThere, 3, "FDB entries sending there"),
  ];
}

export function publicIpOverwriteWrong(ev: CheckEvidence): Finding | undefined {
  const wrong = ev.snapshot.nodes.flatMap((n) => wrongOverrides(ev, n));
  if (wrong.length === 0) return undefined;
  const nodes = [...new Set(wrong.map((w) => w.node))];
  const plan = planRemovePublicIpOverride(ev, wrong);
  const names = joinNames([...new Set(wrong.map((w) => w.annotation))]);
  return {
    id: "public-ip-overwrite-wrong",
    severity: "critical",
    nodes,
    evidence: wrong.flatMap((w) => evidenceLines(ev, w)),
    explanation:
      `The ${names} annotation on ${joinNames(nodes)} tells flannel which address its peers send VXLAN packets to ` +
      "(public-ip-overwrite is copied into public-ip as it stands; node-public-ip becomes --public-ip and picks the interface holding it). " +
      `That address is not one ${nodes.length === 1 ? "this node" : "these nodes"} can be reached at, so every peer's FDB entry sends the encapsulated ` +
      `packets nowhere and pods on other nodes cannot reach the pods of ${joinNames(nodes)}. Remove the annotation and restart flannel there: ` +
      "flannel reads it only when it starts, and then advertises the address of the interface it uses.",
    remediations: plan ? [plan] : [],
    trace: representativeTrace(ev, nodes),
  };
}

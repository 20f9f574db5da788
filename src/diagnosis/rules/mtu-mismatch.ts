// flannel.1's MTU must leave 50 bytes of the underlay's for the VXLAN
// headers, and cni0 must not exceed flannel.1. Pings and handshakes still
// pass; full-size packets do not.
import type { CheckEvidence, Finding } from "../../model/index.js";
import { flannelDevice, hostOf, POD_BRIDGE, vtepInterface } from "../cluster-view.js";
import { joinNames } from "../evidence-lines.js";
import { severityByFailures } from "../matrix-view.js";
import { representativeTrace } from "../path-trace.js";

/** VXLAN header + outer UDP, IP and Ethernet headers. */
const VXLAN_OVERHEAD = 50;

function mtuProblems(ev: CheckEvidence, node: string): string[] {
  const host = hostOf(ev, node);
  const device = flannelDevice(ev, host);
  if (!device || !host?.interfaces) return [];
  const underlayName = vtepInterface(ev, node)?.name;
  const underlay = host.interfaces.find((i) => i.name === underlayName);
  const bridge = host.interfaces.find((i) => i.name === POD_BRIDGE);
  const lines: string[] = [];
  if (underlay && device.mtu > underlay.mtu - VXLAN_OVERHEAD) {
    lines.push(
      `${node}: ${device.name} MTU ${device.mtu} > ${underlay.name} MTU ${underlay.mtu} − ${VXLAN_OVERHEAD} = ${underlay.mtu - VXLAN_OVERHEAD} (the most VXLAN over ${underlay.name} carries)`,
    );
  }
  if (bridge && bridge.mtu > device.mtu) lines.push(`${node}: ${POD_BRIDGE} MTU ${bridge.mtu} > ${device.name} MTU ${device.mtu}`);
  return lines;
}

/** Where this installation keeps net-conf.json, in words: k3s writes its own file on each node; RKE2 renders canal's ConfigMap from the chart. */
function netConfHome(ev: CheckEvidence): string {
  const { distribution, daemonSet } = ev.snapshot.flannel;
  if (distribution === "k3s") return "k3s's own net-conf.json on each node (k3s writes it at start; its --flannel-conf option names a file of yours instead)";
  if (distribution === "rke2-canal")
    return "ConfigMap kube-system/rke2-canal-config, which RKE2 renders from the rke2-canal chart: change it through the HelmChartConfig rke2-canal";
  return `flannel's ConfigMap${daemonSet ? ` in ${daemonSet.namespace}` : ""} (kube-flannel-cfg in the upstream manifest)`;
}

export function mtuMismatch(ev: CheckEvidence): Finding | undefined {
  const found = ev.snapshot.nodes.map((n) => ({ node: n.name, lines: mtuProblems(ev, n.name) })).filter((f) => f.lines.length > 0);
  if (found.length === 0) return undefined;
  const nodes = found.map((f) => f.node);
  return {
    id: "mtu-mismatch",
    severity: severityByFailures(ev, nodes),
    nodes,
    evidence: found.flatMap((f) => f.lines),
    explanation:
      `On ${joinNames(nodes)} the overlay's MTU is larger than the underlay can carry: VXLAN adds ${VXLAN_OVERHEAD} bytes to every packet, so ` +
      "flannel.1 must be at most the underlay interface's MTU minus 50, and cni0 and the pods at most flannel.1's. Small packets (ping, TCP " +
      'handshakes) pass, full-size ones are dropped, so bulk transfers stall. Set "MTU" in the Backend section of net-conf.json ' +
      `(${netConfHome(ev)}) or fix the NIC's MTU, then restart flannel; existing pods keep the MTU they were created with until they ` +
      "are recreated. xnode has no automatic fix for this.",
    remediations: [],
    trace: representativeTrace(ev, nodes),
  };
}

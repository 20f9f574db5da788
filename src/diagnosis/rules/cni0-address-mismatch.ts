// cni0 holds an IPv4 address outside the node's podCIDR, left from an earlier
// podCIDR (a node re-joined, flannel reinstalled with another Network). The
// CNI bridge plugin wants exactly the gateway (the podCIDR's first address)
// and refuses any other IPv4 address on the bridge (plugins/main/bridge
// ensureAddr: "cni0" already has an IP address different from …), and
// without an address in the podCIDR the node has no connected route to its pods.
import type { CheckEvidence, Finding, NodeSnapshot } from "../../model/index.js";
import { hostOf, POD_BRIDGE } from "../cluster-view.js";
import { describeRoute, joinNames } from "../evidence-lines.js";
import { cidrContains, formatIpv4, parseCidr } from "../ipv4.js";
import { routeLookup, routeProblem } from "../overlay-entries.js";
import { representativeTrace } from "../path-trace.js";
import { planFixCni0Address, type Cni0Repair } from "../remediation/plan-host-fixes.js";

/** "10.244.1.0/24" → "10.244.1.1/24": what host-local IPAM uses as the gateway and the bridge plugin puts on cni0. */
export function podGateway(podCIDR: string): string | undefined {
  const net = parseCidr(podCIDR);
  return net && net.prefixLength < 31 ? `${formatIpv4(net.network + 1)}/${net.prefixLength}` : undefined;
}

function repairOf(ev: CheckEvidence, node: NodeSnapshot): { repair: Cni0Repair; lines: string[] } | undefined {
  const host = hostOf(ev, node.name);
  const bridge = host?.interfaces?.find((i) => i.name === POD_BRIDGE);
  const gateway = node.podCIDR && podGateway(node.podCIDR);
  if (!host || !bridge || !gateway || !node.podCIDR) return undefined;
  const shown = bridge.addresses.map((a) => `${a.address}/${a.prefixLength}`);
  const stale = shown.filter((a) => !cidrContains(node.podCIDR!, a.split("/")[0]!));
  if (stale.length === 0) return undefined;
  const lines = [
    `${node.name} ${POD_BRIDGE}: ${shown.join(", ")}; ${stale.join(", ")} outside its podCIDR ${node.podCIDR} (the bridge plugin wants ${gateway})`,
  ];
  const own = host.routes && routeProblem(routeLookup(host.routes, formatIpv4(parseCidr(node.podCIDR)!.network + 2)), node.podCIDR);
  if (own) lines.push(`${node.name}: ${own}, its own podCIDR: packets for its pods never reach ${POD_BRIDGE}`);
  else {
    const route = host.routes?.find((r) => r.dst === node.podCIDR);
    if (route) lines.push(`${node.name}: ${describeRoute(route)}`);
  }
  return { repair: { node: node.name, gateway, hasGateway: shown.includes(gateway), stale }, lines };
}

export function cni0AddressMismatch(ev: CheckEvidence): Finding | undefined {
  const found = ev.snapshot.nodes.flatMap((n) => repairOf(ev, n) ?? []);
  if (found.length === 0) return undefined;
  const nodes = found.map((f) => f.repair.node);
  const plan = planFixCni0Address(found.map((f) => f.repair));
  const gateways = joinNames(found.map((f) => f.repair.gateway));
  return {
    id: "cni0-address-mismatch",
    severity: "critical",
    nodes,
    evidence: found.flatMap((f) => f.lines),
    explanation:
      `${POD_BRIDGE} on ${joinNames(nodes)} carries an address outside the node's podCIDR, left from an earlier podCIDR (the node re-joined the ` +
      "cluster, or flannel was reinstalled with another network). Without an address in the podCIDR the node has no route to its own pods, " +
      "so traffic from other nodes arriving over flannel.1 never reaches them, and the pods' gateway does not exist. New pods fail to start: " +
      `the CNI bridge plugin refuses to add ${gateways} next to another IPv4 address ("${POD_BRIDGE}" already has an IP address different from ${gateways}). ` +
      `Give ${POD_BRIDGE} the gateway address and remove the stale one (or delete ${POD_BRIDGE} and let the plugin recreate it).`,
    remediations: plan ? [plan] : [],
    trace: representativeTrace(ev, nodes),
  };
}

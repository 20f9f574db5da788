// Two or more nodes claim the same VTEP address (public-ip annotation or
// flannel.1's local): each sends its peers' VXLAN packets to an address it
// holds itself, so they never leave the node (the seed: 10.0.2.15 on every VM).
import type { CheckEvidence, Finding } from "../../model/index.js";
import { flannelDevice, hostOf, inMacOwnerOrder, inNodeOrder, interfaceHolding } from "../cluster-view.js";
import { elidedFdbTo } from "../overlay-templates.js";
import { describeFdb, describeVxlan, joinNames } from "../evidence-lines.js";
import { representativeTrace } from "../path-trace.js";

export function vtepDuplicatePublicIp(ev: CheckEvidence): Finding | undefined {
  const claims = new Map<string, Set<string>>();
  for (const node of ev.snapshot.nodes) {
    const local = flannelDevice(ev, hostOf(ev, node.name))?.local;
    for (const address of new Set([node.flannel.publicIP, local])) {
      if (address) claims.set(address, (claims.get(address) ?? new Set()).add(node.name));
    }
  }
  const shared = [...claims].filter(([, nodes]) => nodes.size >= 2);
  if (shared.length === 0) return undefined;

  const lines = shared.map(([address, claimants]) => {
    const names = inNodeOrder(ev, claimants);
    const annotated = names.filter((n) => ev.snapshot.nodes.find((s) => s.name === n)?.flannel.publicIP === address);
    return annotated.length >= 2 ? `public-ip ${address} on ${joinNames(annotated)}` : `VTEP address ${address} on ${joinNames(names)}`;
  });
  const nodes = inNodeOrder(
    ev,
    shared.flatMap(([, claimants]) => [...claimants]),
  );
  for (const name of nodes) {
    const host = hostOf(ev, name);
    const device = flannelDevice(ev, host);
    const overwrite = ev.snapshot.nodes.find((n) => n.name === name)?.flannel.publicIPOverwrite;
    if (device) lines.push(describeVxlan(name, device));
    if (overwrite) lines.push(`${name}: public-ip-overwrite ${overwrite}`);
    // FDB entries sending a peer's traffic to an address this node holds: the packets stay here
    const local = (dst: string) => interfaceHolding(host, dst) !== undefined;
    const fdb = host ? [...(host.fdb ?? []).filter((e) => local(e.dst)), ...elidedFdbTo(ev, host, local)] : [];
    const looped = fdb.filter((e) => device && e.dev === device.name);
    for (const entry of inMacOwnerOrder(ev, looped)) lines.push(`${describeFdb(name, entry)} (a local address of ${name})`);
  }
  const addresses = joinNames(shared.map(([address]) => address));
  return {
    id: "vtep-duplicate-public-ip",
    severity: "critical",
    nodes,
    evidence: lines,
    explanation:
      `${joinNames(nodes)} advertise the same VTEP address ${addresses}. Each node sends VXLAN packets for a peer's pods to that peer's public-ip; ` +
      "when that address is one the sender holds itself, the kernel delivers the packets locally and they never reach the peer, so pods on " +
      "different nodes cannot reach each other while same-node traffic works. This happens when every machine has an identical NAT adapter " +
      "(VirtualBox/Vagrant give each VM 10.0.2.15) holding the default route, which flannel picks unless told otherwise. Make flannel use the " +
      "interface the nodes reach each other on (--iface or --iface-regex, see vtep-wrong-interface), or correct a public-ip-overwrite annotation if one is set.",
    remediations: [],
    trace: representativeTrace(ev, nodes),
  };
}

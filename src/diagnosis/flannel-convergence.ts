// Has flannel finished programming the cluster after a change? A pod can be
// Ready before flanneld programmed anything (no readinessProbe before
// v0.28.9), so Ready proves nothing: every node must advertise the expected
// address, its flannel.1 must sit on it with the advertised MAC, and its
// routes, neighbour and FDB entries must match every peer's annotations.
import type { CheckEvidence } from "../model/index.js";
import { flannelDevice, hostOf, nodeNamed, sameMac } from "./cluster-view.js";
import { overlayEntryProblems, type EntryProblem } from "./overlay-entries.js";

/** What is not converged yet, one line per thing (empty: converged). `nodes` limits the check (default: every flannel node). */
export function convergenceProblems(ev: CheckEvidence, expected: Readonly<Record<string, string>> = {}, nodes?: readonly string[]): string[] {
  const lines: string[] = [];
  for (const node of ev.snapshot.nodes) {
    if (!node.podCIDR || (nodes && !nodes.includes(node.name))) continue;
    const host = hostOf(ev, node.name);
    const unread = host?.errors.find((e) => ["addresses", "routes", "vxlan-devices", "fdb", "neighbours"].includes(e.probe) || e.probe === "host-agent");
    if (!host || unread) {
      lines.push(`${node.name}: the host agent could not be read${unread ? ` (${unread.message})` : ""}`);
      continue;
    }
    const annotated = node.flannel.publicIP;
    const want = expected[node.name];
    if (want !== undefined && annotated !== want) lines.push(`${node.name}: advertises public-ip ${annotated ?? "(none)"}, expected ${want}`);
    if (node.flannel.backendType !== "vxlan" && node.flannel.backendType !== undefined) continue;
    const device = flannelDevice(ev, host);
    if (!device) {
      lines.push(`${node.name}: flannel's VXLAN device is not there yet`);
      continue;
    }
    // public-ip-overwrite advertises an address that need not be local
    if (!node.flannel.publicIPOverwrite && device.local !== annotated)
      lines.push(`${node.name}: ${device.name} local ${device.local ?? "(none)"} ≠ public-ip ${annotated ?? "(none)"}`);
    if (node.flannel.vtepMac && !sameMac(device.mac, node.flannel.vtepMac))
      lines.push(`${node.name}: ${device.name} MAC ${device.mac ?? "(none)"} ≠ VtepMAC ${node.flannel.vtepMac}`);
    // an entry that says what the peer's annotations say is programmed, even toward an address no node holds (a restored overwrite)
    const programmedAsAnnotated = (p: EntryProblem) => p.kind === "fdb" && p.dst !== undefined && p.dst === nodeNamed(ev, p.peer ?? "")?.flannel.publicIP;
    lines.push(...overlayEntryProblems(ev, node.name).flatMap((p) => (programmedAsAnnotated(p) ? [] : [p.line])));
  }
  return lines;
}

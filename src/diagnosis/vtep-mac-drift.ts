// VtepMAC drift: flannel.1's MAC is not the VtepMAC the node's backend-data
// annotation advertises (systemd's MACAddressPolicy=persistent rewrote it
// after flannel published it: flannel #1155, #1795). Peers address their
// frames to the advertised MAC, so the node's VTEP drops them as not its own.
import type { CheckEvidence } from "../model/index.js";
import { flannelDevice, hostOf, nodeNamed, sameMac } from "./cluster-view.js";
import { elidedFdbFor, elidedNeighbour } from "./overlay-templates.js";
import { describeFdb, describeNeighbour } from "./evidence-lines.js";
import { networkAddress } from "./ipv4.js";

export interface VtepMacDrift {
  node: string;
  /** what flannel.1 has */
  deviceMac: string;
  /** what the node advertises */
  annotatedMac: string;
  lines: string[];
}

export function vtepMacDrift(ev: CheckEvidence, name: string): VtepMacDrift | undefined {
  const node = nodeNamed(ev, name);
  const device = flannelDevice(ev, hostOf(ev, name));
  const deviceMac = device?.mac ?? hostOf(ev, name)?.interfaces?.find((i) => i.name === device?.name)?.mac;
  const annotatedMac = node?.flannel.vtepMac;
  if (!node?.podCIDR || !device || !deviceMac || !annotatedMac || sameMac(deviceMac, annotatedMac)) return undefined;
  const has = `(${name}'s ${device.name} has ${deviceMac})`;
  const lease = networkAddress(node.podCIDR);
  // what the peers address this node's frames to
  const peerLines = ev.hosts.flatMap((h) => {
    if (h.node === name) return [];
    const peerDevice = flannelDevice(ev, h)?.name;
    const neighbour = peerDevice && lease ? elidedNeighbour(ev, h, lease, peerDevice) : undefined;
    const entry = peerDevice ? elidedFdbFor(ev, h, peerDevice, annotatedMac) : undefined;
    const neighbours = [...(h.neighbours ?? []), ...(neighbour ? [neighbour] : [])]
      .filter((n) => n.dev === peerDevice && n.dst === lease)
      .map((n) => `${describeNeighbour(h.node, n)} ${has}`);
    const fdb = [...(h.fdb ?? []), ...(entry ? [entry] : [])]
      .filter((e) => e.dev === peerDevice && sameMac(e.mac, annotatedMac))
      .map((e) => `${describeFdb(h.node, e)} ${has}`);
    return [...neighbours, ...fdb];
  });
  return {
    node: name,
    deviceMac,
    annotatedMac,
    lines: [`${name} ${device.name}: MAC ${deviceMac}, but ${name}'s VtepMAC (backend-data annotation) is ${annotatedMac}`, ...peerLines],
  };
}

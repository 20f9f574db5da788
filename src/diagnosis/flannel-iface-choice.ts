// The interface and address flanneld picks on a node (IPv4), imitating
// main.go and pkg/ipmatch LookupExtIface: each --iface in order (a name, or
// an IP: the interface holding it), then each --iface-regex against EVERY
// IPv4 address of every interface (by index), then against interface names,
// then --iface-can-reach (the route to it). With none of these, the
// node-public-ip annotation or --public-ip selects the interface holding that
// address, else the interface of the default route. The external (VTEP)
// address is --public-ip / node-public-ip when given, else the chosen address.
import type { CheckEvidence, FlannelFlag, HostEvidence, InterfaceInfo, NodeSnapshot } from "../model/index.js";
import { interfaceHolding } from "./cluster-view.js";
import { expandedHost } from "./overlay-templates.js";
import { flagNamed, ifaceSelection } from "./flannel-flags.js";
import { cidrContains, parseCidr, parseIpv4 } from "./ipv4.js";

export interface IfaceChoiceResult {
  iface?: string;
  /** the interface address flannel binds (VXLAN `local` before v0.27.4) */
  address?: string;
  /** the address flannel advertises as public-ip */
  external?: string;
  /** how flannel came to it, or why it finds nothing (then flanneld exits: "Failed to find interface to use…") */
  how: string;
}

const ipv4Of = (i: InterfaceInfo) => i.addresses.map((a) => a.address).filter((a) => parseIpv4(a) !== undefined);

function byNameOrIp(host: HostEvidence, value: string): { iface: InterfaceInfo; address?: string } | undefined {
  if (parseIpv4(value) !== undefined) {
    const iface = interfaceHolding(host, value);
    return iface && { iface, address: value };
  }
  const iface = host.interfaces?.find((i) => i.name === value);
  return iface && { iface, address: ipv4Of(iface)[0] };
}

/** Go's RE2 and JavaScript agree on the patterns people write here; one JavaScript cannot compile matches nothing, as in flanneld. */
function compile(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern);
  } catch {
    return undefined;
  }
}

function byRegex(host: HostEvidence, pattern: string): { iface: InterfaceInfo; address?: string; on: string } | undefined {
  const re = compile(pattern);
  if (!re) return undefined;
  const ordered = [...(host.interfaces ?? [])].sort((a, b) => a.index - b.index);
  for (const iface of ordered) {
    const address = ipv4Of(iface).find((a) => re.test(a));
    if (address) return { iface, address, on: `address ${address}` };
  }
  const named = ordered.find((i) => re.test(i.name));
  return named && { iface: named, address: ipv4Of(named)[0], on: `name ${named.name}` };
}

/** The most specific route covering `target` (what `ip route get` answers, without policy rules). */
function routeDevice(host: HostEvidence, target: string): string | undefined {
  let best: { dev: string; prefix: number } | undefined;
  for (const r of host.routes ?? []) {
    if (!r.dev || (r.type !== undefined && r.type !== "unicast")) continue;
    const cidr = r.dst === "default" ? "0.0.0.0/0" : r.dst.includes("/") ? r.dst : `${r.dst}/32`;
    const prefix = parseCidr(cidr)?.prefixLength;
    if (prefix === undefined || !cidrContains(cidr, target)) continue;
    if (!best || prefix > best.prefix) best = { dev: r.dev, prefix };
  }
  return best?.dev;
}

function picked(iface: InterfaceInfo, address: string | undefined, external: string | undefined, how: string): IfaceChoiceResult {
  if (address === undefined) return { how: `${how}, but ${iface.name} has no IPv4 address` };
  return { iface: iface.name, address, external: external ?? address, how };
}

export function flannelIfaceChoice(flags: readonly FlannelFlag[], node: NodeSnapshot, host: HostEvidence): IfaceChoiceResult {
  // flanneld replaces --public-ip with the node-public-ip annotation when that is set
  const publicIP = node.flannel.nodePublicIP ?? flagNamed(flags, "public-ip")?.values.at(-1);
  const selection = ifaceSelection(flags);
  if (selection.length === 0) {
    if (publicIP) {
      const holder = interfaceHolding(host, publicIP);
      return holder ? picked(holder, publicIP, publicIP, `the interface holding public IP ${publicIP}`) : { how: `no interface holds public IP ${publicIP}` };
    }
    const dev = host.routes?.find((r) => r.dst === "default" && r.dev)?.dev;
    const iface = dev === undefined ? undefined : host.interfaces?.find((i) => i.name === dev);
    return iface ? picked(iface, ipv4Of(iface)[0], publicIP, `the default route's interface ${iface.name}`) : { how: "no default route" };
  }
  for (const value of flagNamed(flags, "iface")?.values ?? []) {
    const found = byNameOrIp(host, value);
    if (found) return picked(found.iface, found.address, publicIP, `--iface=${value}`);
  }
  for (const pattern of flagNamed(flags, "iface-regex")?.values ?? []) {
    const found = byRegex(host, pattern);
    if (found) return picked(found.iface, found.address, publicIP, `--iface-regex=${pattern} matching ${found.on}`);
  }
  const reach = flagNamed(flags, "iface-can-reach")?.values.at(-1);
  const dev = reach === undefined ? undefined : routeDevice(host, reach);
  const iface = dev === undefined ? undefined : host.interfaces?.find((i) => i.name === dev);
  // flanneld uses the route's source address; the interface's first address stands in for it
  if (iface) return picked(iface, ipv4Of(iface)[0], publicIP, `--iface-can-reach=${reach} (the route to it leaves through ${iface.name})`);
  return { how: `no interface matches ${selection.flatMap((f) => f.values.map((v) => `--${f.name}=${v}`)).join(", ")}` };
}

/**
 * The host evidence flannelIfaceChoice needs: the default route is always in
 * the lists as read; --iface-can-reach looks up any address, so only then are
 * the routes compaction took out filled in (for that one host).
 */
export function routesForChoice(ev: CheckEvidence, host: HostEvidence, flags: readonly FlannelFlag[]): HostEvidence {
  return flagNamed(flags, "iface-can-reach") ? expandedHost(ev, host) : host;
}

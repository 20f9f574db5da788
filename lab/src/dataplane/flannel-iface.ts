// flanneld's choice of the external interface (main.go + pkg/ipmatch), over
// the interfaces a scenario gives a node. Pure: the lab knows every node's
// interfaces and routes from the scenario, so no kernel lookup is needed.
// Order, as flanneld: no selection flag → the default-route interface (or,
// with a node-public-ip annotation, the interface holding that address);
// otherwise each --iface (name or IP) in turn, then each --iface-regex
// (first against every IPv4 address, then against names), then --iface-can-reach.
// The address flannel uses (VXLAN local, public-ip) is the external address:
// node-public-ip when set (v0.27.4+), else the matched or first address.
import type { ScenarioInterface, ScenarioNode } from "../scenario.js";
import { parseFlannelArgs } from "./flannel-args.js";
import { addressOf, cidrContains, isIpv4 } from "./ipv4.js";

export type IfaceChoice = { ok: true; iface: string; address: string } | { ok: false; error: string };

export const NO_MATCHING_IFACE_ERROR = "Failed to find interface to use that matches the interfaces and/or regexes provided";

/** Every IPv4 address of the interface, primary first (as `ip addr` lists them). */
const addressesOf = (f: ScenarioInterface): string[] => [f.address, ...(f.extraAddresses ?? [])].map(addressOf);

interface Match {
  f: ScenarioInterface;
  /** the address that matched, when the match was by address */
  address?: string;
}

function byNameOrAddress(node: ScenarioNode, value: string): Match | undefined {
  if (isIpv4(value)) {
    const f = node.interfaces.find((i) => addressesOf(i).includes(value));
    return f && { f, address: value };
  }
  const f = node.interfaces.find((i) => i.name === value);
  return f && { f };
}

function byRegex(node: ScenarioNode, source: string): Match | undefined {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch {
    return undefined; // flanneld logs "Could not find valid interface matching ..." and tries the next one
  }
  for (const f of node.interfaces) {
    const address = addressesOf(f).find((a) => re.test(a));
    if (address) return { f, address };
  }
  const f = node.interfaces.find((i) => re.test(i.name));
  return f && { f };
}

/** What `ip route get IP` would answer on the node: a connected network, else the default route. */
function routeTo(node: ScenarioNode, ip: string): Match | undefined {
  if (!isIpv4(ip)) return undefined;
  const f =
    node.interfaces.find((i) => [i.address, ...(i.extraAddresses ?? [])].some((a) => cidrContains(a, ip))) ?? node.interfaces.find((i) => i.defaultRoute);
  return f && { f };
}

/**
 * `publicIP`: the node's flannel.alpha.coreos.com/node-public-ip annotation
 * (flanneld's GetStoredPublicIP feeds it into --public-ip).
 */
export function chooseInterface(node: ScenarioNode, args: string[], opts: { publicIP?: string } = {}): IfaceChoice {
  let flags;
  try {
    flags = parseFlannelArgs(args);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  const publicIP = opts.publicIP || flags.publicIP || undefined;
  if (publicIP !== undefined && !isIpv4(publicIP)) return { ok: false, error: `invalid public IP address: ${publicIP}` };
  const result = (m: Match): IfaceChoice => ({ ok: true, iface: m.f.name, address: publicIP ?? m.address ?? addressOf(m.f.address) });
  if (flags.iface.length === 0 && flags.ifaceRegex.length === 0 && flags.ifaceCanReach === undefined) {
    if (publicIP !== undefined) {
      const holder = byNameOrAddress(node, publicIP);
      return holder
        ? result(holder)
        : { ok: false, error: `Failed to find any valid interface to use: error looking up interface ${publicIP}: No interface with given IP found` };
    }
    const route = node.interfaces.find((f) => f.defaultRoute);
    return route
      ? result({ f: route })
      : { ok: false, error: "Failed to find any valid interface to use: failed to get default interface: Unable to find default route" };
  }
  const found =
    flags.iface.map((v) => byNameOrAddress(node, v)).find((m) => m !== undefined) ??
    flags.ifaceRegex.map((re) => byRegex(node, re)).find((m) => m !== undefined) ??
    (flags.ifaceCanReach !== undefined ? routeTo(node, flags.ifaceCanReach) : undefined);
  return found ? result(found) : { ok: false, error: NO_MATCHING_IFACE_ERROR };
}

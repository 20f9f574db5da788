// flanneld's choice of the external interface (main.go + pkg/ipmatch), over
// the interfaces a scenario gives a node. Pure: the lab knows every node's
// interfaces and routes from the scenario, so no kernel lookup is needed.
// Order, as flanneld: no selection flag → the default-route interface;
// otherwise each --iface (name or IP) in turn, then each --iface-regex
// (first against addresses, then against names), then --iface-can-reach.
import type { ScenarioInterface, ScenarioNode } from "../scenario.js";
import { parseFlannelArgs } from "./flannel-args.js";
import { addressOf, cidrContains, isIpv4 } from "./ipv4.js";

export type IfaceChoice = { ok: true; iface: string; address: string } | { ok: false; error: string };

export const NO_MATCHING_IFACE_ERROR = "Failed to find interface to use that matches the interfaces and/or regexes provided";

const chosen = (f: ScenarioInterface): IfaceChoice => ({ ok: true, iface: f.name, address: addressOf(f.address) });

function byNameOrAddress(node: ScenarioNode, value: string): ScenarioInterface | undefined {
  if (isIpv4(value)) return node.interfaces.find((f) => addressOf(f.address) === value);
  return node.interfaces.find((f) => f.name === value);
}

function byRegex(node: ScenarioNode, source: string): ScenarioInterface | undefined {
  let re: RegExp;
  try {
    re = new RegExp(source);
  } catch {
    return undefined; // flanneld logs "Could not find valid interface matching ..." and tries the next one
  }
  return node.interfaces.find((f) => re.test(addressOf(f.address))) ?? node.interfaces.find((f) => re.test(f.name));
}

/** What `ip route get IP` would answer on the node: a connected network, else the default route. */
function routeTo(node: ScenarioNode, ip: string): ScenarioInterface | undefined {
  if (!isIpv4(ip)) return undefined;
  return node.interfaces.find((f) => cidrContains(f.address, ip)) ?? node.interfaces.find((f) => f.defaultRoute);
}

export function chooseInterface(node: ScenarioNode, args: string[]): IfaceChoice {
  let opts;
  try {
    opts = parseFlannelArgs(args);
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
  if (opts.iface.length === 0 && opts.ifaceRegex.length === 0 && opts.ifaceCanReach === undefined) {
    const route = node.interfaces.find((f) => f.defaultRoute);
    return route
      ? chosen(route)
      : { ok: false, error: "Failed to find any valid interface to use: failed to get default interface: Unable to find default route" };
  }
  const found =
    opts.iface.map((v) => byNameOrAddress(node, v)).find((f) => f !== undefined) ??
    opts.ifaceRegex.map((re) => byRegex(node, re)).find((f) => f !== undefined) ??
    (opts.ifaceCanReach !== undefined ? routeTo(node, opts.ifaceCanReach) : undefined);
  return found ? chosen(found) : { ok: false, error: NO_MATCHING_IFACE_ERROR };
}

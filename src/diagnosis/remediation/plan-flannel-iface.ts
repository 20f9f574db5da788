// patch-flannel-iface: make flanneld pick, on every node, the interface the
// underlay pings proved able to reach every other node. By name when that
// name is the proven one everywhere, else by a regex of the shared subnet
// (flannel tries --iface-regex against interface addresses first, then names).
// Where the setting goes depends on the installation (plan-iface-*.ts).
import type { CheckEvidence, FlannelFlag, RemediationPlan } from "../../model/index.js";
import { hostOf, nodeNamed } from "../cluster-view.js";
import { joinNames } from "../evidence-lines.js";
import { flannelFlagsOn, IFACE_SELECTION_FLAGS } from "../flannel-flags.js";
import { flannelIfaceChoice, routesForChoice, type IfaceChoiceResult } from "../flannel-iface-choice.js";
import { formatIpv4, parseCidr, subnetOf } from "../ipv4.js";
import type { ProvenInterface, UnderlayProof } from "../underlay-proof.js";
import type { IfaceChoice } from "./iface-flags.js";
import { planDaemonSetIface } from "./plan-iface-daemonset.js";
import { planK3sIface } from "./plan-iface-k3s.js";
import { planRke2Iface } from "./plan-iface-rke2.js";

/** `^192\.168\.56\.` for 192.168.56.0/24; a partial octet becomes an alternation of its values. */
export function subnetRegex(cidr: string): string | undefined {
  const net = parseCidr(cidr);
  if (!net || net.prefixLength < 8) return undefined; // wider would match too much to be a choice
  const octets = formatIpv4(net.network).split(".");
  const whole = Math.floor(net.prefixLength / 8);
  if (whole === 4) return `^${octets.join("\\.")}$`;
  const head = octets
    .slice(0, whole)
    .map((o) => `${o}\\.`)
    .join("");
  const spare = 8 - (net.prefixLength % 8);
  if (spare === 8) return `^${head}`;
  const low = Number(octets[whole]);
  const values = Array.from({ length: 2 ** spare }, (_, k) => low + k);
  return `^${head}(${values.join("|")})\\.`;
}

function byName(proof: UnderlayProof): IfaceChoice | undefined {
  const lists = [...proof.proven.values()];
  const common = (lists[0] ?? []).map((p) => p.iface).filter((name) => lists.every((l) => l.some((p) => p.iface === name)));
  const name = common.sort()[0];
  if (name === undefined) return undefined;
  return {
    flagName: "iface",
    value: name,
    flag: `--iface=${name}`,
    needs: `an interface named ${name}`,
    perNode: new Map([...proof.proven].map(([node, l]) => [node, l.find((p) => p.iface === name)!])),
  };
}

/**
 * What flanneld picks on `node` once `flag` replaces its interface-selection
 * flags (the imitation of flanneld, so a plan and flanneld agree: --iface-regex
 * matches any IPv4 address of an interface, not only its first).
 */
function choiceWith(ev: CheckEvidence, node: string, flag: FlannelFlag): IfaceChoiceResult | undefined {
  const snapshot = nodeNamed(ev, node);
  const host = hostOf(ev, node);
  if (!snapshot || !host) return undefined;
  const kept = flannelFlagsOn(ev, node).filter((f) => !IFACE_SELECTION_FLAGS.includes(f.name));
  return flannelIfaceChoice([...kept, flag], snapshot, routesForChoice(ev, host, [...kept, flag]));
}

const planFlag = (name: IfaceChoice["flagName"], value: string): FlannelFlag => ({ name, values: [value], source: "args", from: "the plan" });

/**
 * A subnet every node's proven interface has an address in, whose regex makes
 * flannel land on a proven interface on every node.
 */
function bySubnet(ev: CheckEvidence, proof: UnderlayProof): IfaceChoice | undefined {
  const [first] = [...proof.proven];
  if (!first) return undefined;
  const subnets = first[1].flatMap((p) =>
    (hostOf(ev, p.node)?.interfaces?.find((i) => i.name === p.iface)?.addresses ?? []).flatMap((a) => subnetOf(a.address, a.prefixLength) ?? []),
  );
  for (const subnet of subnets) {
    const regex = subnetRegex(subnet);
    if (!regex) continue;
    const perNode = new Map<string, ProvenInterface>();
    for (const [node, proven] of proof.proven) {
      const picked = choiceWith(ev, node, planFlag("iface-regex", regex))?.iface;
      const match = proven.find((p) => p.iface === picked);
      if (match) perNode.set(node, match);
    }
    if (perNode.size === proof.proven.size)
      return { flagName: "iface-regex", value: regex, flag: `--iface-regex=${regex}`, needs: `an address matching ${regex}`, perNode };
  }
  return undefined;
}

export interface IfacePlan {
  choice?: IfaceChoice;
  plan?: RemediationPlan;
  /** why there is no plan */
  reason?: string;
}

/** node → the address flannel advertises once it uses the chosen interface (a public-ip-overwrite still wins). */
function expectedPublicIPs(ev: CheckEvidence, choice: IfaceChoice): Record<string, string> {
  const out: Record<string, string> = {};
  for (const node of choice.perNode.keys()) {
    const ip = nodeNamed(ev, node)?.flannel.publicIPOverwrite ?? choiceWith(ev, node, planFlag(choice.flagName, choice.value))?.external;
    if (ip) out[node] = ip;
  }
  return out;
}

/** The change that makes flannel use the chosen interface, through whatever owns flannel's configuration on this installation. */
export function planFlannelIface(ev: CheckEvidence, proof: UnderlayProof): IfacePlan {
  if (proof.unproven.length > 0) {
    return { reason: `no interface of ${joinNames(proof.unproven)} was proven (by underlay pings) to reach every other node` };
  }
  const choice = byName(proof) ?? bySubnet(ev, proof);
  if (!choice) return { reason: "the interfaces proven to reach every node share neither a name nor a subnet that selects them on every node" };
  const flannel = ev.snapshot.flannel;
  if (flannel.distribution === "k3s") return { choice, plan: planK3sIface(ev, choice) };
  const ds = flannel.daemonSet;
  if (!ds) return { choice, reason: "the flannel DaemonSet was not found, so there are no args to patch" };
  const expected = expectedPublicIPs(ev, choice);
  if (flannel.distribution === "rke2-canal") return { choice, plan: planRke2Iface(ev, ds, choice, expected) };
  return { choice, plan: planDaemonSetIface(ev, ds, choice, expected) };
}

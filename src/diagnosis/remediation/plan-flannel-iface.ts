// patch-flannel-iface: make flanneld pick, on every node, the interface the
// underlay pings proved able to reach every other node. By name when that
// name is the proven one everywhere, else by a regex of the shared subnet
// (flannel tries --iface-regex against interface addresses first, then names).
// Where the setting goes depends on the installation (plan-iface-*.ts).
import type { CheckEvidence, RemediationPlan } from "../../model/index.js";
import { hostOf, nodeNamed } from "../cluster-view.js";
import { joinNames } from "../evidence-lines.js";
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
 * A subnet every node's proven interface has an address in, whose regex makes
 * flannel land on a proven interface on every node: flannel takes the first
 * interface (by index) whose first IPv4 address matches.
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
    const pattern = new RegExp(regex);
    const perNode = new Map<string, ProvenInterface>();
    for (const [node, proven] of proof.proven) {
      const interfaces = [...(hostOf(ev, node)?.interfaces ?? [])].sort((a, b) => a.index - b.index);
      const picked = interfaces.find((i) => i.addresses[0] !== undefined && pattern.test(i.addresses[0].address));
      const match = picked && proven.find((p) => p.iface === picked.name);
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
  for (const [node, proven] of choice.perNode) {
    const address = hostOf(ev, node)?.interfaces?.find((i) => i.name === proven.iface)?.addresses[0]?.address;
    const ip = nodeNamed(ev, node)?.flannel.publicIPOverwrite ?? address;
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

// patch-flannel-iface: make flanneld pick, on every node, the interface the
// underlay pings proved able to reach every other node. By name when that
// name is the proven one everywhere, else by a regex of the shared subnet
// (flannel tries --iface-regex against interface addresses first, then names).
import type { CheckEvidence, RemediationPlan } from "../../model/index.js";
import { hostOf } from "../cluster-view.js";
import { joinNames } from "../evidence-lines.js";
import { formatIpv4, parseCidr, subnetOf } from "../ipv4.js";
import type { ProvenInterface, UnderlayProof } from "../underlay-proof.js";

const IFACE_FLAGS = ["iface", "iface-regex", "iface-can-reach"];

/** The args split into interface-selection flags (`--iface=x`, `--iface x`, single-dash too) and the rest. */
export function splitIfaceFlags(args: readonly string[]): { others: string[]; iface: string[] } {
  const others: string[] = [];
  const iface: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--?([a-z-]+)(=.*)?$/.exec(args[i]!);
    if (!m || !IFACE_FLAGS.includes(m[1]!)) {
      others.push(args[i]!);
      continue;
    }
    // the space-separated form carries its value in the next arg
    const next = args[i + 1];
    if (m[2] === undefined && next !== undefined && !next.startsWith("-")) {
      iface.push(`${args[i]} ${next}`);
      i++;
    } else {
      iface.push(args[i]!);
    }
  }
  return { others, iface };
}

/** Args without any interface-selection flag, plus `flag`. */
export function withIfaceFlag(args: readonly string[], flag: string): string[] {
  return [...splitIfaceFlags(args).others, flag];
}

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

export interface IfaceChoice {
  flag: string;
  /** what a node needs for the flag to find an interface, in operator words */
  needs: string;
  /** per node, the proven interface the flag selects there */
  perNode: Map<string, ProvenInterface>;
}

function byName(proof: UnderlayProof): IfaceChoice | undefined {
  const lists = [...proof.proven.values()];
  const common = (lists[0] ?? []).map((p) => p.iface).filter((name) => lists.every((l) => l.some((p) => p.iface === name)));
  const name = common.sort()[0];
  if (name === undefined) return undefined;
  return {
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
    if (perNode.size === proof.proven.size) return { flag: `--iface-regex=${regex}`, needs: `an address matching ${regex}`, perNode };
  }
  return undefined;
}

export interface IfacePlan {
  choice?: IfaceChoice;
  plan?: RemediationPlan;
  /** why there is no plan */
  reason?: string;
}

export function planFlannelIface(ev: CheckEvidence, proof: UnderlayProof): IfacePlan {
  if (proof.unproven.length > 0) {
    return { reason: `no interface of ${joinNames(proof.unproven)} was proven (by underlay pings) to reach every other node` };
  }
  const choice = byName(proof) ?? bySubnet(ev, proof);
  if (!choice) return { reason: "the interfaces proven to reach every node share neither a name nor a subnet that selects them on every node" };
  const ds = ev.snapshot.flannel.daemonSet;
  if (!ds) return { choice, reason: "the flannel DaemonSet was not found, so there are no args to patch" };
  const args = withIfaceFlag(ds.args, choice.flag);
  const container = `/spec/template/spec/containers/${ds.containerIndex}`;
  const ops = [
    ...(ds.resourceVersion ? [{ op: "test", path: "/metadata/resourceVersion", value: ds.resourceVersion }] : []),
    // Flags in `command` (old manifests) move to args, or an --iface there would still win.
    ...(ds.command ? [{ op: "replace", path: `${container}/command`, value: ds.command.slice(0, 1) }] : []),
    // "add" also creates args when the container has none.
    { op: "add", path: `${container}/args`, value: args },
  ];
  const plan: RemediationPlan = {
    kind: "patch-flannel-iface",
    summary: `Make flannel use the interface that reaches every node (${choice.flag}) in DaemonSet ${ds.namespace}/${ds.name}`,
    patch: { namespace: ds.namespace, name: ds.name, ops },
    diff: [`args: [${ds.args.join(", ")}] → [${args.join(", ")}]`],
    persistent: true,
    risks: [
      `The args apply to every node: a node without ${choice.needs} crash-loops flannel ("Failed to find interface to use that matches the interfaces and/or regexes provided"), including nodes added later.`,
      "The rollout restarts flannel node by node and recreates flannel.1 with the new VTEP address: cross-node pod traffic pauses briefly on each node.",
      ...(ds.resourceVersion
        ? [`The patch is refused if the DaemonSet changed after resourceVersion ${ds.resourceVersion} was read; re-run the check then.`]
        : []),
    ],
  };
  return { choice, plan };
}

// What a scenario's faults change on each synthetic node, as plain data the
// simulated tools render and the simulated packets obey. The same faults as
// the namespace lab (dataplane/faults.ts) applies with real commands.
import { canonicalCidr } from "../dataplane/ipv4.js";
import { macFrom, type SynthCluster } from "./cluster-plan.js";

export interface NodeFaults {
  /** `-A INPUT -p udp -m udp --dport P -j DROP` */
  inputUdpDrops: number[];
  /** `-t mangle -A PREROUTING -p tcp -m tcp --dport P -j DROP` */
  preroutingTcpDrops: number[];
  /** FORWARD policy DROP and flannel's FLANNEL-FWD jump gone */
  forwardPolicyDrop: boolean;
  /** /proc/sys/net/… overrides, by dotted key */
  sysctls: Record<string, string>;
  /** interface → MTU */
  mtus: Record<string, number>;
  /** canonical CIDRs whose route was deleted */
  deletedRoutes: Set<string>;
  /** peer node → the unused address its FDB entry points to instead */
  staleFdb: Map<string, string>;
  /** firewalld-style native nftables drops */
  nftDrops: { proto: "udp" | "tcp"; port: number; hook: "input" | "forward" }[];
  /** flannel.<VNI>'s MAC now, when it changed after flannel programmed the peers */
  changedVtepMac?: string;
}

function empty(): NodeFaults {
  return {
    inputUdpDrops: [],
    preroutingTcpDrops: [],
    forwardPolicyDrop: false,
    sysctls: {},
    mtus: {},
    deletedRoutes: new Set(),
    staleFdb: new Map(),
    nftDrops: [],
  };
}

const UNSUPPORTED = "a synthetic cluster has no networks and one iptables backend";

export function nodeFaults(c: SynthCluster): Map<string, NodeFaults> {
  const out = new Map<string, NodeFaults>();
  const of = (node: string) => {
    let f = out.get(node);
    if (!f) out.set(node, (f = empty()));
    return f;
  };
  for (const fault of c.scenario.faults) {
    switch (fault.kind) {
      case "drop-udp":
        of(fault.node).inputUdpDrops.push(fault.port);
        break;
      case "drop-tcp":
        of(fault.node).preroutingTcpDrops.push(fault.port);
        break;
      case "forward-policy-drop":
        of(fault.node).forwardPolicyDrop = true;
        break;
      case "sysctl":
        of(fault.node).sysctls[fault.key] = fault.value;
        break;
      case "mtu":
        of(fault.node).mtus[fault.interface] = fault.mtu;
        break;
      case "delete-route":
        of(fault.node).deletedRoutes.add(canonicalCidr(fault.to));
        break;
      case "stale-fdb":
        of(fault.node).staleFdb.set(fault.peer, unusedUnderlayAddress(c));
        break;
      case "nft-drop":
        of(fault.node).nftDrops.push({ proto: fault.proto, port: fault.port, hook: fault.hook });
        break;
      case "vtep-mac-change":
        of(fault.node).changedVtepMac = macFrom(`${fault.node}/vtep/changed`);
        break;
      default:
        throw new Error(`fault ${fault.kind} is not supported in a synthetic cluster (${UNSUPPORTED})`);
    }
  }
  return out;
}

/** The top host address of the underlay: no node holds it (nodes count up from .10). */
function unusedUnderlayAddress(c: SynthCluster): string {
  const [a, b] = c.underlay.cidr.split(".");
  return `${a}.${b}.255.254`;
}

export const NO_FAULTS: NodeFaults = Object.freeze(empty()) as NodeFaults;

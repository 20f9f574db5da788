// NodePort rules in a node namespace, shaped like kube-proxy's iptables mode
// (chain names, mark 0x4000, masquerade of marked packets) so xnode's probes
// read the same iptables-save a real node shows. The NodePort only matches
// packets addressed to one of the node's own addresses (addrtype LOCAL): a
// node curling another node's NodePort must leave the node, as in a cluster.
import { restoreRules } from "./iptables.js";

export interface NodePortBackend {
  name: string;
  podIP: string;
  port: number;
  nodePort: number;
}

export function nodePortRules(backends: readonly NodePortBackend[]): string {
  const comment = (b: NodePortBackend) => `"default/${b.name}"`;
  return [
    "*nat",
    ":KUBE-SERVICES - [0:0]",
    ":KUBE-NODEPORTS - [0:0]",
    ":KUBE-MARK-MASQ - [0:0]",
    ":KUBE-POSTROUTING - [0:0]",
    '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING',
    "-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000",
    "-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN",
    "-A KUBE-POSTROUTING -j MARK --set-xmark 0x4000/0x0",
    "-A KUBE-POSTROUTING -j MASQUERADE --random-fully",
    '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS',
    ...backends.flatMap((b) => [
      `-A KUBE-NODEPORTS -p tcp -m comment --comment ${comment(b)} -m tcp --dport ${b.nodePort} -j KUBE-MARK-MASQ`,
      `-A KUBE-NODEPORTS -p tcp -m comment --comment ${comment(b)} -m tcp --dport ${b.nodePort} -j DNAT --to-destination ${b.podIP}:${b.port}`,
    ]),
    "COMMIT",
    "",
  ].join("\n");
}

/**
 * Installs the rules once per namespace (at build time): the jumps from the
 * built-in chains are appended by the same restore, so calling it twice
 * would duplicate them.
 */
export async function installNodePorts(netns: string, backends: readonly NodePortBackend[]): Promise<void> {
  await restoreRules(netns, nodePortRules(backends));
}

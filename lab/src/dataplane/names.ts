// Network namespace and link names of a lab. Every name is derived from the
// lab prefix and scenario names alone, so a later process (or the clean-up
// after a crash) finds everything again from `ip netns list`.
//
// Namespace names are `${prefix}-<kind>.<scenario names>`. Scenario names match
// [a-z0-9-]+ and never contain a dot, so the first dot marks where the prefix
// and kind end, even when the prefix itself contains dashes.

const prefixPattern = /^[a-z0-9][a-z0-9-]*$/;
const labNetnsPattern = /^([a-z0-9][a-z0-9-]*)-(net|node|pod)\./;

export function assertLabPrefix(prefix: string): void {
  if (!prefixPattern.test(prefix) || prefix.length > 40) {
    throw new Error(`invalid lab prefix ${JSON.stringify(prefix)}: use [a-z0-9-], at most 40 characters`);
  }
}

export const netnsName = {
  network: (prefix: string, network: string) => `${prefix}-net.${network}`,
  node: (prefix: string, node: string) => `${prefix}-node.${node}`,
  agentPod: (prefix: string, node: string) => `${prefix}-pod.${node}.agent`,
  servicePod: (prefix: string, node: string, service: string) => `${prefix}-pod.${node}.svc-${service}`,
};

/** The lab prefix a namespace belongs to, or undefined when it is not a lab namespace. */
export function labPrefixOf(netns: string): string | undefined {
  return labNetnsPattern.exec(netns)?.[1];
}

/** Names of the links the lab creates (at most 15 characters, unique inside their namespace). */
export const linkName = {
  /** bridge of a network namespace */
  networkBridge: "br0",
  /** bridge of a node namespace that pods attach to (made by the CNI bridge plugin on a real node) */
  podBridge: "cni0",
  /** pod side of a pod veth */
  podEth: "eth0",
  /** network-namespace end of a node interface: node i, interface j */
  networkPort: (nodeIndex: number, ifaceIndex: number) => `n${nodeIndex}i${ifaceIndex}`,
  /** node-namespace end of the veth of the node's k-th pod */
  podHostVeth: (podIndex: number) => `veth${podIndex}`,
  vxlan: (vni: number) => `flannel.${vni}`,
};

/**
 * Interface indexes of the veth ends. The kernel delays the carrier event of
 * a device whose ifindex equals its peer's (another namespace can reuse the
 * number) by up to a second (linkwatch treats it as non-urgent), and a bridge
 * port stays "disabled" until then. Distinct ranges keep the two ends of
 * every veth apart, so links come up at once.
 */
export const linkIndex = {
  nodeIface: (ifaceIndex: number) => 10 + ifaceIndex,
  podHostVeth: (podIndex: number) => 100 + podIndex,
  networkPort: (nodeIndex: number, ifaceIndex: number) => 1000 + nodeIndex * 100 + ifaceIndex,
};

/** Pod names the responders report (the API server emulation names its pods on its own). */
export const podName = {
  agent: (node: string) => `xnode-pod-agent-${node}`,
  service: (service: string, node: string) => `${service}-${node}`,
};

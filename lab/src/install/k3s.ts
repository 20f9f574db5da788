// k3s runs flannel inside its own process (k3s-io/k3s pkg/agent/flannel): no
// DaemonSet, no pods, no kube-flannel-cfg. k3s records its command line in the
// Node annotation k3s.io/node-args (a JSON array: ["server", "--flannel-iface",
// "eth1"]); flannel's interface comes from --flannel-iface (looked up by name:
// k3s refuses to start if it is missing), else the default route, as flanneld.
import type { ScenarioNode } from "../scenario.js";

export const K3S_NODE_ARGS = "k3s.io/node-args";

/** The annotations k3s writes on its Node: its command line, the addresses it registered with. */
export function k3sNodeAnnotations(node: ScenarioNode, internalIP: string, args: readonly string[]): Record<string, string> {
  return {
    [K3S_NODE_ARGS]: JSON.stringify([node.role === "control-plane" ? "server" : "agent", ...args]),
    "k3s.io/hostname": node.name,
    "k3s.io/internal-ip": internalIP,
  };
}

/** The value of a k3s flag as `--flag=value` or `--flag value` (the last one wins, as in urfave/cli). */
function k3sFlag(args: readonly string[], flag: string): string | undefined {
  let value: string | undefined;
  args.forEach((a, i) => {
    if (a === `--${flag}`) value = args[i + 1];
    else if (a.startsWith(`--${flag}=`)) value = a.slice(flag.length + 3);
  });
  return value;
}

/** A node's k3s.io/node-args as a list; an unparsable or missing one reads as no flags (a Node k3s never annotated). */
export function parseK3sNodeArgs(annotation: string | undefined): string[] {
  try {
    const list: unknown = JSON.parse(annotation ?? "[]");
    return Array.isArray(list) ? list.filter((a): a is string => typeof a === "string") : [];
  } catch {
    return [];
  }
}

/** flanneld's flags as k3s sets flannel up from its own command line. */
export function flannelArgsFromK3s(nodeArgs: readonly string[]): string[] {
  const iface = k3sFlag(nodeArgs, "flannel-iface");
  return ["--ip-masq", "--kube-subnet-mgr", ...(iface ? [`--iface=${iface}`] : [])];
}

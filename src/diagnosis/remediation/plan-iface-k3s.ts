// patch-flannel-iface on k3s: flannel runs inside the k3s process, configured
// by k3s's own --flannel-iface (the node's /etc/rancher/k3s/config.yaml or the
// service's flags), which no API call can change. So this plan is steps a
// person carries out on each node, never approvable; the add-routes stopgap
// beside it is. Each node's config is its own, so each gets its own interface name.
import type { CheckEvidence, RemediationPlan } from "../../model/index.js";
import type { IfaceChoice } from "./iface-flags.js";

const CONFIG = "/etc/rancher/k3s/config.yaml";

/** The --flannel-iface k3s runs with on `node` now (from its k3s.io/node-args annotation), if any. */
function currentIface(ev: CheckEvidence, node: string): string | undefined {
  const flags = ev.snapshot.nodes.find((n) => n.name === node)?.flannel.flags ?? [];
  return flags.find((f) => f.name === "flannel-iface" || f.name === "iface")?.values.at(-1);
}

export function planK3sIface(ev: CheckEvidence, choice: IfaceChoice): RemediationPlan {
  const nodes = [...choice.perNode].map(([node, proven]) => ({ node, iface: proven.iface, now: currentIface(ev, node) }));
  return {
    kind: "patch-flannel-iface",
    summary: `Set k3s's flannel-iface on each node to the interface that reaches every other node (k3s runs flannel itself: done on the nodes, not through the API)`,
    approvable: false,
    steps: [
      ...nodes.map(
        ({ node, iface, now }) =>
          `On ${node}: in ${CONFIG} ${now ? `change \`flannel-iface: ${now}\` to` : "add"} \`flannel-iface: ${iface}\`, then restart k3s: \`sudo systemctl restart k3s\` on a server, \`sudo systemctl restart k3s-agent\` on an agent.`,
      ),
      `If k3s was started with --flannel-iface in its service (ExecStart in /etc/systemd/system/k3s.service or k3s-agent.service, or INSTALL_K3S_EXEC), change it there instead and run \`sudo systemctl daemon-reload\` first: a command-line flag wins over ${CONFIG}.`,
      "Then re-run the check: each node's flannel.alpha.coreos.com/public-ip should be its address on that interface.",
    ],
    diff: nodes.map(({ node, iface, now }) => `${node}: flannel-iface ${now ?? "(unset)"} → ${iface}`),
    persistent: true,
    risks: [
      "Restarting k3s restarts flannel on that node and recreates flannel.1 with the new VTEP address; on a server it also restarts the API server and the datastore it embeds: do servers one at a time.",
      "Until every node is done, the nodes already changed and the others advertise addresses on different interfaces; the add-routes stopgap keeps pods reachable meanwhile.",
    ],
  };
}

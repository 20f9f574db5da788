// Fixes that end in flannel restarting on a node, so it reads the Node again
// and re-advertises its lease: remove-public-ip-overwrite (an annotation
// removed first) and restart-flannel-pod (VtepMAC drift, stale entries). On k3s flannel
// runs inside k3s: restarting k3s on the node is a step for a person.
import type { CheckEvidence, RemediationPlan } from "../../model/index.js";
import { flannelDevice, hostOf } from "../cluster-view.js";
import { joinNames } from "../evidence-lines.js";
import { restartDiffLine } from "./flannel-diff-lines.js";
import { annotationDiffLine, annotationPath, type FlannelOverrideAnnotation } from "./node-annotations.js";

/** A node whose override annotation makes flannel advertise a wrong address. */
export interface WrongOverride {
  node: string;
  annotation: FlannelOverrideAnnotation;
  value: string;
  /** evidence lines saying why the address is wrong */
  why: string[];
}

const K3S_RESTART = (node: string) =>
  `On ${node}, restart k3s (\`systemctl restart k3s\` on a server, \`systemctl restart k3s-agent\` on an agent): flannel runs inside k3s and reads the Node's annotations only when it starts.`;

/** How a person restarts flannel on `node`, in one phrase: k3s restarted there, or its flannel pod deleted. */
export function flannelRestartCommand(ev: CheckEvidence, node: string): string {
  const { distribution, daemonSet, pods } = ev.snapshot.flannel;
  if (distribution === "k3s") return `on ${node}: systemctl restart k3s (k3s-agent on an agent)`;
  const pod = pods.find((p) => p.node === node);
  return pod && daemonSet ? `kubectl -n ${daemonSet.namespace} delete pod ${pod.name}` : `the flannel pod on ${node}`;
}

/** How flannel gets restarted on `nodes`: its DaemonSet's pods one node at a time, or (k3s, no DaemonSet found) steps. */
function restartOn(ev: CheckEvidence, nodes: readonly string[]): Pick<RemediationPlan, "restartPods" | "steps" | "diff"> | undefined {
  const { distribution, daemonSet } = ev.snapshot.flannel;
  if (distribution === "k3s") return { steps: nodes.map(K3S_RESTART), diff: [] };
  if (!daemonSet) return undefined;
  return { restartPods: { namespace: daemonSet.namespace, daemonSet: daemonSet.name, nodes: [...nodes] }, diff: [restartDiffLine(daemonSet.name, nodes)] };
}

export function planRemovePublicIpOverride(ev: CheckEvidence, wrong: readonly WrongOverride[]): RemediationPlan | undefined {
  const nodes = [...new Set(wrong.map((w) => w.node))];
  const restart = restartOn(ev, nodes);
  if (!restart) return undefined;
  const nodePatches = nodes.map((node) => ({
    node,
    // the test refuses the patch if the annotation changed since it was read
    ops: wrong
      .filter((w) => w.node === node)
      .flatMap((w) => [
        { op: "test", path: annotationPath(w.annotation), value: w.value },
        { op: "remove", path: annotationPath(w.annotation) },
      ]),
  }));
  // without the override flannel advertises the address of the interface its VTEP sits on (flannel.1's local)
  const expectedPublicIPs = Object.fromEntries(
    nodes.flatMap((node) => {
      const local = flannelDevice(ev, hostOf(ev, node))?.local;
      return local && !wrong.some((w) => w.node === node && w.value === local) ? [[node, local]] : [];
    }),
  );
  const k3s = restart.steps !== undefined;
  return {
    kind: "remove-public-ip-overwrite",
    summary: `Remove the ${joinNames([...new Set(wrong.map((w) => w.annotation))])} annotation from ${joinNames(nodes)}, then restart flannel there`,
    nodePatches,
    ...(restart.restartPods ? { restartPods: restart.restartPods } : {}),
    ...(Object.keys(expectedPublicIPs).length > 0 ? { expectedPublicIPs } : {}),
    ...(restart.steps ? { steps: restart.steps } : {}),
    diff: [...wrong.map((w) => annotationDiffLine(w.node, w.annotation, w.value, undefined)), ...restart.diff],
    persistent: true,
    risks: [
      "Whatever wrote the annotation (a provisioning script, configuration management, k3s's --node-external-ip for node-public-ip) may write it again: remove it there too.",
      `flannel restarts on ${joinNames(nodes)} and advertises the address of the interface it picks (its --iface flags, else the default route's); the other nodes re-program their entries for ${nodes.length === 1 ? "it" : "them"} when the Node changes.`,
      "The patch is refused if the annotation's value changed after it was read.",
      ...(k3s ? ["On k3s the annotation is removed through the API, but nothing changes until k3s is restarted on the node (the steps)."] : []),
    ],
  };
}

/**
 * VtepMAC drift: flannel.1's MAC is not the VtepMAC the node advertises.
 * Restarting flannel is the fix, not `ip link set flannel.1 address <annotated MAC>`:
 * flanneld keeps an existing flannel.1 whose VNI, underlay, local address and
 * port match (vxlan/device.go ensureLink; vxlanLinksIncompat never compares the
 * MAC) and publishes that device's MAC in backend-data (vxlan.go newSubnetAttrs
 * uses dev.MACAddr(), the link's own), so after a restart the annotation and
 * every peer's neighbour and FDB entries follow the MAC flannel.1 really has.
 * The annotation's MAC (GetStoredMacAddresses, v0.24.1+) only seeds a device
 * flannel creates. This holds on every version and also when peers hold yet
 * another MAC, which setting flannel.1's MAC back would leave wrong.
 */
export function planRestartFlannel(ev: CheckEvidence, nodes: readonly string[], drifted: readonly string[] = nodes): RemediationPlan | undefined {
  const restart = restartOn(ev, nodes);
  if (!restart) return undefined;
  const k3s = restart.steps !== undefined;
  const stale = nodes.filter((n) => !drifted.includes(n));
  const one = (names: readonly string[], singular: string, plural: string) => `${joinNames(names)} ${names.length === 1 ? singular : plural}`;
  const why = [
    ...(drifted.length > 0 ? [`${one(drifted, "advertises", "advertise")} flannel.1's current MAC and the other nodes re-program their entries`] : []),
    ...(stale.length > 0 ? [`${one(stale, "re-writes its", "re-write their")} entries for every peer from the Node annotations`] : []),
  ];
  return {
    kind: "restart-flannel-pod",
    summary: `Restart flannel on ${joinNames(nodes)} so ${why.join(", and ")}`,
    ...(restart.restartPods ? { restartPods: restart.restartPods } : {}),
    ...(k3s ? { steps: restart.steps, approvable: false } : {}),
    diff: restart.diff,
    persistent: true,
    risks: [
      ...(drifted.length > 0
        ? [
            `Cross-node traffic to ${joinNames(drifted)} keeps failing until each peer has re-programmed its neighbour and FDB entries (seconds after flannel updates the Node).`,
          ]
        : []),
      ...(stale.length > 0 ? [`flannel restarts on ${joinNames(stale)}: its cross-node traffic pauses until it has re-programmed its entries.`] : []),
      ...(drifted.length > 0
        ? [
            "If systemd (MACAddressPolicy=persistent, systemd ≥ 242) rewrote the MAC, it does so again whenever flannel.1 is recreated: add a .link file matching flannel* with MACAddressPolicy=none (flannel #1155).",
          ]
        : ["If something else wrote the entries (a script, a network manager), it may write them again."]),
    ],
  };
}

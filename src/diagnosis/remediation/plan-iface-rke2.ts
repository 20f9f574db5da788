// patch-flannel-iface on RKE2 canal: RKE2's helm controller re-renders the
// rke2-canal chart and reverts a direct DaemonSet edit, so the lasting place is
// the HelmChartConfig rke2-canal (helm.cattle.io/v1, kube-system), value
// flannel.iface (or flannel.regexIface), merged into whatever valuesContent it
// already holds. The chart feeds it to FLANNELD_IFACE through ConfigMap
// rke2-canal-config, which flanneld reads only when it starts: once the
// controller has written the ConfigMap, the canal pods are restarted node by node.
import { parseDocument } from "yaml";
import type { CheckEvidence, FlannelDaemonSetInfo, RemediationPlan } from "../../model/index.js";
import { helmValuesDiffLines, restartDiffLine } from "./flannel-diff-lines.js";
import type { IfaceChoice } from "./iface-flags.js";
import { envNameOf } from "./plan-iface-daemonset.js";

export const HELM_CHART_CONFIG = { group: "helm.cattle.io", version: "v1", plural: "helmchartconfigs" } as const;

/** The chart's ConfigMap keys behind FLANNELD_IFACE / FLANNELD_IFACE_REGEX (rke2-charts packages/rke2-canal templates/config.yaml). */
const CHART_KEYS = { iface: { value: "iface", configMap: "canal_iface" }, "iface-regex": { value: "regexIface", configMap: "canal_iface_regex" } } as const;

/** valuesContent with flannel.<key> set and everything else kept (comments too); undefined when it is not YAML xnode can merge into. */
export function mergeFlannelValue(valuesContent: string | undefined, key: string, value: string): string | undefined {
  const doc = parseDocument(valuesContent ?? "");
  const values: unknown = doc.toJS();
  const flannel = (values as { flannel?: unknown } | null)?.flannel;
  const isMap = (v: unknown) => v !== null && typeof v === "object" && !Array.isArray(v);
  if (doc.errors.length > 0 || (values != null && !isMap(values)) || (flannel != null && !isMap(flannel))) return undefined;
  doc.setIn(["flannel", key], value);
  // flanneld tries --iface before --iface-regex: a regex only counts once iface is empty
  if (key === "regexIface" && doc.getIn(["flannel", "iface"])) doc.setIn(["flannel", "iface"], "");
  return doc.toString();
}

export function planRke2Iface(ev: CheckEvidence, ds: FlannelDaemonSetInfo, choice: IfaceChoice, expected: Record<string, string>): RemediationPlan {
  const hcc = ev.snapshot.flannel.helmChartConfig ?? { namespace: "kube-system", name: "rke2-canal", exists: false };
  const what = `HelmChartConfig ${hcc.namespace}/${hcc.name}`;
  const keys = CHART_KEYS[choice.flagName];
  const nodes = ev.snapshot.nodes.map((n) => n.name).filter((n) => ev.snapshot.flannel.pods.some((p) => p.node === n));
  const common = {
    kind: "patch-flannel-iface" as const,
    persistent: true,
    risks: [
      `flannel.${keys.value} applies to every node: a node without ${choice.needs} crash-loops flannel ("Failed to find interface to use that matches the interfaces and/or regexes provided"), including nodes added later.`,
      `RKE2's helm controller upgrades the rke2-canal release with the new values and rewrites ConfigMap ${keys.configMap}; flannel reads it only when it starts, so xnode then restarts the canal pods one node at a time (calico-node restarts with them): cross-node pod traffic pauses briefly on each node.`,
      "A direct edit of the rke2-canal DaemonSet would be reverted by the controller; this change lives in the HelmChartConfig, which RKE2 keeps across upgrades.",
    ],
  };
  const after = mergeFlannelValue(hcc.valuesContent, keys.value, choice.value);
  if (after === undefined) {
    return {
      ...common,
      summary: `Set flannel.${keys.value}: ${choice.value} in ${what} by hand: its valuesContent is not YAML xnode can merge into`,
      approvable: false,
      steps: [
        `kubectl -n ${hcc.namespace} edit helmchartconfig ${hcc.name}: under spec.valuesContent, set flannel.${keys.value} to ${JSON.stringify(choice.value)}`,
        `then restart the canal pods one node at a time: kubectl -n ${ds.namespace} delete pod -l k8s-app=canal --field-selector spec.nodeName=<node>`,
      ],
      diff: [],
    };
  }
  const envVar = ds.env?.find((e) => e.name === envNameOf(choice.flagName))?.configMapKey;
  const configMap = { namespace: ds.namespace, name: envVar?.name ?? "rke2-canal-config", key: envVar?.key ?? keys.configMap, value: choice.value };
  const customObject: NonNullable<RemediationPlan["customObject"]> = {
    ...HELM_CHART_CONFIG,
    namespace: hcc.namespace,
    name: hcc.name,
    ...(hcc.exists
      ? {
          ops: [
            ...(hcc.valuesContent !== undefined ? [{ op: "test", path: "/spec/valuesContent", value: hcc.valuesContent }] : []),
            { op: "add", path: "/spec/valuesContent", value: after },
          ],
        }
      : {
          create: {
            apiVersion: `${HELM_CHART_CONFIG.group}/${HELM_CHART_CONFIG.version}`,
            kind: "HelmChartConfig",
            metadata: { namespace: hcc.namespace, name: hcc.name },
            spec: { valuesContent: after },
          },
        }),
    reconciledWhen: configMap,
  };
  return {
    ...common,
    summary: `Make flannel use the interface that reaches every node (flannel.${keys.value}: ${choice.value}) through ${what}, which RKE2's helm controller applies to the rke2-canal chart`,
    customObject,
    restartPods: { namespace: ds.namespace, daemonSet: ds.name, nodes },
    expectedPublicIPs: expected,
    diff: [...helmValuesDiffLines(what, !hcc.exists, hcc.valuesContent, after), restartDiffLine(ds.name, nodes)],
    risks: [
      ...common.risks,
      ...(hcc.exists
        ? [
            `The existing valuesContent is kept; only flannel.${keys.value} changes. The change is refused if the valuesContent changed after the check read it.`,
          ]
        : []),
    ],
  };
}

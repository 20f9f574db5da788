// Shapes and small builders the installation renderers share.
import type { Scenario } from "../scenario.js";
import type { ContainerEnvVar } from "./flanneld-flags.js";
import { managerMetadata, type ManagerMetadata } from "./managers.js";
import { netConfJson, type Json } from "./net-conf.js";

export type K8sObjectInit = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

/** The name of flanneld's container in every installation the lab renders. */
export const FLANNEL_CONTAINER = "kube-flannel";

/** What an installation puts into the cluster for flannel (k3s: nothing but Node annotations). */
export interface InstallObjects {
  daemonSet?: K8sObjectInit;
  configMaps: K8sObjectInit[];
  /** further objects (RKE2's HelmChart) */
  others: K8sObjectInit[];
}

export const podFieldEnv = (): ContainerEnvVar[] =>
  [
    ["POD_NAME", "metadata.name"],
    ["POD_NAMESPACE", "metadata.namespace"],
  ].map(([name, fieldPath]) => ({ name: name!, valueFrom: { fieldRef: { fieldPath: fieldPath! } } }) as ContainerEnvVar);

/** The scenario's `env`, as literal values after the installation's own variables. */
export const scenarioEnv = (s: Scenario, skip: readonly string[] = []): ContainerEnvVar[] =>
  Object.entries(s.flannel.env)
    .filter(([name]) => !skip.includes(name))
    .map(([name, value]) => ({ name, value }));

export function updateStrategy(s: Scenario): Record<string, unknown> {
  return s.flannel.updateStrategy === "OnDelete" ? { type: "OnDelete" } : { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } };
}

interface DaemonSetInit {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  selector: Record<string, string>;
  podSpec: Record<string, unknown>;
  updateStrategy: Record<string, unknown>;
  managedBy?: Scenario["flannel"]["managedBy"];
  /** metadata a manager leaves when it is not `managedBy` (RKE2's Helm) */
  metadata?: ManagerMetadata;
}

export function daemonSetObject(d: DaemonSetInit): K8sObjectInit {
  const manager = d.metadata ?? managerMetadata(d.managedBy ?? "none", "DaemonSet", d.namespace, d.name);
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: {
      name: d.name,
      namespace: d.namespace,
      labels: { ...d.labels, ...manager.labels },
      ...(Object.keys(manager.annotations).length > 0 ? { annotations: manager.annotations } : {}),
    },
    spec: {
      selector: { matchLabels: d.selector },
      updateStrategy: d.updateStrategy,
      template: { metadata: { labels: d.labels }, spec: d.podSpec },
    },
    status: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 },
  };
}

/** The scenario's flannel DaemonSet (its name, namespace, update strategy and manager) with an installation's labels, selector and pod spec. */
export function scenarioDaemonSet(
  s: Scenario,
  labels: Record<string, string>,
  selector: Record<string, string>,
  podSpec: Record<string, unknown>,
): K8sObjectInit {
  const { daemonSet: name, namespace, managedBy } = s.flannel;
  return daemonSetObject({ name, namespace, labels, selector, updateStrategy: updateStrategy(s), managedBy, podSpec });
}

/** kube-flannel-cfg with the CNI config and the scenario's net-conf.json (`extra`: top-level keys the installation adds). */
export function kubeFlannelCfg(s: Scenario, labels: Record<string, string>, extra: Record<string, Json> = {}): K8sObjectInit {
  const data = { "cni-conf.json": FLANNEL_CNI_CONF, "net-conf.json": netConfJson(s, extra) };
  return configMapObject("kube-flannel-cfg", s.flannel.namespace, labels, data, s.flannel.managedBy);
}

/** `manager`: a managedBy value, or the metadata a manager other than managedBy leaves (RKE2's Helm). */
export function configMapObject(
  name: string,
  namespace: string,
  labels: Record<string, string>,
  data: Record<string, string>,
  manager: Scenario["flannel"]["managedBy"] | ManagerMetadata = "none",
): K8sObjectInit {
  const marks = typeof manager === "string" ? managerMetadata(manager, "ConfigMap", namespace, name) : manager;
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      namespace,
      labels: { ...labels, ...marks.labels },
      ...(Object.keys(marks.annotations).length ? { annotations: marks.annotations } : {}),
    },
    data,
  };
}

/** flanneld's CNI config as kube-flannel.yml ships it. */
export const FLANNEL_CNI_CONF = JSON.stringify(
  {
    name: "cbr0",
    cniVersion: "0.3.1",
    plugins: [
      { type: "flannel", delegate: { hairpinMode: true, isDefaultGateway: true } },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  },
  null,
  2,
);

// The resource kinds the emulated API serves: one table that the store, the
// router, discovery and authorization all read, so they cannot disagree.

export type KindName = "Namespace" | "Node" | "Pod" | "Service" | "ConfigMap" | "DaemonSet" | "HelmChart" | "HelmChartConfig";

export interface KindInfo {
  kind: KindName;
  /** "" for the core group, as in RBAC rules and Status details. */
  group: string;
  version: string;
  /** Plural resource name used in URLs and RBAC. */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  /** A custom resource: served only by API servers whose cluster has its CRD (RKE2's helm.cattle.io). */
  crd?: true;
}

const readWrite = ["create", "delete", "get", "list", "patch", "update", "watch"];

export const KINDS: readonly KindInfo[] = [
  { kind: "Namespace", group: "", version: "v1", resource: "namespaces", singular: "namespace", namespaced: false, shortNames: ["ns"], verbs: readWrite },
  { kind: "Node", group: "", version: "v1", resource: "nodes", singular: "node", namespaced: false, shortNames: ["no"], verbs: readWrite },
  { kind: "Pod", group: "", version: "v1", resource: "pods", singular: "pod", namespaced: true, shortNames: ["po"], verbs: readWrite },
  { kind: "Service", group: "", version: "v1", resource: "services", singular: "service", namespaced: true, shortNames: ["svc"], verbs: readWrite },
  { kind: "ConfigMap", group: "", version: "v1", resource: "configmaps", singular: "configmap", namespaced: true, shortNames: ["cm"], verbs: readWrite },
  { kind: "DaemonSet", group: "apps", version: "v1", resource: "daemonsets", singular: "daemonset", namespaced: true, shortNames: ["ds"], verbs: readWrite },
  // RKE2's helm controller (k3s-io/helm-controller): HelmChart and HelmChartConfig, group helm.cattle.io, v1.
  {
    kind: "HelmChart",
    group: "helm.cattle.io",
    version: "v1",
    resource: "helmcharts",
    singular: "helmchart",
    namespaced: true,
    shortNames: [],
    verbs: readWrite,
    crd: true,
  },
  {
    kind: "HelmChartConfig",
    group: "helm.cattle.io",
    version: "v1",
    resource: "helmchartconfigs",
    singular: "helmchartconfig",
    namespaced: true,
    shortNames: [],
    verbs: readWrite,
    crd: true,
  },
];

/** The kinds an API server serves: every built-in one, and the custom resources its cluster installed. */
export function servedKinds(customResources: readonly KindName[] = []): KindInfo[] {
  return KINDS.filter((k) => !k.crd || customResources.includes(k.kind));
}

export function kindInfo(kind: string): KindInfo {
  const info = KINDS.find((k) => k.kind === kind);
  if (!info) throw new Error(`unsupported kind ${kind}`);
  return info;
}

export function apiVersionOf(info: KindInfo): string {
  return info.group ? `${info.group}/${info.version}` : info.version;
}

/** "daemonsets.apps" / "pods": how the real apiserver names a resource in messages. */
export function qualifiedResource(group: string, resource: string): string {
  return group ? `${resource}.${group}` : resource;
}

// Where each way of installing flannel puts it (flannel-notes.md, "Installations
// in the wild"), and the deploy/ RBAC component that lets xnode look there.
// deploy/'s RBAC and test/deploy/rbac.test.ts are derived from these constants.
import type { FlannelDistribution } from "../model/index.js";

/** A DaemonSet xnode GETs by name (RBAC can limit a GET to resourceNames). */
export interface NamedDaemonSet {
  namespace: string;
  name: string;
  distribution: FlannelDistribution;
  /** the deploy/ piece granting the GET (and the patch of a fix) */
  grantedBy: string;
}

/** flannel's ConfigMap when the pod template mounts none over net-conf.json's directory */
export const FLANNEL_CONFIGMAP = "kube-flannel-cfg";
export const BASE_RBAC = "deploy/cluster/rbac-flannel.yaml";
export const KUBESPRAY_COMPONENT = "deploy/components/flannel-kubespray";
export const RKE2_COMPONENT = "deploy/components/flannel-rke2-canal";
export const HELM_COMPONENT = "deploy/components/flannel-helm";
export const CONFIGURED_COMPONENT = "deploy/components/flannel-configured";

// kube-flannel.yml by era: ≥ v0.19 kube-flannel/kube-flannel-ds, v0.13–v0.18
// kube-system/kube-flannel-ds, ≤ v0.12 kube-system/kube-flannel-ds-<arch>
// (one DaemonSet per architecture, all with the same pod labels).
export const MANIFEST_NAMESPACES = ["kube-flannel", "kube-system"];
export const MANIFEST_DS_NAMES = ["kube-flannel-ds", "kube-flannel-ds-amd64", "kube-flannel-ds-arm64", "kube-flannel-ds-arm"];

/** kubespray (roles/network_plugin/flannel/templates/cni-flannel.yml.j2): amd64's DaemonSet is `kube-flannel`. */
export const KUBESPRAY = { namespace: "kube-system", daemonSet: "kube-flannel" } as const;

/** RKE2's canal chart (rancher/rke2-charts packages/rke2-canal): flannel is a container of rke2-canal. */
export const RKE2_CANAL = {
  namespace: "kube-system",
  daemonSet: "rke2-canal",
  configMap: "rke2-canal-config",
  helmChartConfig: { group: "helm.cattle.io", version: "v1", plural: "helmchartconfigs", namespace: "kube-system", name: "rke2-canal" },
} as const;

/** Labels flannel's manifests, chart and kubespray put on flannel's DaemonSet: the any-namespace search (flannel's Helm chart). */
export const FLANNEL_DS_LABELS = ["app=flannel", "k8s-app=flannel"];

/** flannel's container: `kube-flannel` everywhere upstream, kubespray and canal; `flannel` in some home-made manifests. */
export const FLANNEL_CONTAINER_NAMES = ["kube-flannel", "flannel"];

/** The GETs by name, in the order tried: newest manifest first, then kubespray and RKE2 canal. */
export function namedDaemonSets(): NamedDaemonSet[] {
  const manifest = MANIFEST_NAMESPACES.flatMap((namespace) =>
    MANIFEST_DS_NAMES.map((name) => ({ namespace, name, distribution: "manifest" as const, grantedBy: BASE_RBAC })),
  );
  return [
    ...manifest,
    { namespace: KUBESPRAY.namespace, name: KUBESPRAY.daemonSet, distribution: "kubespray", grantedBy: KUBESPRAY_COMPONENT },
    { namespace: RKE2_CANAL.namespace, name: RKE2_CANAL.daemonSet, distribution: "rke2-canal", grantedBy: RKE2_COMPONENT },
  ];
}

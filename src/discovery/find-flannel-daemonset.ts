// Finds flannel's DaemonSet: where XNODE_CONFIG says, else by the names every
// installation uses (GETs, which RBAC can limit to those names), else by
// flannel's labels in every namespace (flannel's Helm chart installs into any;
// a LIST that only deploy/components/flannel-helm grants).
import type { KubeClient } from "../kube/kube-client.js";
import type { KubeDaemonSet } from "../kube/types.js";
import type { FlannelDistribution, FlannelLocation } from "../model/index.js";
import { CONFIGURED_COMPONENT, FLANNEL_DS_LABELS, HELM_COMPONENT, namedDaemonSets } from "./flannel-names.js";
import { flannelContainer } from "./flannel-pods.js";
import { describeGet, type Refusals } from "./refusals.js";

export interface FoundDaemonSet {
  ds: KubeDaemonSet;
  distribution: FlannelDistribution;
  /** the container XNODE_CONFIG names, if it does */
  container?: string;
  /** the ConfigMap XNODE_CONFIG names for net-conf.json, if it does */
  configMap?: string;
}

export interface DaemonSetSearch {
  found?: FoundDaemonSet;
  /** what was tried, for the warning when nothing was found */
  tried: string;
}

/** Helm's release annotation (helm install/upgrade) or a Flux HelmRelease: the chart, whose values are the persistent place. */
function isChart(ds: KubeDaemonSet): boolean {
  const labels = ds.metadata.labels ?? {};
  return !!ds.metadata.annotations?.["meta.helm.sh/release-name"] || Object.keys(labels).some((k) => k.startsWith("helm.toolkit.fluxcd.io/"));
}

async function configured(kube: KubeClient, refusals: Refusals, at: FlannelLocation): Promise<DaemonSetSearch> {
  const ds = await refusals.read(describeGet("daemonsets", at.daemonSet, at.namespace), CONFIGURED_COMPONENT, () =>
    kube.getDaemonSet(at.namespace, at.daemonSet),
  );
  const tried = `DaemonSet ${at.namespace}/${at.daemonSet} (XNODE_CONFIG flannel:)`;
  if (!ds) return { tried };
  return {
    found: { ds, distribution: "configured", ...(at.container ? { container: at.container } : {}), ...(at.configMap ? { configMap: at.configMap } : {}) },
    tried,
  };
}

export async function findFlannelDaemonSet(kube: KubeClient, refusals: Refusals, at?: FlannelLocation): Promise<DaemonSetSearch> {
  if (at) return configured(kube, refusals, at);
  const named = namedDaemonSets();
  for (const n of named) {
    const ds = await refusals.read(describeGet("daemonsets", n.name, n.namespace), n.grantedBy, () => kube.getDaemonSet(n.namespace, n.name));
    if (!ds) continue;
    const distribution = n.distribution === "manifest" && isChart(ds) ? "helm" : n.distribution;
    return { found: { ds, distribution }, tried: "" };
  }
  for (const selector of FLANNEL_DS_LABELS) {
    const listed = await refusals.read(`list daemonsets cluster-wide (label ${selector})`, HELM_COMPONENT, () => kube.listDaemonSets(undefined, selector));
    const ds = (listed ?? []).find((d) => flannelContainer(d) !== undefined);
    if (ds) return { found: { ds, distribution: isChart(ds) ? "helm" : "manifest" }, tried: "" };
  }
  const names = [...new Set(named.map((n) => `${n.namespace}/${n.name}`))];
  return { tried: `DaemonSets ${names.join(", ")}, and labels ${FLANNEL_DS_LABELS.join(", ")} in every namespace` };
}

// What reverts a direct edit of flannel's DaemonSet, read from the marks each
// manager leaves on the objects it owns: Helm 3 (label
// app.kubernetes.io/managed-by=Helm, annotation meta.helm.sh/release-name),
// Argo CD (argocd.argoproj.io/* annotations, or its default tracking label
// app.kubernetes.io/instance), Flux (kustomize.toolkit.fluxcd.io/* or
// helm.toolkit.fluxcd.io/* labels), and RKE2's helm controller, which owns
// rke2-canal. A GitOps tool that deploys a Helm chart leaves both marks: the
// tool that syncs wins, since it is what reverts the edit.
import type { ObjectMeta } from "../kube/types.js";
import type { FlannelDistribution, FlannelManager } from "../model/index.js";

function firstKey(record: Record<string, string> | undefined, prefix: string): string | undefined {
  return Object.keys(record ?? {})
    .filter((k) => k.startsWith(prefix))
    .sort()[0];
}

function flux(meta: ObjectMeta): FlannelManager | undefined {
  const labels = meta.labels ?? {};
  for (const [prefix, kind] of [
    ["helm.toolkit.fluxcd.io/", "HelmRelease"],
    ["kustomize.toolkit.fluxcd.io/", "Kustomization"],
  ] as const) {
    const key = firstKey(labels, prefix);
    if (!key) continue;
    const name = labels[`${prefix}name`];
    const namespace = labels[`${prefix}namespace`];
    return {
      kind: "flux",
      evidence: `label ${key}=${labels[key]}`,
      ...(name ? { release: `${kind} ${namespace ? `${namespace}/` : ""}${name}` } : {}),
    };
  }
  return undefined;
}

function argocd(meta: ObjectMeta): FlannelManager | undefined {
  const annotations = meta.annotations ?? {};
  // annotation tracking: "<app>:<group>/<kind>:<namespace>/<name>"
  const tracking = annotations["argocd.argoproj.io/tracking-id"];
  const key = firstKey(annotations, "argocd.argoproj.io/") ?? firstKey(meta.labels, "argocd.argoproj.io/");
  if (tracking) return { kind: "argocd", evidence: `annotation argocd.argoproj.io/tracking-id=${tracking}`, release: `Application ${tracking.split(":")[0]}` };
  if (key) return { kind: "argocd", evidence: `${annotations[key] !== undefined ? "annotation" : "label"} ${key}` };
  return undefined;
}

/** Helm's own install marks the object with its release (annotations) and, by convention, the managed-by label. */
function helm(meta: ObjectMeta, byLabelOnly: boolean): FlannelManager | undefined {
  const release = meta.annotations?.["meta.helm.sh/release-name"];
  const namespace = meta.annotations?.["meta.helm.sh/release-namespace"];
  if (release) return { kind: "helm", evidence: `annotation meta.helm.sh/release-name=${release}`, release: `${namespace ? `${namespace}/` : ""}${release}` };
  return byLabelOnly && meta.labels?.["app.kubernetes.io/managed-by"] === "Helm"
    ? { kind: "helm", evidence: "label app.kubernetes.io/managed-by=Helm" }
    : undefined;
}

/**
 * Argo CD's default tracking is the label app.kubernetes.io/instance. Argo CD
 * renders charts with `helm template`, which keeps a chart's managed-by=Helm
 * label but never writes Helm's release annotations: so the instance label
 * counts as Argo CD when those annotations are absent.
 */
function argocdByInstanceLabel(meta: ObjectMeta): FlannelManager | undefined {
  const instance = meta.labels?.["app.kubernetes.io/instance"];
  return instance
    ? { kind: "argocd", evidence: `label app.kubernetes.io/instance=${instance} (Argo CD's default tracking)`, release: `Application ${instance}` }
    : undefined;
}

export function detectManager(meta: ObjectMeta, distribution: FlannelDistribution): FlannelManager | undefined {
  if (distribution === "rke2-canal") {
    return { kind: "rke2-helm-controller", evidence: `DaemonSet ${meta.namespace}/${meta.name} is RKE2's canal chart`, release: meta.name };
  }
  return flux(meta) ?? argocd(meta) ?? helm(meta, false) ?? argocdByInstanceLabel(meta) ?? helm(meta, true);
}

// What a manager leaves on the objects it applies, so the product can tell who
// will put a DaemonSet back: Helm 3 labels every object of a release
// app.kubernetes.io/managed-by=Helm and annotates meta.helm.sh/release-name
// and -namespace (RKE2's helm controller runs Helm, so its charts carry them
// too); Argo CD tracks its objects by the app.kubernetes.io/instance label
// (before 3.0) and the argocd.argoproj.io/tracking-id annotation (3.0+).
export const HELM_RELEASE_FLANNEL = "flannel";
export const ARGOCD_APP_FLANNEL = "flannel";

export interface ManagerMetadata {
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export function helmMetadata(release: string, namespace: string): ManagerMetadata {
  return {
    labels: { "app.kubernetes.io/managed-by": "Helm" },
    annotations: { "meta.helm.sh/release-name": release, "meta.helm.sh/release-namespace": namespace },
  };
}

export function argoCdMetadata(app: string, kind: string, namespace: string, name: string): ManagerMetadata {
  const group = kind === "DaemonSet" ? "apps" : "";
  return {
    labels: { "app.kubernetes.io/instance": app },
    annotations: { "argocd.argoproj.io/tracking-id": `${app}:${group}/${kind}:${namespace}/${name}` },
  };
}

/** The metadata `managedBy` leaves on one object of the flannel installation. */
export function managerMetadata(managedBy: "none" | "helm" | "argocd", kind: string, namespace: string, name: string): ManagerMetadata {
  if (managedBy === "helm") return helmMetadata(HELM_RELEASE_FLANNEL, namespace);
  if (managedBy === "argocd") return argoCdMetadata(ARGOCD_APP_FLANNEL, kind, namespace, name);
  return { labels: {}, annotations: {} };
}

// flannel's container in a DaemonSet and flannel's pods: the container by
// name (canal's is the second one), pods by the DaemonSet's selector, and
// each pod's state from the status of that container, by name (the kubelet
// sorts containerStatuses by name: [0] may be calico-node or install-cni).
import type { KubeContainer, KubeDaemonSet, KubePod } from "../kube/types.js";
import type { FlannelPodState } from "../model/index.js";
import { FLANNEL_CONTAINER_NAMES } from "./flannel-names.js";

export interface FoundContainer {
  container: KubeContainer;
  index: number;
}

/** `wanted` (from XNODE_CONFIG) or one of flannel's usual names; a single-container DaemonSet's only container. */
export function flannelContainer(ds: KubeDaemonSet, wanted?: string): FoundContainer | undefined {
  const containers = ds.spec?.template?.spec?.containers ?? [];
  const names = wanted ? [wanted] : FLANNEL_CONTAINER_NAMES;
  for (const name of names) {
    const index = containers.findIndex((c) => c.name === name);
    if (index >= 0) return { container: containers[index]!, index };
  }
  // a home-made DaemonSet with one container that runs flanneld under another name
  if (!wanted && containers.length === 1 && /flanneld/.test([...(containers[0]!.command ?? []), containers[0]!.image ?? ""].join(" "))) {
    return { container: containers[0]!, index: 0 };
  }
  return undefined;
}

/** spec.selector.matchLabels; an old extensions/v1beta1 object stored without one selects by its template's labels. */
export function daemonSetSelector(ds: KubeDaemonSet): Record<string, string> {
  return ds.spec?.selector?.matchLabels ?? ds.spec?.template?.metadata?.labels ?? {};
}

export function selects(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([k, v]) => labels?.[k] === v);
}

export function isPodReady(p: KubePod): boolean {
  return p.status?.phase === "Running" && p.status.conditions?.find((c) => c.type === "Ready")?.status === "True";
}

/** flannel's own container says whether flannel runs (canal's pod is also unready when only calico-node is); else the pod's Ready. */
export function flannelPodState(p: KubePod, container: string): FlannelPodState {
  const cs = p.status?.containerStatuses?.find((s) => s.name === container);
  const ready = cs ? p.status?.phase === "Running" && cs.ready : isPodReady(p);
  const reason = cs?.state?.waiting?.reason ?? cs?.state?.terminated?.reason ?? (ready ? undefined : cs && !cs.ready ? "NotReady" : p.status?.phase);
  return { node: p.spec?.nodeName ?? "", name: p.metadata.name, ready, restarts: cs?.restartCount ?? 0, ...(reason ? { reason } : {}) };
}

export function flannelPods(ds: KubeDaemonSet, allPods: readonly KubePod[], container: string): FlannelPodState[] {
  const selector = daemonSetSelector(ds);
  return allPods
    .filter((p) => p.metadata.namespace === ds.metadata.namespace && selects(selector, p.metadata.labels))
    .map((p) => flannelPodState(p, container));
}

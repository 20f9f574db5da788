// Reads the cluster's state from the Kubernetes API: nodes, flannel's
// DaemonSet, config and pods, xnode's agents, NodePort services.
import { z } from "zod";
import { errorMessage, firstIssue, XnodeError } from "../errors.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { KubeContainer, KubeDaemonSet, KubeNode, KubePod } from "../kube/types.js";
import type { ClusterSnapshot, FlannelDaemonSetInfo, FlannelPodState, NodePortService, NodeSnapshot } from "../model/index.js";

export const AGENT_NAMESPACE = "xnode-system";
export const HOST_AGENT_SELECTOR = "app.kubernetes.io/name=xnode-host-agent";
export const POD_AGENT_SELECTOR = "app.kubernetes.io/name=xnode-pod-agent";

const ANN = "flannel.alpha.coreos.com/";
// Where flannel's manifests have put it over the years (flannel-notes.md).
const FLANNEL_NAMESPACES = ["kube-flannel", "kube-system"];
const FLANNEL_DS_NAMES = ["kube-flannel-ds", "kube-flannel-ds-amd64"];
const FLANNEL_LABELS = ["app=flannel", "k8s-app=flannel"];
const FLANNEL_CONTAINER = "kube-flannel";

// flanneld's backend-data annotation; a field of the wrong type is left out.
const backendDataSchema = z.object({
  VNI: z.number().optional().catch(undefined),
  VtepMAC: z.string().optional().catch(undefined),
});

function parseBackendData(text: string | undefined): z.infer<typeof backendDataSchema> | undefined {
  try {
    const parsed = backendDataSchema.safeParse(JSON.parse(text ?? "null"));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // a garbled annotation is reported by the rules as a missing VtepMAC
  }
}

function nodeSnapshot(n: KubeNode): NodeSnapshot {
  const ann = n.metadata.annotations ?? {};
  const backend = parseBackendData(ann[`${ANN}backend-data`]);
  return {
    name: n.metadata.name,
    internalIP: n.status?.addresses?.find((a) => a.type === "InternalIP")?.address,
    podCIDR: n.spec?.podCIDR || undefined,
    ready: n.status?.conditions?.find((c) => c.type === "Ready")?.status === "True",
    flannel: {
      publicIP: ann[`${ANN}public-ip`],
      publicIPOverwrite: ann[`${ANN}public-ip-overwrite`],
      backendType: ann[`${ANN}backend-type`],
      vtepMac: backend?.VtepMAC,
      vni: backend?.VNI,
    },
  };
}

function isReady(p: KubePod): boolean {
  return p.status?.phase === "Running" && p.status.conditions?.find((c) => c.type === "Ready")?.status === "True";
}

function flannelContainer(ds: KubeDaemonSet): { container: KubeContainer; index: number } | undefined {
  const containers = ds.spec?.template?.spec?.containers ?? [];
  const index = Math.max(
    0,
    containers.findIndex((c) => c.name === FLANNEL_CONTAINER),
  );
  const container = containers[index];
  return container ? { container, index } : undefined;
}

/** GET by the known names first: that works with RBAC limited to resourceNames. */
async function findFlannelDaemonSet(kube: KubeClient, warnings: string[]): Promise<KubeDaemonSet | undefined> {
  for (const namespace of FLANNEL_NAMESPACES) {
    for (const name of FLANNEL_DS_NAMES) {
      const ds = await kube.getDaemonSet(namespace, name).catch((err: unknown) => {
        if (err instanceof XnodeError && err.code === "KUBE_FORBIDDEN") return undefined;
        throw err;
      });
      if (ds) return ds;
    }
  }
  for (const namespace of FLANNEL_NAMESPACES) {
    for (const selector of FLANNEL_LABELS) {
      const found = await kube.listDaemonSets(namespace, selector).catch(() => [] as KubeDaemonSet[]);
      if (found[0]) return found[0];
    }
  }
  warnings.push(
    `no flannel DaemonSet found (tried ${FLANNEL_DS_NAMES.join(", ")} and labels ${FLANNEL_LABELS.join(", ")} in ${FLANNEL_NAMESPACES.join(", ")})`,
  );
  return undefined;
}

function daemonSetInfo(ds: KubeDaemonSet): FlannelDaemonSetInfo | undefined {
  const found = flannelContainer(ds);
  if (!found) return undefined;
  // Old manifests put the flags in `command` after the binary.
  const args = [...(found.container.command ?? []).slice(1), ...(found.container.args ?? [])];
  return {
    namespace: ds.metadata.namespace ?? "",
    name: ds.metadata.name,
    container: found.container.name,
    containerIndex: found.index,
    args,
    ...((found.container.command?.length ?? 0) > 1 ? { command: found.container.command } : {}),
    resourceVersion: ds.metadata.resourceVersion,
    generation: ds.metadata.generation,
  };
}

function flannelPodState(p: KubePod): FlannelPodState {
  const cs = p.status?.containerStatuses?.[0];
  return {
    node: p.spec?.nodeName ?? "",
    name: p.metadata.name,
    ready: isReady(p),
    restarts: cs?.restartCount ?? 0,
    reason: cs?.state?.waiting?.reason ?? cs?.state?.terminated?.reason ?? (isReady(p) ? undefined : p.status?.phase),
  };
}

// The fields of kube-flannel-cfg's net-conf.json that a check reads.
const netConfSchema = z.object({
  Network: z.string().optional(),
  Backend: z.object({ Type: z.string().optional(), Port: z.number().optional(), VNI: z.number().optional() }).optional(),
});

function parseNetConf(text: string | undefined, warnings: string[]): { network?: string; backendType?: string; port?: number; vni?: number } {
  if (!text) return {};
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    warnings.push(`kube-flannel-cfg net-conf.json is not valid JSON: ${errorMessage(err)}`);
    return {};
  }
  const conf = netConfSchema.safeParse(data);
  if (!conf.success) {
    warnings.push(`kube-flannel-cfg net-conf.json is not what flannel reads (${firstIssue(conf.error)}); assuming VXLAN port 8472, VNI 1`);
    return {};
  }
  const { Network, Backend } = conf.data;
  return { network: Network, backendType: Backend?.Type, port: Backend?.Port, vni: Backend?.VNI };
}

function matches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  return Object.entries(selector).every(([k, v]) => labels?.[k] === v);
}

export async function collectSnapshot(kube: KubeClient, now: () => Date = () => new Date()): Promise<ClusterSnapshot> {
  const warnings: string[] = [];
  const takenAt = now().toISOString();
  const [kubeNodes, hostAgents, podAgents, ds, services, allPods] = await Promise.all([
    kube.listNodes(),
    kube.listPods(AGENT_NAMESPACE, { labelSelector: HOST_AGENT_SELECTOR }),
    kube.listPods(AGENT_NAMESPACE, { labelSelector: POD_AGENT_SELECTOR }),
    findFlannelDaemonSet(kube, warnings),
    kube.listServices(),
    kube.listPods(undefined),
  ]);
  const dsInfo = ds ? daemonSetInfo(ds) : undefined;
  const namespace = dsInfo?.namespace;
  const cfg = namespace ? await kube.getConfigMap(namespace, "kube-flannel-cfg").catch(() => undefined) : undefined;
  if (namespace && !cfg) warnings.push(`ConfigMap kube-flannel-cfg not readable in ${namespace}; assuming VXLAN port 8472, VNI 1`);
  const netConf = parseNetConf(cfg?.data?.["net-conf.json"], warnings);

  const flannelPods = allPods.filter(
    (p) => p.metadata.namespace === namespace && (p.metadata.labels?.app === "flannel" || p.metadata.labels?.["k8s-app"] === "flannel"),
  );
  const nodes = kubeNodes.map(nodeSnapshot);
  for (const node of nodes) {
    const host = hostAgents.find((p) => p.spec?.nodeName === node.name && isReady(p));
    const pod = podAgents.find((p) => p.spec?.nodeName === node.name && isReady(p));
    if (host) node.hostAgent = { namespace: AGENT_NAMESPACE, name: host.metadata.name };
    if (pod) node.podAgent = { namespace: AGENT_NAMESPACE, name: pod.metadata.name, podIP: pod.status?.podIP };
    if (!host) warnings.push(`no ready xnode host agent on node ${node.name}: its network state cannot be read`);
  }

  const nodePortServices: NodePortService[] = services
    .filter((s) => s.spec?.type === "NodePort" || s.spec?.type === "LoadBalancer")
    .flatMap((s) =>
      (s.spec?.ports ?? [])
        .filter((p) => p.nodePort)
        .map((p) => ({
          namespace: s.metadata.namespace ?? "default",
          name: s.metadata.name,
          nodePort: p.nodePort!,
          port: p.port,
          externalTrafficPolicy: s.spec?.externalTrafficPolicy ?? "Cluster",
          backendNodes: [
            ...new Set(
              allPods
                .filter(
                  (pod) => pod.metadata.namespace === s.metadata.namespace && s.spec?.selector && matches(s.spec.selector, pod.metadata.labels) && isReady(pod),
                )
                .map((pod) => pod.spec?.nodeName ?? ""),
            ),
          ].filter(Boolean),
        })),
    );

  return {
    cluster: kube.cluster,
    takenAt,
    nodes,
    flannel: {
      daemonSet: dsInfo,
      network: netConf.network,
      backendType: netConf.backendType,
      vxlanPort: netConf.port || 8472,
      vni: netConf.vni || 1,
      pods: flannelPods.map(flannelPodState),
    },
    services: nodePortServices,
    warnings,
  };
}

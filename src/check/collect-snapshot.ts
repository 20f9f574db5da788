// Reads the cluster's state from the Kubernetes API: nodes, flannel (through
// src/discovery), xnode's agents, NodePort services.
import { z } from "zod";
import { discoverFlannel } from "../discovery/discover-flannel.js";
import { isPodReady, selects } from "../discovery/flannel-pods.js";
import type { KubeClient } from "../kube/kube-client.js";
import type { KubeNode } from "../kube/types.js";
import type { ClusterSnapshot, NodePortService, NodeSnapshot } from "../model/index.js";

export const AGENT_NAMESPACE = "xnode-system";
export const HOST_AGENT_SELECTOR = "app.kubernetes.io/name=xnode-host-agent";
export const POD_AGENT_SELECTOR = "app.kubernetes.io/name=xnode-pod-agent";

const ANN = "flannel.alpha.coreos.com/";

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
      nodePublicIP: ann[`${ANN}node-public-ip`],
    },
  };
}

/** The flannel location comes with the client (XNODE_CONFIG's per-cluster `flannel:`), so every check path discovers alike. */
export async function collectSnapshot(kube: KubeClient, now: () => Date = () => new Date()): Promise<ClusterSnapshot> {
  const takenAt = now().toISOString();
  const [kubeNodes, hostAgents, podAgents, services, allPods] = await Promise.all([
    kube.listNodes(),
    kube.listPods(AGENT_NAMESPACE, { labelSelector: HOST_AGENT_SELECTOR }),
    kube.listPods(AGENT_NAMESPACE, { labelSelector: POD_AGENT_SELECTOR }),
    kube.listServices(),
    kube.listPods(undefined),
  ]);
  const discovery = await discoverFlannel(kube, kubeNodes, allPods, kube.flannelLocation);
  const warnings = [...discovery.warnings];
  const nodes = kubeNodes.map(nodeSnapshot);
  for (const node of nodes) {
    const flags = discovery.nodeFlags.get(node.name);
    if (flags) node.flannel.flags = flags;
    const host = hostAgents.find((p) => p.spec?.nodeName === node.name && isPodReady(p));
    const pod = podAgents.find((p) => p.spec?.nodeName === node.name && isPodReady(p));
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
                  (pod) =>
                    pod.metadata.namespace === s.metadata.namespace && s.spec?.selector && selects(s.spec.selector, pod.metadata.labels) && isPodReady(pod),
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
    flannel: discovery.flannel,
    services: nodePortServices,
    warnings,
  };
}

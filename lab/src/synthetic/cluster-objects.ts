// The Kubernetes objects of a synthetic cluster: what the namespace lab's
// cluster-objects.ts and flannel controller create for real nodes (Nodes with
// flannel's annotations, kube-flannel-cfg, the DaemonSet and its pods, xnode's
// agents), for every generated node. Also which pod an exec lands in.
import {
  AGENT_NAMESPACE,
  FLANNEL_CONTAINER,
  flannelLabels,
  HOST_AGENT_LABEL,
  initialObjects,
  nodeObject,
  podObject,
  podSuffix,
  POD_AGENT_LABEL,
  POD_AGENT_PORT,
  type K8sObjectInit,
} from "../cluster-objects.js";
import type { SynthCluster } from "./cluster-plan.js";
import type { AgentRef } from "./agent-exec.js";

const ANN = "flannel.alpha.coreos.com/";

export function syntheticObjects(c: SynthCluster): { objects: K8sObjectInit[]; execTargets: Map<string, AgentRef> } {
  const s = c.scenario;
  const execTargets = new Map<string, AgentRef>();
  // namespaces, kube-flannel-cfg and the DaemonSet, exactly as for a namespace lab
  const { objects } = initialObjects({ ...s, nodes: [], services: [] }, { prefix: "", nodes: {}, networks: {}, services: {} });
  const notReady = new Set(s.flannel.notReadyOn);
  for (const n of c.nodes) {
    const node = nodeObject(
      {
        name: n.name,
        role: "worker",
        podCIDR: n.podCIDR,
        interfaces: [{ name: c.iface, network: "underlay", address: `${n.internalIP}/${c.underlay.prefixLength}` }],
        annotations: {},
      },
      n.internalIP,
    );
    Object.assign(node.metadata.annotations!, {
      [`${ANN}backend-type`]: s.flannel.backend,
      [`${ANN}backend-data`]: JSON.stringify({ VNI: s.flannel.vni, VtepMAC: n.vtepMac }),
      [`${ANN}kube-subnet-manager`]: "true",
      [`${ANN}public-ip`]: n.internalIP,
    });
    objects.push(node);
    const pods: [K8sObjectInit, AgentRef["network"]][] = [
      [
        podObject(
          {
            name: `xnode-host-agent-${podSuffix()}`,
            namespace: AGENT_NAMESPACE,
            node: n.name,
            labels: { "app.kubernetes.io/name": HOST_AGENT_LABEL },
            podIP: n.internalIP,
            hostNetwork: true,
            container: "host-agent",
          },
          n.internalIP,
        ),
        "node",
      ],
      [
        podObject(
          {
            name: `xnode-pod-agent-${podSuffix()}`,
            namespace: AGENT_NAMESPACE,
            node: n.name,
            labels: { "app.kubernetes.io/name": POD_AGENT_LABEL },
            podIP: n.podIP,
            hostNetwork: false,
            container: "pod-agent",
            ports: [POD_AGENT_PORT],
          },
          n.internalIP,
        ),
        "pod",
      ],
      [
        podObject(
          {
            name: `${s.flannel.daemonSet}-${podSuffix()}`,
            namespace: s.flannel.namespace,
            node: n.name,
            labels: { ...flannelLabels(), "pod-template-generation": "1" },
            podIP: n.internalIP,
            hostNetwork: true,
            container: FLANNEL_CONTAINER,
          },
          n.internalIP,
          !notReady.has(n.name),
        ),
        "node",
      ],
    ];
    for (const [pod, network] of pods) {
      objects.push(pod);
      execTargets.set(`${pod.metadata.namespace}/${pod.metadata.name}`, { node: n, network });
    }
  }
  const ds = objects.find((o) => o.kind === "DaemonSet");
  if (ds) {
    const desired = c.nodes.length;
    const ready = desired - c.nodes.filter((n) => notReady.has(n.name)).length;
    ds.status = {
      currentNumberScheduled: desired,
      desiredNumberScheduled: desired,
      numberMisscheduled: 0,
      numberReady: ready,
      numberAvailable: ready,
      numberUnavailable: desired - ready,
      updatedNumberScheduled: desired,
      observedGeneration: 1,
    };
  }
  return { objects, execTargets };
}

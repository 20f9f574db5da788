// The Kubernetes objects a lab cluster starts with, derived from the scenario
// and the built topology. Pure: the caller puts them into the API store.
import { randomBytes } from "node:crypto";
import type { LabTopology } from "./dataplane/topology.js";
import { installationObjects } from "./install/installation.js";
import { k3sNodeAnnotations } from "./install/k3s.js";
import { MANIFEST_LABELS } from "./install/manifest.js";
import { FLANNEL_CONTAINER, type K8sObjectInit } from "./install/objects.js";
import type { Distribution, Scenario, ScenarioNode } from "./scenario.js";

export { FLANNEL_CONTAINER, type K8sObjectInit };

export const AGENT_NAMESPACE = "xnode-system";
export const HOST_AGENT_LABEL = "xnode-host-agent";
export const POD_AGENT_LABEL = "xnode-pod-agent";
export const POD_AGENT_PORT = 8080;

// Suffixes given out by this process: five random characters collide often
// enough across thousands of pods (a synthetic cluster has three per node) that
// the store would refuse a duplicate name, so a suffix is never handed out twice.
const issued = new Set<string>();

/** Kubernetes-style random pod name suffix, unique within this process. */
export function podSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  for (;;) {
    const suffix = [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join("");
    if (!issued.has(suffix)) {
      issued.add(suffix);
      return suffix;
    }
  }
}

/** The upstream manifest's flannel labels (each installation's own are on its DaemonSet template). */
export function flannelLabels(): Record<string, string> {
  return { ...MANIFEST_LABELS };
}

/** The kubelet version string each distribution's nodes report (k3s and RKE2 tag theirs). */
const KUBELET_VERSION: Record<Distribution, string> = {
  manifest: "v1.29.4",
  helm: "v1.29.4",
  kubespray: "v1.29.4",
  "rke2-canal": "v1.29.4+rke2r1",
  k3s: "v1.29.4+k3s1",
};

/** `flannel`: the scenario's flannel block (k3s writes its own annotations; default: a manifest installation). */
export function nodeObject(node: ScenarioNode, internalIP: string, flannel?: Pick<Scenario["flannel"], "distribution" | "args">): K8sObjectInit {
  const distribution = flannel?.distribution ?? "manifest";
  const labels: Record<string, string> = {
    "kubernetes.io/hostname": node.name,
    "kubernetes.io/os": "linux",
    "kubernetes.io/arch": "amd64",
  };
  if (node.role === "control-plane") labels["node-role.kubernetes.io/control-plane"] = "";
  const spec: Record<string, unknown> = {};
  if (node.podCIDR) Object.assign(spec, { podCIDR: node.podCIDR, podCIDRs: [node.podCIDR] });
  if (node.role === "control-plane") spec.taints = [{ key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" }];
  const now = new Date().toISOString();
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: node.name,
      labels,
      // the scenario's own annotations win: a node may carry its own k3s.io/node-args
      annotations: { ...(distribution === "k3s" ? k3sNodeAnnotations(node, internalIP, flannel?.args ?? []) : {}), ...node.annotations },
    },
    spec,
    status: {
      addresses: [
        { type: "InternalIP", address: internalIP },
        { type: "Hostname", address: node.name },
      ],
      conditions: [
        { type: "Ready", status: "True", reason: "KubeletReady", message: "kubelet is posting ready status", lastHeartbeatTime: now, lastTransitionTime: now },
      ],
      nodeInfo: {
        kubeletVersion: KUBELET_VERSION[distribution],
        kubeProxyVersion: KUBELET_VERSION[distribution],
        osImage: "xnode lab",
        containerRuntimeVersion: "lab://1",
        architecture: "amd64",
        operatingSystem: "linux",
      },
    },
  };
}

interface PodSpecInit {
  name: string;
  namespace: string;
  node: string;
  labels: Record<string, string>;
  podIP: string;
  hostNetwork: boolean;
  container: string;
  ports?: number[];
  /** full container specs (a DaemonSet template's); default one container named `container` */
  containers?: ({ name: string } & Record<string, unknown>)[];
  initContainers?: object[];
  annotations?: Record<string, string>;
  ownerReferences?: object[];
}

/**
 * A pod's Ready conditions and containerStatuses: `failing` (a container
 * name), when given, crash-loops while the others run. The statuses are
 * sorted by container name, as the kubelet reports them.
 */
export function podReadiness(containers: readonly { name: string; image?: unknown }[], failing: string | undefined, now = new Date().toISOString()) {
  const ready = failing === undefined;
  return {
    conditions: [
      { type: "ContainersReady", status: ready ? "True" : "False", lastTransitionTime: now },
      { type: "Ready", status: ready ? "True" : "False", lastTransitionTime: now },
    ],
    containerStatuses: containers
      .map((c) => {
        const up = c.name !== failing;
        return {
          name: c.name,
          ready: up,
          restartCount: 0,
          image: typeof c.image === "string" ? c.image : `lab/${c.name}:1`,
          started: up,
          state: up ? { running: { startedAt: now } } : { waiting: { reason: "CrashLoopBackOff", message: "back-off restarting failed container" } },
        };
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}

/** `ready` false: the container named `p.container` crash-loops (the others run). */
export function podObject(p: PodSpecInit, hostIP: string, ready = true): K8sObjectInit {
  const now = new Date().toISOString();
  const containers = p.containers ?? [{ name: p.container, image: `lab/${p.container}:1`, ports: (p.ports ?? []).map((containerPort) => ({ containerPort })) }];
  const { conditions, containerStatuses } = podReadiness(containers, ready ? undefined : p.container, now);
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: p.name,
      namespace: p.namespace,
      labels: p.labels,
      ...(p.annotations ? { annotations: p.annotations } : {}),
      ...(p.ownerReferences ? { ownerReferences: p.ownerReferences } : {}),
    },
    spec: {
      nodeName: p.node,
      hostNetwork: p.hostNetwork,
      ...(p.initContainers ? { initContainers: p.initContainers } : {}),
      containers,
    },
    status: {
      phase: "Running",
      hostIP,
      podIP: p.podIP,
      podIPs: [{ ip: p.podIP }],
      startTime: now,
      conditions,
      containerStatuses,
    },
  };
}

export interface AgentPod {
  namespace: string;
  name: string;
  netns: string;
}

/** Everything but the flannel pods, which the flannel controller owns. */
export function initialObjects(s: Scenario, topo: LabTopology): { objects: K8sObjectInit[]; execTargets: AgentPod[] } {
  const namespaces = new Set(["default", "kube-system", s.flannel.namespace, AGENT_NAMESPACE]);
  const objects: K8sObjectInit[] = [...namespaces].map((name) => ({
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name, labels: { "kubernetes.io/metadata.name": name } },
    status: { phase: "Active" },
  }));
  const execTargets: AgentPod[] = [];
  objects.push(...s.nodes.map((n) => nodeObject(n, topo.nodes[n.name]!.internalIP, s.flannel)));
  const install = installationObjects(s);
  objects.push(...install.configMaps, ...(install.daemonSet ? [install.daemonSet] : []), ...install.others);
  for (const node of s.nodes) {
    const t = topo.nodes[node.name]!;
    const host = podObject(
      {
        name: `xnode-host-agent-${podSuffix()}`,
        namespace: AGENT_NAMESPACE,
        node: node.name,
        labels: { "app.kubernetes.io/name": HOST_AGENT_LABEL },
        podIP: t.internalIP,
        hostNetwork: true,
        container: "host-agent",
      },
      t.internalIP,
    );
    objects.push(host);
    execTargets.push({ namespace: AGENT_NAMESPACE, name: host.metadata.name, netns: t.netns });
    if (node.podCIDR) {
      const pod = podObject(
        {
          name: `xnode-pod-agent-${podSuffix()}`,
          namespace: AGENT_NAMESPACE,
          node: node.name,
          labels: { "app.kubernetes.io/name": POD_AGENT_LABEL },
          podIP: t.podIP,
          hostNetwork: false,
          container: "pod-agent",
          ports: [POD_AGENT_PORT],
        },
        t.internalIP,
      );
      objects.push(pod);
      execTargets.push({ namespace: AGENT_NAMESPACE, name: pod.metadata.name, netns: t.podNetns });
    }
  }
  for (const svc of s.services) {
    const backing = topo.services[svc.name]!;
    const pod = podObject(
      {
        name: `${svc.name}-${podSuffix()}`,
        namespace: "default",
        node: svc.node,
        labels: { app: svc.name },
        podIP: backing.podIP,
        hostNetwork: false,
        container: "http",
        ports: [svc.port],
      },
      topo.nodes[svc.node]!.internalIP,
    );
    objects.push(pod);
    execTargets.push({ namespace: "default", name: pod.metadata.name, netns: backing.netns });
    objects.push({
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: svc.name, namespace: "default", labels: { app: svc.name } },
      spec: {
        type: "NodePort",
        selector: { app: svc.name },
        externalTrafficPolicy: "Cluster",
        ports: [{ name: "http", protocol: "TCP", port: svc.port, targetPort: svc.port, nodePort: svc.nodePort }],
      },
      status: { loadBalancer: {} },
    });
  }
  return { objects, execTargets };
}

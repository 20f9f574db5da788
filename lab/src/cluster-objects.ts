// The Kubernetes objects a lab cluster starts with, derived from the scenario
// and the built topology. Pure: the caller puts them into the API store.
import { randomBytes } from "node:crypto";
import type { LabTopology } from "./dataplane/topology.js";
import type { Scenario, ScenarioNode } from "./scenario.js";

export type K8sObjectInit = Record<string, unknown> & {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
};

export const AGENT_NAMESPACE = "xnode-system";
export const HOST_AGENT_LABEL = "xnode-host-agent";
export const POD_AGENT_LABEL = "xnode-pod-agent";
export const POD_AGENT_PORT = 8080;
export const FLANNEL_CONTAINER = "kube-flannel";

/** Kubernetes-style random pod name suffix. */
export function podSuffix(): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789";
  return [...randomBytes(5)].map((b) => alphabet[b % alphabet.length]).join("");
}

export function flannelLabels(): Record<string, string> {
  return { app: "flannel", "k8s-app": "flannel", tier: "node" };
}

export function nodeObject(node: ScenarioNode, internalIP: string): K8sObjectInit {
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
    metadata: { name: node.name, labels, annotations: { ...node.annotations } },
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
        kubeletVersion: "v1.29.4",
        kubeProxyVersion: "v1.29.4",
        osImage: "xnode lab",
        containerRuntimeVersion: "lab://1",
        architecture: "amd64",
        operatingSystem: "linux",
      },
    },
  };
}

export function flannelDaemonSet(s: Scenario): K8sObjectInit {
  const labels = flannelLabels();
  return {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: { name: s.flannel.daemonSet, namespace: s.flannel.namespace, labels },
    spec: {
      selector: { matchLabels: { app: "flannel" } },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: { labels },
        spec: {
          hostNetwork: true,
          serviceAccountName: "flannel",
          tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
          containers: [
            {
              name: FLANNEL_CONTAINER,
              image: "docker.io/flannel/flannel:v0.25.1",
              ...(s.flannel.flagsInCommand
                ? { command: ["/opt/bin/flanneld", ...s.flannel.args] }
                : { command: ["/opt/bin/flanneld"], args: [...s.flannel.args] }),
              securityContext: { privileged: false, capabilities: { add: ["NET_ADMIN", "NET_RAW"] } },
            },
          ],
        },
      },
    },
    status: { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 },
  };
}

export function netConf(s: Scenario): string {
  const backend = s.flannel.backend === "vxlan" ? { Type: "vxlan", VNI: s.flannel.vni, Port: s.flannel.port } : { Type: "host-gw" };
  return JSON.stringify({ Network: s.flannel.network, Backend: backend }, null, 2);
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
}

export function podObject(p: PodSpecInit, hostIP: string, ready = true): K8sObjectInit {
  const now = new Date().toISOString();
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: p.name, namespace: p.namespace, labels: p.labels },
    spec: {
      nodeName: p.node,
      hostNetwork: p.hostNetwork,
      containers: [{ name: p.container, image: `lab/${p.container}:1`, ports: (p.ports ?? []).map((containerPort) => ({ containerPort })) }],
    },
    status: {
      phase: "Running",
      hostIP,
      podIP: p.podIP,
      podIPs: [{ ip: p.podIP }],
      startTime: now,
      conditions: [{ type: "Ready", status: ready ? "True" : "False", lastTransitionTime: now }],
      containerStatuses: [
        {
          name: p.container,
          ready,
          restartCount: 0,
          image: `lab/${p.container}:1`,
          state: ready ? { running: { startedAt: now } } : { waiting: { reason: "CrashLoopBackOff", message: "back-off restarting failed container" } },
        },
      ],
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
  objects.push(...s.nodes.map((n) => nodeObject(n, topo.nodes[n.name]!.internalIP)));
  objects.push({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "kube-flannel-cfg", namespace: s.flannel.namespace, labels: { app: "flannel", tier: "node" } },
    data: { "net-conf.json": netConf(s), "cni-conf.json": JSON.stringify({ name: "cbr0", cniVersion: "0.3.1", plugins: [{ type: "flannel" }] }) },
  });
  objects.push(flannelDaemonSet(s));
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

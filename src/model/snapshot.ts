// What a check reads from the Kubernetes API: nodes, flannel's DaemonSet,
// configuration and pods, xnode's agents and NodePort services.
import { z } from "zod";

export const podRefSchema = z.object({ namespace: z.string(), name: z.string() });
export type PodRef = z.infer<typeof podRefSchema>;

export const nodeSnapshotSchema = z.object({
  name: z.string(),
  internalIP: z.string().optional(),
  podCIDR: z.string().optional(),
  ready: z.boolean(),
  flannel: z.object({
    publicIP: z.string().optional(),
    publicIPOverwrite: z.string().optional(),
    backendType: z.string().optional(),
    vtepMac: z.string().optional(),
    vni: z.number().optional(),
    /** flannel.alpha.coreos.com/node-public-ip (v0.25+): flannel picks the interface holding it */
    nodePublicIP: z.string().optional(),
    /** k3s only: flannel's flags on this node as k3s passes them (from the k3s.io/node-args annotation) */
    flags: z.lazy(() => z.array(flannelFlagSchema)).optional(),
  }),
  hostAgent: podRefSchema.optional(),
  podAgent: podRefSchema.extend({ podIP: z.string().optional() }).optional(),
});
export type NodeSnapshot = z.infer<typeof nodeSnapshotSchema>;

export const flannelPodStateSchema = z.object({
  node: z.string(),
  name: z.string(),
  ready: z.boolean(),
  restarts: z.number(),
  reason: z.string().optional(),
});
export type FlannelPodState = z.infer<typeof flannelPodStateSchema>;

/** XNODE_CONFIG's per-cluster `flannel:` for an installation found by neither name nor label (deploy/components/flannel-configured grants it). */
export const flannelLocationSchema = z
  .object({
    namespace: z.string().min(1),
    daemonSet: z.string().min(1),
    /** default: kube-flannel or flannel */
    container: z.string().min(1).optional(),
    /** the ConfigMap holding net-conf.json; default: the one the pod template mounts */
    configMap: z.string().min(1).optional(),
  })
  .strict();
export type FlannelLocation = z.infer<typeof flannelLocationSchema>;

/** How flannel was installed: what the fix must go through. */
export const flannelDistributionSchema = z.enum(["manifest", "helm", "kubespray", "rke2-canal", "k3s", "configured"]);
export type FlannelDistribution = z.infer<typeof flannelDistributionSchema>;

/** Something that reverts a direct DaemonSet edit (a Helm upgrade, a GitOps sync, RKE2's helm controller). */
export const flannelManagerSchema = z.object({
  kind: z.enum(["helm", "argocd", "flux", "rke2-helm-controller"]),
  /** the label or annotation that showed it, e.g. "label app.kubernetes.io/managed-by=Helm" */
  evidence: z.string(),
  /** the Helm release, Argo CD application or Flux object behind it */
  release: z.string().optional(),
});
export type FlannelManager = z.infer<typeof flannelManagerSchema>;

/** One of flanneld's flags as flanneld resolves it: the command line first, else FLANNELD_<FLAG> from the env. */
export const flannelFlagSchema = z.object({
  /** without dashes: "iface", "iface-regex", "public-ip", "ip-masq" */
  name: z.string(),
  /** a repeated flag (--iface twice) keeps every value, in order; a bare boolean flag has [] */
  values: z.array(z.string()),
  source: z.enum(["command", "args", "env", "k3s-node-args"]),
  /** where it was read, in operator words: "env FLANNELD_IFACE ← ConfigMap kube-system/rke2-canal-config key canal_iface" */
  from: z.string(),
});
export type FlannelFlag = z.infer<typeof flannelFlagSchema>;

/** An env var of the flannel container; a configMapKeyRef is resolved into `value` when readable. */
export const flannelEnvVarSchema = z.object({
  name: z.string(),
  value: z.string().optional(),
  configMapKey: z.object({ name: z.string(), key: z.string() }).optional(),
  /** the index in the container's env list (a patch of this var targets it) */
  index: z.number(),
});
export type FlannelEnvVar = z.infer<typeof flannelEnvVarSchema>;

export const flannelDaemonSetInfoSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  container: z.string(),
  /** index of the flannel container in spec.template.spec.containers */
  containerIndex: z.number(),
  /** flannel's flags: `command` after the binary, then `args` */
  args: z.array(z.string()),
  /** the container's command when it carries flags too (old manifests), else undefined */
  command: z.array(z.string()).optional(),
  env: z.array(flannelEnvVarSchema).optional(),
  /** undefined: RollingUpdate */
  updateStrategy: z.enum(["RollingUpdate", "OnDelete"]).optional(),
  /** spec.selector.matchLabels: how its pods are found */
  selector: z.record(z.string(), z.string()).optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().optional(),
});
export type FlannelDaemonSetInfo = z.infer<typeof flannelDaemonSetInfoSchema>;

export const nodePortServiceSchema = z.object({
  namespace: z.string(),
  name: z.string(),
  nodePort: z.number(),
  port: z.number(),
  externalTrafficPolicy: z.string(),
  /** nodes running a ready backend pod */
  backendNodes: z.array(z.string()),
});
export type NodePortService = z.infer<typeof nodePortServiceSchema>;

export const clusterSnapshotSchema = z.object({
  cluster: z.string(),
  takenAt: z.string(),
  nodes: z.array(nodeSnapshotSchema),
  flannel: z.object({
    /** undefined: no installation of flannel was found (see warnings) */
    distribution: flannelDistributionSchema.optional(),
    manager: flannelManagerSchema.optional(),
    daemonSet: flannelDaemonSetInfoSchema.optional(),
    /** flanneld's effective flags, cluster-wide (DaemonSet installations); k3s keeps them per node */
    flags: z.array(flannelFlagSchema).optional(),
    /** RKE2 canal: the HelmChartConfig rke2-canal (kube-system), the persistent place for flannel.iface */
    helmChartConfig: z
      .object({ namespace: z.string(), name: z.string(), exists: z.boolean(), valuesContent: z.string().optional(), resourceVersion: z.string().optional() })
      .optional(),
    /** API requests discovery was refused (RBAC): "list daemonsets in kube-flannel" */
    forbidden: z.array(z.string()).optional(),
    /** from kube-flannel-cfg net-conf.json */
    network: z.string().optional(),
    backendType: z.string().optional(),
    vxlanPort: z.number(),
    vni: z.number(),
    enableNFTables: z.boolean().optional(),
    enableIPv4: z.boolean().optional(),
    ipv6Network: z.string().optional(),
    pods: z.array(flannelPodStateSchema),
  }),
  services: z.array(nodePortServiceSchema),
  /** things the snapshot could not read, in operator words */
  warnings: z.array(z.string()),
});
export type ClusterSnapshot = z.infer<typeof clusterSnapshotSchema>;

/** Where an exec lands: a container of an agent pod. */
export const execTargetSchema = z.object({
  namespace: z.string(),
  pod: z.string(),
  container: z.string().optional(),
  /** what the operator knows it by, e.g. "host agent on k8s-node1" */
  label: z.string(),
});
export type ExecTarget = z.infer<typeof execTargetSchema>;

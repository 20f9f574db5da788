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
    daemonSet: flannelDaemonSetInfoSchema.optional(),
    /** from kube-flannel-cfg net-conf.json */
    network: z.string().optional(),
    backendType: z.string().optional(),
    vxlanPort: z.number(),
    vni: z.number(),
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

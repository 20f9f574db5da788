// The few fields of Kubernetes objects that xnode reads. Kept apart from
// @kubernetes/client-node's classes so the pure core never depends on it.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
  /** set while a deleted object is terminating */
  deletionTimestamp?: string;
  ownerReferences?: { kind: string; name: string; apiVersion?: string }[];
}

export interface KubeNode {
  metadata: ObjectMeta;
  spec?: { podCIDR?: string; podCIDRs?: string[] };
  status?: {
    addresses?: { type: string; address: string }[];
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}

export interface KubeContainer {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: KubeEnvVar[];
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface KubeEnvVar {
  name: string;
  value?: string;
  valueFrom?: { configMapKeyRef?: { name: string; key: string; optional?: boolean }; fieldRef?: { fieldPath: string } };
}

export interface KubePod {
  metadata: ObjectMeta;
  spec?: { nodeName?: string; hostNetwork?: boolean; containers: KubeContainer[] };
  status?: {
    phase?: string;
    podIP?: string;
    hostIP?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: {
      name: string;
      ready: boolean;
      restartCount: number;
      state?: { waiting?: { reason?: string; message?: string }; running?: object; terminated?: { reason?: string; exitCode?: number } };
    }[];
  };
}

export interface KubeDaemonSet {
  metadata: ObjectMeta;
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    updateStrategy?: { type?: string };
    template?: {
      metadata?: { labels?: Record<string, string> };
      spec?: { containers: KubeContainer[]; initContainers?: KubeContainer[]; volumes?: { name: string; configMap?: { name: string } }[] };
    };
  };
  status?: {
    desiredNumberScheduled?: number;
    numberReady?: number;
    updatedNumberScheduled?: number;
    observedGeneration?: number;
  };
}

/** A namespaced custom object (e.g. RKE2's HelmChartConfig, helm.cattle.io/v1 helmchartconfigs). */
export interface CustomObjectRef {
  group: string;
  version: string;
  plural: string;
  namespace: string;
  name: string;
}

export interface KubeCustomObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec?: Record<string, unknown>;
}

export interface KubeConfigMap {
  metadata: ObjectMeta;
  data?: Record<string, string>;
}

export interface KubeService {
  metadata: ObjectMeta;
  spec?: {
    type?: string;
    selector?: Record<string, string>;
    externalTrafficPolicy?: string;
    ports?: { name?: string; port: number; nodePort?: number; protocol?: string; targetPort?: number | string }[];
  };
}

/** RFC 6902 operation, the only patch form xnode sends (it can carry `test` preconditions). */
export type JsonPatchOp = { op: "add" | "replace" | "test"; path: string; value: unknown } | { op: "remove"; path: string };

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  durationMs: number;
}

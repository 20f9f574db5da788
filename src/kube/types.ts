// The few fields of Kubernetes objects that xnode reads. Kept apart from
// @kubernetes/client-node's classes so the pure core never depends on it.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  resourceVersion?: string;
  generation?: number;
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
  env?: { name: string; value?: string }[];
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
  spec?: { template?: { spec?: { containers: KubeContainer[] } } };
  status?: {
    desiredNumberScheduled?: number;
    numberReady?: number;
    updatedNumberScheduled?: number;
    observedGeneration?: number;
  };
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

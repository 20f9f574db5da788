// What one check gathers and what it reports. The snapshot comes from the
// Kubernetes API, the evidence from the agents on each node; diagnosis is a
// pure function of both (src/diagnosis/).
import type {
  FdbEntry,
  InterfaceInfo,
  IptablesState,
  NeighbourEntry,
  RouteEntry,
  SysctlValues,
  VxlanDevice,
} from "../probes/evidence.js";

export interface PodRef {
  namespace: string;
  name: string;
}

export interface NodeSnapshot {
  name: string;
  internalIP?: string;
  podCIDR?: string;
  ready: boolean;
  flannel: {
    publicIP?: string;
    publicIPOverwrite?: string;
    backendType?: string;
    vtepMac?: string;
    vni?: number;
  };
  hostAgent?: PodRef;
  podAgent?: PodRef & { podIP?: string };
}

export interface FlannelPodState {
  node: string;
  name: string;
  ready: boolean;
  restarts: number;
  reason?: string;
}

export interface FlannelDaemonSetInfo {
  namespace: string;
  name: string;
  container: string;
  /** index of the flannel container in spec.template.spec.containers */
  containerIndex: number;
  /** flannel's flags: `command` after the binary, then `args` */
  args: string[];
  /** the container's command when it carries flags too (old manifests), else undefined */
  command?: string[];
  resourceVersion?: string;
  generation?: number;
}

export interface NodePortService {
  namespace: string;
  name: string;
  nodePort: number;
  port: number;
  externalTrafficPolicy: string;
  /** nodes running a ready backend pod */
  backendNodes: string[];
}

export interface ClusterSnapshot {
  cluster: string;
  takenAt: string;
  nodes: NodeSnapshot[];
  flannel: {
    daemonSet?: FlannelDaemonSetInfo;
    /** from kube-flannel-cfg net-conf.json */
    network?: string;
    backendType?: string;
    vxlanPort: number;
    vni: number;
    pods: FlannelPodState[];
  };
  services: NodePortService[];
  /** things the snapshot could not read, in operator words */
  warnings: string[];
}

/** Everything read from one node's host agent. A probe that failed leaves its field undefined and an entry in `errors`. */
export interface HostEvidence {
  node: string;
  interfaces?: InterfaceInfo[];
  routes?: RouteEntry[];
  vxlan?: VxlanDevice[];
  fdb?: FdbEntry[];
  neighbours?: NeighbourEntry[];
  sysctls?: SysctlValues;
  iptables?: IptablesState;
  errors: { probe: string; message: string }[];
}

export type MatrixKind = "pod-icmp" | "pod-tcp" | "node-pod-icmp" | "underlay-icmp" | "nodeport";

export interface MatrixEntry {
  from: string;
  to: string;
  kind: MatrixKind;
  ok: boolean;
  rttMs?: number;
  error?: string;
  /** what was contacted: an address, address:port */
  target: string;
  /** source interface, for underlay-icmp */
  via?: string;
  /** for nodeport: "namespace/name" of the service */
  service?: string;
}

export interface CheckEvidence {
  snapshot: ClusterSnapshot;
  hosts: HostEvidence[];
  matrix: MatrixEntry[];
  /** nodes whose agents did not answer, with why */
  unreachableNodes: { node: string; error: string }[];
}

export type Severity = "critical" | "warning" | "info";

export interface RemediationPlan {
  kind: "patch-flannel-iface" | "add-routes" | "open-vxlan-port" | "set-forward-accept" | "enable-ip-forward";
  summary: string;
  /** per-node commands (argv) for host-agent fixes */
  commands?: { node: string; argv: string[] }[];
  /** JSON patch for patch-flannel-iface, with its preconditions */
  patch?: { namespace: string; name: string; ops: { op: string; path: string; value?: unknown }[] };
  /** "args: [a, b] → [a, b, c]" style lines a person approves */
  diff: string[];
  persistent: boolean;
  risks: string[];
}

export interface TraceHop {
  hop: string;
  ok: boolean;
  detail: string;
  /** the evidence for this hop was missing: ok only because nothing contradicts it */
  unverified?: boolean;
}

export interface Finding {
  id:
    | "vtep-duplicate-public-ip"
    | "vtep-wrong-interface"
    | "udp-vxlan-blocked"
    | "forward-policy-drop"
    | "ip-forward-disabled"
    | "mtu-mismatch"
    | "route-missing"
    | "fdb-stale"
    | "pod-cidr-missing"
    | "flannel-pod-not-ready"
    | "nodeport-unreachable"
    | "cluster-healthy";
  severity: Severity;
  nodes: string[];
  evidence: string[];
  explanation: string;
  remediations: RemediationPlan[];
  /** hop-by-hop trace of one failing pair this finding explains */
  trace?: { from: string; to: string; hops: TraceHop[] };
}

export interface CheckReport {
  cluster: string;
  startedAt: string;
  durationMs: number;
  nodes: { name: string; internalIP?: string; podCIDR?: string; publicIP?: string; probed: boolean; error?: string }[];
  matrix: MatrixEntry[];
  findings: Finding[];
}

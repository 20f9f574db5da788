// Server-side printing: kubectl asks for meta.k8s.io/v1 Table objects and
// prints whatever columns the server sends. Columns and cell formats follow
// the real apiserver's printers (pkg/printers/internalversion); priority 1
// columns are the ones only `-o wide` shows.
import type { K8sObject } from "./store.js";

interface Column {
  name: string;
  type: "string" | "integer";
  format?: "name";
  priority: 0 | 1;
  description: string;
  cell: (obj: K8sObject, now: number) => string | number;
}

export interface Table {
  kind: "Table";
  apiVersion: "meta.k8s.io/v1";
  metadata: { resourceVersion?: string };
  columnDefinitions: { name: string; type: string; format: string; description: string; priority: number }[];
  rows: { cells: (string | number)[]; object?: unknown }[];
}

/** What each row carries, from the `includeObject` query parameter (default Metadata). */
export type IncludeObject = "None" | "Metadata" | "Object";

/** apimachinery's duration.HumanDuration, which every AGE column uses. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < -1) return "<invalid>";
  if (s < 0) return "0s";
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (d < 365 * 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

const NONE = "<none>";

const name: Column = {
  name: "Name",
  type: "string",
  format: "name",
  priority: 0,
  description: "Name must be unique within a namespace.",
  cell: (o) => o.metadata.name,
};
const age: Column = {
  name: "Age",
  type: "string",
  priority: 0,
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
  cell: (o, now) => (o.metadata.creationTimestamp ? humanDuration(now - Date.parse(o.metadata.creationTimestamp)) : "<unknown>"),
};

function col(name: string, cell: Column["cell"], priority: 0 | 1 = 0, type: Column["type"] = "string"): Column {
  return { name, type, priority, description: name, cell };
}

function formatLabels(labels: Record<string, string> | undefined): string {
  const entries = Object.entries(labels ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(",") : NONE;
}

interface Condition {
  type: string;
  status: string;
}

function nodeStatus(node: K8sObject): string {
  const ready = (node.status?.conditions as Condition[] | undefined)?.find((c) => c.type === "Ready");
  const parts = [ready?.status === "True" ? "Ready" : ready ? "NotReady" : "Unknown"];
  if (node.spec?.unschedulable) parts.push("SchedulingDisabled");
  return parts.join(",");
}

function nodeRoles(node: K8sObject): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith("node-role.kubernetes.io/"))
    .map((k) => k.slice("node-role.kubernetes.io/".length))
    .filter(Boolean);
  return roles.length ? roles.sort().join(",") : NONE;
}

function nodeAddress(node: K8sObject, type: string): string {
  return (node.status?.addresses as { type: string; address: string }[] | undefined)?.find((a) => a.type === type)?.address ?? NONE;
}

interface ContainerStatus {
  ready?: boolean;
  restartCount?: number;
  state?: { waiting?: { reason?: string }; terminated?: { reason?: string } };
}

function podStatus(pod: K8sObject): string {
  if (pod.metadata.deletionTimestamp) return "Terminating";
  const statuses = (pod.status?.containerStatuses ?? []) as ContainerStatus[];
  const stuck = statuses.find((c) => c.state?.waiting?.reason || c.state?.terminated?.reason);
  return stuck?.state?.waiting?.reason ?? stuck?.state?.terminated?.reason ?? pod.status?.reason ?? pod.status?.phase ?? "Unknown";
}

function podReady(pod: K8sObject): string {
  const statuses = (pod.status?.containerStatuses ?? []) as ContainerStatus[];
  const total = (pod.spec?.containers as unknown[] | undefined)?.length ?? statuses.length;
  return `${statuses.filter((c) => c.ready).length}/${total}`;
}

function podRestarts(pod: K8sObject): string {
  const statuses = (pod.status?.containerStatuses ?? []) as ContainerStatus[];
  return String(statuses.reduce((sum, c) => sum + (c.restartCount ?? 0), 0));
}

function servicePorts(svc: K8sObject): string {
  const ports = (svc.spec?.ports ?? []) as { port: number; nodePort?: number; protocol?: string }[];
  if (!ports.length) return NONE;
  return ports.map((p) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ""}/${p.protocol ?? "TCP"}`).join(",");
}

function serviceExternalIP(svc: K8sObject): string {
  const external = (svc.spec?.externalIPs ?? []) as string[];
  if (svc.spec?.type === "LoadBalancer") {
    const ingress = ((svc.status?.loadBalancer?.ingress ?? []) as { ip?: string; hostname?: string }[]).map((i) => i.ip ?? i.hostname);
    const all = [...ingress, ...external];
    return all.length ? all.join(",") : "<pending>";
  }
  return external.length ? external.join(",") : NONE;
}

function labelSelector(
  sel: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined,
): string {
  const parts = [
    ...Object.entries(sel?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(sel?.matchExpressions ?? []).map((e) => `${e.key} ${e.operator.toLowerCase()} (${(e.values ?? []).join(",")})`),
  ];
  return parts.length ? parts.join(",") : NONE;
}

type Containers = { name: string; image?: string }[];
const num = (v: unknown) => (typeof v === "number" ? v : 0);

const COLUMNS: Record<string, Column[]> = {
  Node: [
    name,
    col("Status", nodeStatus),
    col("Roles", nodeRoles),
    age,
    col("Version", (o) => o.status?.nodeInfo?.kubeletVersion ?? ""),
    col("Internal-IP", (o) => nodeAddress(o, "InternalIP"), 1),
    col("External-IP", (o) => nodeAddress(o, "ExternalIP"), 1),
    col("OS-Image", (o) => o.status?.nodeInfo?.osImage ?? "<unknown>", 1),
    col("Kernel-Version", (o) => o.status?.nodeInfo?.kernelVersion ?? "<unknown>", 1),
    col("Container-Runtime", (o) => o.status?.nodeInfo?.containerRuntimeVersion ?? "<unknown>", 1),
  ],
  Pod: [
    name,
    col("Ready", podReady),
    col("Status", podStatus),
    col("Restarts", podRestarts),
    age,
    col("IP", (o) => o.status?.podIP ?? NONE, 1),
    col("Node", (o) => o.spec?.nodeName ?? NONE, 1),
    col("Nominated Node", (o) => o.status?.nominatedNodeName ?? NONE, 1),
    col("Readiness Gates", (o) => (o.spec?.readinessGates?.length ? `0/${o.spec.readinessGates.length}` : NONE), 1),
  ],
  DaemonSet: [
    name,
    col("Desired", (o) => num(o.status?.desiredNumberScheduled), 0, "integer"),
    col("Current", (o) => num(o.status?.currentNumberScheduled), 0, "integer"),
    col("Ready", (o) => num(o.status?.numberReady), 0, "integer"),
    col("Up-to-date", (o) => num(o.status?.updatedNumberScheduled), 0, "integer"),
    col("Available", (o) => num(o.status?.numberAvailable), 0, "integer"),
    col("Node Selector", (o) => formatLabels(o.spec?.template?.spec?.nodeSelector)),
    age,
    col("Containers", (o) => ((o.spec?.template?.spec?.containers ?? []) as Containers).map((c) => c.name).join(","), 1),
    col("Images", (o) => ((o.spec?.template?.spec?.containers ?? []) as Containers).map((c) => c.image ?? "").join(","), 1),
    col("Selector", (o) => labelSelector(o.spec?.selector), 1),
  ],
  Service: [
    name,
    col("Type", (o) => o.spec?.type ?? "ClusterIP"),
    col("Cluster-IP", (o) => o.spec?.clusterIP ?? NONE),
    col("External-IP", serviceExternalIP),
    col("Port(s)", servicePorts),
    age,
    col("Selector", (o) => formatLabels(o.spec?.selector), 1),
  ],
  ConfigMap: [name, col("Data", (o) => Object.keys((o.data ?? {}) as object).length + Object.keys((o.binaryData ?? {}) as object).length, 0, "integer"), age],
  Namespace: [name, col("Status", (o) => o.status?.phase ?? "Active"), age],
};

function rowObject(obj: K8sObject, include: IncludeObject): unknown {
  if (include === "None") return undefined;
  if (include === "Object") return obj;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: obj.metadata };
}

export function toTable(kind: string, objects: K8sObject[], resourceVersion: string | undefined, include: IncludeObject, now = Date.now()): Table {
  const columns = COLUMNS[kind] ?? [name, age];
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: resourceVersion ? { resourceVersion } : {},
    columnDefinitions: columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? "", description: c.description, priority: c.priority })),
    rows: objects.map((o) => ({ cells: columns.map((c) => c.cell(o, now)), object: rowObject(o, include) })),
  };
}

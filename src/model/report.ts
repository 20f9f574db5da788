// What a check reports: the connectivity matrix, findings with their
// evidence, path traces and remediation plans.
import { z } from "zod";
import { reachTargetSchema, type HostEvidence } from "./evidence.js";
import type { ClusterSnapshot } from "./snapshot.js";

export const matrixKindSchema = z.enum(["pod-icmp", "pod-tcp", "node-pod-icmp", "underlay-icmp", "nodeport"]);
export type MatrixKind = z.infer<typeof matrixKindSchema>;

export const matrixEntrySchema = z.object({
  from: z.string(),
  to: z.string(),
  kind: matrixKindSchema,
  ok: z.boolean(),
  rttMs: z.number().optional(),
  error: z.string().optional(),
  /** what was contacted: an address, address:port */
  target: z.string(),
  /** source interface, for underlay-icmp */
  via: z.string().optional(),
  /** for nodeport: "namespace/name" of the service */
  service: z.string().optional(),
});
export type MatrixEntry = z.infer<typeof matrixEntrySchema>;

/** A probe an agent is to send, and the matrix entry its answer fills in. */
export const plannedEntrySchema = matrixEntrySchema.omit({ ok: true, rttMs: true, error: true });
export type PlannedEntry = z.infer<typeof plannedEntrySchema>;
export const plannedTargetSchema = z.object({ target: reachTargetSchema, entry: plannedEntrySchema });
export type PlannedTarget = z.infer<typeof plannedTargetSchema>;

/** What packet captures saw of one probe from `from`'s pod agent to `to`'s, in path order. */
export interface PacketTrace {
  from: string;
  to: string;
  observed: ObservedPoint[];
  /** the last point that saw the probe; null when none did */
  lostAfter: string | null;
  /** set when no capture could run at all (no agent, no pod address, no tcpdump) */
  unavailable?: string;
}

export interface CheckEvidence {
  snapshot: ClusterSnapshot;
  hosts: HostEvidence[];
  matrix: MatrixEntry[];
  /** nodes whose agents did not answer, with why */
  unreachableNodes: { node: string; error: string }[];
  /** packet-observed traces of a sample of failing pairs (a second round, when rules could not explain them) */
  traces?: PacketTrace[];
}

export const severitySchema = z.enum(["critical", "warning", "info"]);
export type Severity = z.infer<typeof severitySchema>;

export const remediationKindSchema = z.enum([
  "patch-flannel-iface",
  "add-routes",
  "open-vxlan-port",
  "set-forward-accept",
  "enable-ip-forward",
  "remove-public-ip-overwrite",
  "fix-cni0-address",
  "restart-flannel-pod",
]);
export type RemediationKind = z.infer<typeof remediationKindSchema>;

export const remediationPlanSchema = z.object({
  kind: remediationKindSchema,
  summary: z.string(),
  /** per-node commands (argv) for host-agent fixes */
  commands: z.array(z.object({ node: z.string(), argv: z.array(z.string()) })).optional(),
  /** JSON patch for patch-flannel-iface, with its preconditions */
  patch: z
    .object({
      namespace: z.string(),
      name: z.string(),
      ops: z.array(z.object({ op: z.string(), path: z.string(), value: z.unknown().optional() })),
    })
    .optional(),
  /** JSON patches of Nodes (remove-public-ip-overwrite: a flannel annotation removed, with a `test` of its value) */
  nodePatches: z.array(z.object({ node: z.string(), ops: z.array(z.object({ op: z.string(), path: z.string(), value: z.unknown().optional() })) })).optional(),
  /** a custom object to create, or JSON-patch when it exists (RKE2's HelmChartConfig rke2-canal) */
  customObject: z
    .object({
      group: z.string(),
      version: z.string(),
      plural: z.string(),
      namespace: z.string(),
      name: z.string(),
      /** the whole object, when it does not exist yet */
      create: z.record(z.string(), z.unknown()).optional(),
      /** JSON patch with `test` preconditions, when it exists */
      ops: z.array(z.object({ op: z.string(), path: z.string(), value: z.unknown().optional() })).optional(),
      /** the controller has acted on the object once this ConfigMap key holds this value */
      reconciledWhen: z.object({ namespace: z.string(), name: z.string(), key: z.string(), value: z.string() }).optional(),
    })
    .optional(),
  /** after the change: flannel's pods deleted one node at a time, each replacement Ready and programmed before the next (OnDelete, env read at start) */
  restartPods: z.object({ namespace: z.string(), daemonSet: z.string(), nodes: z.array(z.string()) }).optional(),
  /** node → the VTEP address flannel advertises once the fix took; the fix waits until every node converged on it */
  expectedPublicIPs: z.record(z.string(), z.string()).optional(),
  /** false: steps a person carries out on the nodes (k3s's own config); shown without an Approve button */
  approvable: z.boolean().optional(),
  /** the manual steps, in order */
  steps: z.array(z.string()).optional(),
  /** what undoes this change at its next sync or upgrade, and the change to commit there instead */
  revertedBy: z
    .object({
      manager: z.string(),
      /** what showed the manager, e.g. "label app.kubernetes.io/managed-by=Helm" */
      evidence: z.string(),
      /** where the lasting change goes, e.g. "the values of Helm release kube-flannel" */
      commitTo: z.string(),
      /** the exact YAML to commit */
      values: z.string(),
    })
    .optional(),
  /** "args: [a, b] → [a, b, c]" style lines a person approves */
  diff: z.array(z.string()),
  persistent: z.boolean(),
  risks: z.array(z.string()),
});
export type RemediationPlan = z.infer<typeof remediationPlanSchema>;

export const traceHopSchema = z.object({
  hop: z.string(),
  ok: z.boolean(),
  detail: z.string(),
  /** the evidence for this hop was missing: ok only because nothing contradicts it */
  unverified: z.boolean().optional(),
});
export type TraceHop = z.infer<typeof traceHopSchema>;

/** One capture point of a packet-observed trace: "<node>/<interface>". */
export const observedPointSchema = z.object({
  point: z.string(),
  /** where on the path: the pod bridge, the VXLAN device, or the interface between the nodes */
  role: z.enum(["bridge", "tunnel", "underlay"]).optional(),
  seen: z.boolean(),
  /** the capture ran (false: no tcpdump, no such device, no permission): only then does "not seen" mean anything */
  captured: z.boolean().optional(),
  packets: z.number(),
  detail: z.string(),
});
export type ObservedPoint = z.infer<typeof observedPointSchema>;

export const findingIdSchema = z.enum([
  "vtep-duplicate-public-ip",
  "vtep-wrong-interface",
  "udp-vxlan-blocked",
  "forward-policy-drop",
  "ip-forward-disabled",
  "mtu-mismatch",
  "route-missing",
  "fdb-stale",
  "pod-cidr-missing",
  "flannel-pod-not-ready",
  "nodeport-unreachable",
  "cluster-healthy",
  "connectivity-unexplained",
  "iptables-backend-split",
  "public-ip-overwrite-wrong",
  "cni0-address-mismatch",
]);
export type FindingId = z.infer<typeof findingIdSchema>;

export const findingSchema = z.object({
  id: findingIdSchema,
  severity: severitySchema,
  nodes: z.array(z.string()),
  evidence: z.array(z.string()),
  explanation: z.string(),
  remediations: z.array(remediationPlanSchema),
  /** the findings that cause this one (a consequence); absent on a cause */
  explainedBy: z.array(findingIdSchema).optional(),
  /** hop-by-hop trace of one failing pair this finding explains */
  trace: z
    .object({
      from: z.string(),
      to: z.string(),
      hops: z.array(traceHopSchema),
      /** what packet captures on the path saw of the probe, in path order (xnode trace) */
      observed: z.array(observedPointSchema).optional(),
      /** the last capture point that saw the probe; null when none did */
      lostAfter: z.string().nullable().optional(),
    })
    .optional(),
});
export type Finding = z.infer<typeof findingSchema>;

export const checkReportSchema = z.object({
  cluster: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  nodes: z.array(
    z.object({
      name: z.string(),
      internalIP: z.string().optional(),
      podCIDR: z.string().optional(),
      publicIP: z.string().optional(),
      probed: z.boolean(),
      error: z.string().optional(),
    }),
  ),
  matrix: z.array(matrixEntrySchema),
  findings: z.array(findingSchema),
});
export type CheckReport = z.infer<typeof checkReportSchema>;

/** Findings that are problems: everything but the all-clear. */
export function problemsOf<F extends Pick<Finding, "id">>(findings: readonly F[]): F[] {
  return findings.filter((f) => f.id !== "cluster-healthy");
}

/** A root cause with the findings it explains, as Slack and the CLI show them: each cause once. */
export interface CauseGroup {
  cause: Finding;
  consequences: Finding[];
}

/**
 * Findings grouped under their root causes, causes in report order. A
 * consequence goes under the root of its first cause present (following chains;
 * a cycle is rooted at its earliest member); one whose causes are all absent
 * stands as a cause itself, so no finding is ever dropped.
 */
export function causeGroups(findings: readonly Finding[]): CauseGroup[] {
  const byId = new Map(findings.map((f) => [f.id, f]));
  const order = (f: Finding) => findings.indexOf(f);
  const causeOf = (f: Finding) => f.explainedBy?.map((id) => byId.get(id)).find((c) => c !== undefined && c !== f);
  const rootOf = (f: Finding): Finding => {
    const chain = [f];
    for (let c = causeOf(f); c; c = causeOf(c)) {
      if (chain.includes(c)) return chain.reduce((a, b) => (order(a) <= order(b) ? a : b));
      chain.push(c);
    }
    return chain[chain.length - 1]!;
  };
  const groups = new Map<Finding, Finding[]>();
  for (const f of findings) {
    const root = rootOf(f);
    if (!groups.has(root)) groups.set(root, []);
    if (root !== f) groups.get(root)!.push(f);
  }
  return [...groups].sort(([a], [b]) => order(a) - order(b)).map(([cause, consequences]) => ({ cause, consequences }));
}

/** The plans of a group, each once: a consequence often proposes its cause's own fix again. */
export function groupPlans(group: CauseGroup): RemediationPlan[] {
  const seen = new Set<string>();
  return [group.cause, ...group.consequences]
    .flatMap((f) => f.remediations)
    .filter((p) => {
      const key = JSON.stringify([p.kind, p.diff, p.commands ?? [], p.patch ?? null]);
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    });
}

/** The capture point after the one the probe was last seen at (the first point when none saw it). */
export function nextPoint(t: PacketTrace): ObservedPoint | undefined {
  return t.lostAfter ? t.observed[t.observed.findIndex((p) => p.point === t.lostAfter) + 1] : t.observed[0];
}

/** What a packet-observed trace says: the probe got all the way, got lost on the way, or could not be observed. */
export function traceVerdict(t: PacketTrace): "delivered" | "lost" | "unavailable" {
  if (t.unavailable || t.observed.length === 0) return "unavailable";
  return t.lostAfter === t.observed[t.observed.length - 1]!.point ? "delivered" : "lost";
}

/** What one node's agents measured in a check's reachability round, and which agents could not be asked. */
export const nodeReachSchema = z.object({
  node: z.string(),
  entries: z.array(matrixEntrySchema),
  failures: z.array(z.object({ node: z.string(), error: z.string() })),
});
export type NodeReach = z.infer<typeof nodeReachSchema>;

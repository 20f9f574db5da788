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

export interface CheckEvidence {
  snapshot: ClusterSnapshot;
  hosts: HostEvidence[];
  matrix: MatrixEntry[];
  /** nodes whose agents did not answer, with why */
  unreachableNodes: { node: string; error: string }[];
}

export const severitySchema = z.enum(["critical", "warning", "info"]);
export type Severity = z.infer<typeof severitySchema>;

export const remediationKindSchema = z.enum(["patch-flannel-iface", "add-routes", "open-vxlan-port", "set-forward-accept", "enable-ip-forward"]);
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
]);
export type FindingId = z.infer<typeof findingIdSchema>;

export const findingSchema = z.object({
  id: findingIdSchema,
  severity: severitySchema,
  nodes: z.array(z.string()),
  evidence: z.array(z.string()),
  explanation: z.string(),
  remediations: z.array(remediationPlanSchema),
  /** hop-by-hop trace of one failing pair this finding explains */
  trace: z.object({ from: z.string(), to: z.string(), hops: z.array(traceHopSchema) }).optional(),
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

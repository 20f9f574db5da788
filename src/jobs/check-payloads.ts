// Job names and payloads of the check pipeline. Workers parse every payload
// with these schemas: a job written by another version fails loudly, not oddly.
import { z } from "zod";
import type { PlannedTarget } from "../check/plan-reach-targets.js";
import type { ClusterSnapshot, HostEvidence, MatrixEntry, NodeSnapshot } from "../check/types.js";
import type { ExecTarget } from "../kube/kube-client.js";

export const CHECK_QUEUE = "xnode-check";

export const JOB = {
  start: "check-start",
  inspect: "check-inspect",
  plan: "check-plan",
  reach: "check-reach",
  diagnose: "check-diagnose",
} as const;

const base = z.object({ checkId: z.string().min(1), cluster: z.string().min(1), requestId: z.string().min(1) });
// Nested evidence is produced by our own code one step earlier; its shape is
// checked by TypeScript there, so here only its presence is.
const snapshot = z.custom<ClusterSnapshot>((v) => typeof v === "object" && v !== null && Array.isArray((v as ClusterSnapshot).nodes));

export const startPayload = base;
export const inspectPayload = base.extend({ node: z.custom<NodeSnapshot>((v) => typeof v === "object" && v !== null && "name" in v) });
export const planPayload = base.extend({ snapshot });
export const reachPayload = base.extend({
  node: z.string(),
  agents: z.array(
    z.object({
      agent: z.enum(["host", "pod"]),
      target: z.custom<ExecTarget>((v) => typeof v === "object" && v !== null && "pod" in v),
      planned: z.array(z.custom<PlannedTarget>()),
    }),
  ),
});
export const diagnosePayload = base.extend({ snapshot, hosts: z.array(z.custom<HostEvidence>()) });

export type CheckBase = z.infer<typeof base>;
export type InspectPayload = z.infer<typeof inspectPayload>;
export type ReachPayload = z.infer<typeof reachPayload>;
export type DiagnosePayload = z.infer<typeof diagnosePayload>;

/** What a reach job returns to the diagnose job. */
export interface ReachResultValue {
  node: string;
  entries: MatrixEntry[];
  failures: { node: string; error: string }[];
}

// Job names and payloads of the check pipeline. Workers parse every payload
// with these schemas (types derived from them): a job written by another
// version fails loudly, not oddly.
import { z } from "zod";
import { clusterSnapshotSchema, execTargetSchema, hostEvidenceSchema, matrixEntrySchema, nodeSnapshotSchema, plannedTargetSchema } from "../model/index.js";

export const CHECK_QUEUE = "xnode-check";
/** Tries of every check step, the start job included (bot and worker agree on it). */
export const CHECK_ATTEMPTS = 3;

export const JOB = {
  start: "check-start",
  inspect: "check-inspect",
  plan: "check-plan",
  reach: "check-reach",
  diagnose: "check-diagnose",
  trace: "check-trace",
} as const;

const base = z.object({
  checkId: z.string().min(1),
  cluster: z.string().min(1),
  requestId: z.string().min(1),
  // Where the check answers, carried by every step: if Redis loses the check's
  // record (restarted without its data), the step can still say so in the thread.
  thread: z.object({ channel: z.string().min(1), rootTs: z.string().min(1), requestedBy: z.string().min(1) }).optional(),
});

export const startPayload = base;
export const inspectPayload = base.extend({ node: nodeSnapshotSchema });
export const planPayload = base.extend({ snapshot: clusterSnapshotSchema });
export const reachPayload = base.extend({
  node: z.string(),
  agents: z.array(z.object({ agent: z.enum(["host", "pod"]), target: execTargetSchema, planned: z.array(plannedTargetSchema) })),
});
export const diagnosePayload = base.extend({ snapshot: clusterSnapshotSchema, hosts: z.array(hostEvidenceSchema) });

/** `/xnode trace <cluster> <from> <to>`: one pair's packets observed, answered in the channel it was asked in. */
export const tracePayload = z.object({
  cluster: z.string().min(1),
  from: z.string().min(1),
  to: z.string().min(1),
  channel: z.string().min(1),
  user: z.string().min(1),
  requestId: z.string().min(1),
});
export type TracePayload = z.infer<typeof tracePayload>;

/** What a reach job returns to the diagnose job. */
export const reachResultValueSchema = z.object({
  node: z.string(),
  entries: z.array(matrixEntrySchema),
  failures: z.array(z.object({ node: z.string(), error: z.string() })),
});

export type CheckBase = z.infer<typeof base>;
export type InspectPayload = z.infer<typeof inspectPayload>;
export type ReachPayload = z.infer<typeof reachPayload>;
export type DiagnosePayload = z.infer<typeof diagnosePayload>;
export type ReachResultValue = z.infer<typeof reachResultValueSchema>;

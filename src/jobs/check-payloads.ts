// Job names and payloads of the check pipeline. Workers parse every payload
// with these schemas (types derived from them): a job written by another
// version fails loudly, not oddly.
import { z } from "zod";
import { execTargetSchema, plannedTargetSchema } from "../model/index.js";

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
// The evidence is in Redis (src/store/evidence-store.ts): jobs name the check and their nodes.
export const inspectPayload = base.extend({ nodes: z.array(z.string()).min(1) });
export const planPayload = base;
export const reachPayload = base.extend({
  nodes: z
    .array(
      z.object({
        node: z.string(),
        agents: z.array(z.object({ agent: z.enum(["host", "pod"]), target: execTargetSchema, planned: z.array(plannedTargetSchema) })),
      }),
    )
    .min(1),
});
/** `probed`: the nodes a reach job was queued for, so a node whose job failed is reported, not forgotten */
export const diagnosePayload = base.extend({ probed: z.array(z.string()) });

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

export type CheckBase = z.infer<typeof base>;
export type InspectPayload = z.infer<typeof inspectPayload>;
export type ReachPayload = z.infer<typeof reachPayload>;
export type DiagnosePayload = z.infer<typeof diagnosePayload>;

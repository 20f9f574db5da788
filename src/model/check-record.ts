// A check as the stores keep it: who asked, where answers go, how far it got,
// and the last verdict per cluster.
import { z } from "zod";

export const subscriberSchema = z.object({
  user: z.string(),
  channel: z.string(),
  /** the message to update with progress and the verdict */
  ts: z.string().optional(),
});
export type Subscriber = z.infer<typeof subscriberSchema>;

export const checkStatusSchema = z.enum(["queued", "running", "done", "failed"]);
export type CheckStatus = z.infer<typeof checkStatusSchema>;

export const checkRecordSchema = z.object({
  id: z.string(),
  cluster: z.string(),
  requestId: z.string(),
  requestedBy: z.string(),
  channel: z.string(),
  rootTs: z.string().optional(),
  status: checkStatusSchema,
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  phase: z.string().optional(),
  done: z.number().optional(),
  total: z.number().optional(),
  verdict: z.string().optional(),
  error: z.string().optional(),
});
export type CheckRecord = z.infer<typeof checkRecordSchema>;

export const lastResultSchema = z.object({
  checkId: z.string(),
  cluster: z.string(),
  finishedAt: z.string(),
  verdict: z.string(),
  findingIds: z.array(z.string()),
  reachable: z.object({ ok: z.number(), total: z.number() }),
  channel: z.string().optional(),
  rootTs: z.string().optional(),
});
export type LastResult = z.infer<typeof lastResultSchema>;

/** How far a check got, as the engine reports it step by step. */
export type ProgressEvent =
  | { phase: "snapshot"; nodes: number }
  | { phase: "inspect"; node: string; done: number; total: number; ok: boolean }
  | { phase: "reach"; node: string; done: number; total: number }
  | { phase: "diagnose"; findings: number };

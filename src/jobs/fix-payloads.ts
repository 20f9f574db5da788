// The fix queue: one job per approved fix or rollback.
import { z } from "zod";

export const FIX_QUEUE = "xnode-fix";
export const FIX_JOB = "fix-apply";

export const fixPayload = z.object({
  approvalId: z.string().regex(/^[0-9a-f]{32}$/),
  cluster: z.string().min(1),
  requestId: z.string().min(1),
  approver: z.string().min(1),
});
export type FixPayload = z.infer<typeof fixPayload>;

// One line of a cluster's audit trail: every request, decision, refusal,
// apply, rollback and verdict.
import { z } from "zod";

export const auditEventSchema = z.enum(["check-requested", "approved", "rejected", "refused", "applied", "aborted", "rolled-back", "verdict"]);
export type AuditEvent = z.infer<typeof auditEventSchema>;

export const auditEntrySchema = z.object({
  event: auditEventSchema,
  who: z.string(),
  cluster: z.string(),
  at: z.string(),
  planHash: z.string().optional(),
  kind: z.string().optional(),
  result: z.string(),
  approvalId: z.string().optional(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

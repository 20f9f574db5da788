// Approvals live server-side: a button carries only an unguessable id. The
// record holds the exact plan, its hash and the live-state fingerprint it was
// made from. Deciding is atomic, so two clicks at once decide once.
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { z } from "zod";
import { remediationPlanSchema } from "../model/index.js";
import { parseStored, validStored } from "./parse-stored.js";

const approvalStatusSchema = z.enum(["pending", "approved", "rejected"]);
export type ApprovalStatus = z.infer<typeof approvalStatusSchema>;

/** What `save` writes: the decision is kept apart (see DECIDE_SCRIPT). */
const storedApprovalSchema = z.object({
  id: z.string(),
  purpose: z.enum(["fix", "rollback"]),
  cluster: z.string(),
  checkId: z.string().optional(),
  findingId: z.string(),
  plan: remediationPlanSchema,
  planHash: z.string(),
  /** opaque to the store: what src/remediation compares against live state */
  fingerprint: z.unknown(),
  /** who asked for the check (the two-person rule keeps them from approving) */
  requestedBy: z.string(),
  channel: z.string(),
  threadTs: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
});

// The decision hash as DECIDE_SCRIPT writes it; empty while pending.
const decisionSchema = z.object({
  status: approvalStatusSchema.optional(),
  decidedBy: z.string().optional(),
  decidedAt: z.string().optional(),
});

export type ApprovalRecord = z.infer<typeof storedApprovalSchema> & { status: ApprovalStatus; decidedBy?: string; decidedAt?: string };

// Decide only a pending approval; report what it was otherwise. The decision
// lives in its own hash so the plan's JSON is never re-encoded by Lua.
const DECIDE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local cur = redis.call('HMGET', KEYS[2], 'status', 'decidedBy', 'decidedAt')
if cur[1] then return {cur[1], cur[2] or '', cur[3] or ''} end
redis.call('HSET', KEYS[2], 'status', ARGV[1], 'decidedBy', ARGV[2], 'decidedAt', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {'ok'}`;

const decidedStatusSchema = z.union([z.literal("missing"), approvalStatusSchema]);
export type DecideResult = { ok: true } | { ok: false; status: z.infer<typeof decidedStatusSchema>; decidedBy?: string; decidedAt?: string };

export class ApprovalStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "xnode:",
    /** records outlive their expiry so a late click is told "expired", not "unknown" */
    private readonly keepSeconds = 7 * 24 * 3600,
  ) {}

  private key(...parts: string[]): string {
    return `${this.prefix}${parts.join(":")}`;
  }

  static newId(): string {
    return randomBytes(16).toString("hex");
  }

  async save(rec: Omit<ApprovalRecord, "status" | "decidedBy" | "decidedAt">): Promise<void> {
    await this.redis.set(this.key("approval", rec.id), JSON.stringify(rec), "EX", this.keepSeconds);
  }

  async get(id: string): Promise<ApprovalRecord | undefined> {
    // Ids come from button clicks: anything but our own format is a forgery.
    if (!/^[0-9a-f]{32}$/.test(id)) return undefined;
    const [raw, decision] = await Promise.all([this.redis.get(this.key("approval", id)), this.redis.hgetall(this.key("approval", id, "decision"))]);
    if (!raw) return undefined;
    const rec = parseStored(storedApprovalSchema, raw, `approval ${id}`);
    const decided = validStored(decisionSchema, decision, `decision of approval ${id}`);
    return { ...rec, status: decided.status ?? "pending", decidedBy: decided.decidedBy, decidedAt: decided.decidedAt };
  }

  async decide(id: string, status: "approved" | "rejected", by: string, at: Date): Promise<DecideResult> {
    const res = (await this.redis.eval(
      DECIDE_SCRIPT,
      2,
      this.key("approval", id),
      this.key("approval", id, "decision"),
      status,
      by,
      at.toISOString(),
      String(this.keepSeconds),
    )) as string[];
    if (res[0] === "ok") return { ok: true };
    return {
      ok: false,
      status: validStored(decidedStatusSchema, res[0], `decision of approval ${id}`),
      decidedBy: res[1] || undefined,
      decidedAt: res[2] || undefined,
    };
  }

  /** Takes back an approval `by` made (the fix could not be queued): pending again, so the button works once more. */
  async undoApproval(id: string, by: string): Promise<boolean> {
    const undone = await this.redis.eval(
      `if redis.call('HGET', KEYS[1], 'status') == 'approved' and redis.call('HGET', KEYS[1], 'decidedBy') == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
      1,
      this.key("approval", id, "decision"),
      by,
    );
    return undone === 1;
  }

  /** One fix in flight per cluster. */
  async lockCluster(cluster: string, owner: string, ttlSeconds: number): Promise<boolean> {
    return (await this.redis.set(this.key("fixlock", cluster), owner, "EX", ttlSeconds, "NX")) === "OK";
  }

  async lockHolder(cluster: string): Promise<string | undefined> {
    return (await this.redis.get(this.key("fixlock", cluster))) ?? undefined;
  }

  async unlockCluster(cluster: string, owner: string): Promise<void> {
    await this.redis.eval(
      `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
      1,
      this.key("fixlock", cluster),
      owner,
    );
  }
}

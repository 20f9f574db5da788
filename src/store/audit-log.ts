// Every request, decision, refusal, apply, rollback and verdict, per cluster,
// in a capped Redis stream (and in the log, by the caller).
import type { Redis } from "ioredis";
import { auditEntrySchema, type AuditEntry } from "../model/index.js";
import { validStored } from "./parse-stored.js";

export class AuditLog {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "xnode:",
    private readonly maxEntries = 1000,
  ) {}

  private key(cluster: string): string {
    return `${this.prefix}audit:${cluster}`;
  }

  async record(entry: AuditEntry): Promise<void> {
    const fields = Object.entries(entry).flatMap(([k, v]) => (v === undefined ? [] : [k, String(v)]));
    await this.redis.xadd(this.key(entry.cluster), "MAXLEN", "~", String(this.maxEntries), "*", ...fields);
  }

  /** Newest first. */
  async latest(cluster: string, count = 20): Promise<AuditEntry[]> {
    const rows = await this.redis.xrevrange(this.key(cluster), "+", "-", "COUNT", count);
    return rows.map(([id, flat]) => {
      const o: Record<string, string> = {};
      for (let i = 0; i < flat.length; i += 2) o[flat[i]!] = flat[i + 1]!;
      return validStored(auditEntrySchema, o, `audit entry ${id} of cluster ${cluster}`);
    });
  }
}

// Redis-backed state of checks: who asked, where the answers go, the one
// running check per cluster, finished reports (with a TTL) and the last
// verdict per cluster.
import type { Redis } from "ioredis";
import {
  checkRecordSchema,
  checkReportSchema,
  lastResultSchema,
  subscriberSchema,
  type CheckRecord,
  type CheckReport,
  type LastResult,
  type Subscriber,
} from "../model/index.js";
import { parseStored } from "./parse-stored.js";

const DAY_S = 24 * 3600;
/** How long a finished report is kept, and the evidence behind it (EvidenceStore). */
export const REPORT_TTL_SECONDS = 7 * DAY_S;

// Atomic: join only while the check still holds the cluster's slot.
const JOIN_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  return 1
end
return 0`;

// Atomic: free the slot and take the subscriber list in one step, so a join
// either lands before (and is answered) or finds the slot free.
const FINISH_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return redis.call('LRANGE', KEYS[2], 0, -1)`;

// Atomic: count a unit of the current phase once (SADD), answer the count and the total.
/** Units one advance() may count: Lua's unpack takes a few thousand arguments at most. */
const MAX_UNITS = 1000;

// ARGV: phase, TTL, then the units
const ADVANCE_SCRIPT = `
local phase = redis.call('HGET', KEYS[1], 'phase')
local total = redis.call('HGET', KEYS[1], 'total') or '0'
if phase ~= ARGV[1] then return {0, redis.call('SCARD', KEYS[2]), total} end
local added = redis.call('SADD', KEYS[2], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[2], ARGV[2])
return {added, redis.call('SCARD', KEYS[2]), total}`;

export class CheckStore {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "xnode:",
    private readonly reportTtlSeconds = REPORT_TTL_SECONDS,
    /** a check that never finishes frees its cluster after this long */
    private readonly activeTtlSeconds = 15 * 60,
  ) {}

  private key(...parts: string[]): string {
    return `${this.prefix}${parts.join(":")}`;
  }

  /** Claims the cluster for a new check; returns the id of the running one when taken. */
  async claim(cluster: string, checkId: string): Promise<{ claimed: true } | { claimed: false; runningId: string }> {
    const ok = await this.redis.set(this.key("active", cluster), checkId, "EX", this.activeTtlSeconds, "NX");
    if (ok === "OK") return { claimed: true };
    const runningId = await this.redis.get(this.key("active", cluster));
    return runningId ? { claimed: false, runningId } : this.claim(cluster, checkId);
  }

  async activeCheck(cluster: string): Promise<string | undefined> {
    return (await this.redis.get(this.key("active", cluster))) ?? undefined;
  }

  async subscribe(cluster: string, checkId: string, sub: Subscriber): Promise<boolean> {
    const joined = await this.redis.eval(JOIN_SCRIPT, 2, this.key("active", cluster), this.key("check", checkId, "subscribers"), checkId, JSON.stringify(sub));
    return joined === 1;
  }

  /** Releases the cluster and returns everyone waiting for this check's answer. */
  async finish(cluster: string, checkId: string): Promise<Subscriber[]> {
    const raw = (await this.redis.eval(FINISH_SCRIPT, 2, this.key("active", cluster), this.key("check", checkId, "subscribers"), checkId)) as string[];
    return raw.map((s) => parseStored(subscriberSchema, s, `subscriber of check ${checkId}`));
  }

  async saveCheck(rec: CheckRecord): Promise<void> {
    await this.redis.set(this.key("check", rec.id), JSON.stringify(rec), "EX", this.reportTtlSeconds);
  }

  async getCheck(id: string): Promise<CheckRecord | undefined> {
    const raw = await this.redis.get(this.key("check", id));
    return raw ? parseStored(checkRecordSchema, raw, `check ${id}`) : undefined;
  }

  async updateCheck(id: string, patch: Partial<CheckRecord>): Promise<CheckRecord | undefined> {
    const rec = await this.getCheck(id);
    if (!rec) return undefined;
    const next = { ...rec, ...patch };
    await this.saveCheck(next);
    return next;
  }

  /** Starts a phase: `total` units of work, none done. */
  async startPhase(id: string, phase: string, total: number): Promise<void> {
    const key = this.key("check", id, "progress");
    await this.redis.multi().hset(key, { phase, total }).del(`${key}:done`).expire(key, this.activeTtlSeconds).exec();
  }

  /**
   * Counts units (nodes) done in `phase`, each once however often a retried
   * job reports it; `counted` is how many were new (0 for repeats, or for a
   * phase that is over). At most MAX_UNITS at once (Lua's unpack limit).
   */
  async advance(id: string, phase: string, units: readonly string[]): Promise<{ phase: string; done: number; total: number; counted: number }> {
    const key = this.key("check", id, "progress");
    if (units.length === 0 || units.length > MAX_UNITS) throw new Error(`advance takes 1 to ${MAX_UNITS} units, not ${units.length}`);
    const result = (await this.redis.eval(ADVANCE_SCRIPT, 2, key, `${key}:done`, phase, this.activeTtlSeconds, ...units)) as [number, number, string];
    const [counted, done, total] = result;
    return { phase, done, total: Number(total), counted };
  }

  /** true for the first of a check's steps to fail it: only that one tells Slack. */
  async firstFailure(id: string): Promise<boolean> {
    return (await this.redis.set(this.key("check", id, "failed"), "1", "EX", this.activeTtlSeconds, "NX")) === "OK";
  }

  /** true at most once per interval per check: progress edits must not flood Slack. */
  async throttle(id: string, intervalMs: number): Promise<boolean> {
    if (intervalMs <= 0) return true;
    return (await this.redis.set(this.key("check", id, "throttle"), "1", "PX", intervalMs, "NX")) === "OK";
  }

  async saveReport(id: string, report: CheckReport): Promise<void> {
    await this.redis.set(this.key("report", id), JSON.stringify(report), "EX", this.reportTtlSeconds);
  }

  async getReport(id: string): Promise<CheckReport | undefined> {
    const raw = await this.redis.get(this.key("report", id));
    return raw ? parseStored(checkReportSchema, raw, `report of check ${id}`) : undefined;
  }

  async saveLast(result: LastResult): Promise<void> {
    await this.redis.set(this.key("last", result.cluster), JSON.stringify(result));
  }

  async getLast(cluster: string): Promise<LastResult | undefined> {
    const raw = await this.redis.get(this.key("last", cluster));
    return raw ? parseStored(lastResultSchema, raw, `last result of cluster ${cluster}`) : undefined;
  }

  /** Running checks' ids per cluster, for /xnode status. */
  async runningChecks(clusters: string[]): Promise<{ cluster: string; checkId: string }[]> {
    if (clusters.length === 0) return [];
    const ids = await this.redis.mget(clusters.map((c) => this.key("active", c)));
    return clusters.flatMap((cluster, i) => (ids[i] ? [{ cluster, checkId: ids[i]! }] : []));
  }
}

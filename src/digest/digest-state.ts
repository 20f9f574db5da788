// Redis-backed memory between digests, under the CheckStore prefix
// (`${prefix}digest:…`):
//   digest:<digestId>:findings  hash cluster → JSON problem ids the last digest saw
//   digest:failures             hash cluster → JSON FailureMemory, shared by all
//                               digests: a cluster's last failure is a fact about
//                               the cluster, whichever digest saw it
//   digest:posted:<jobId>       "pending" or the posted message's ts: a job
//                               retried after posting must not post again
import type { Redis } from "ioredis";
import { z } from "zod";
import { failureMemorySchema, type DigestMemory } from "../model/index.js";
import { parseStored } from "../store/parse-stored.js";

const DAY_S = 24 * 3600;
const findingIdsSchema = z.array(z.string());

export class DigestState {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "xnode:",
    /** a digest removed from config stops refreshing its findings; they expire after this */
    private readonly memoryTtlSeconds = 90 * DAY_S,
    private readonly postedTtlSeconds = 7 * DAY_S,
  ) {}

  private key(...parts: string[]): string {
    return `${this.prefix}digest:${parts.join(":")}`;
  }

  async load(digestId: string, clusters: readonly string[]): Promise<DigestMemory> {
    const memory: DigestMemory = { findings: {}, failures: {} };
    if (clusters.length === 0) return memory;
    const [findings, failures] = await Promise.all([
      this.redis.hmget(this.key(digestId, "findings"), ...clusters),
      this.redis.hmget(this.key("failures"), ...clusters),
    ]);
    clusters.forEach((c, i) => {
      if (findings[i]) memory.findings[c] = parseStored(findingIdsSchema, findings[i]!, `findings of digest ${digestId} for ${c}`);
      if (failures[i]) memory.failures[c] = parseStored(failureMemorySchema, failures[i]!, `failure memory of cluster ${c}`);
    });
    return memory;
  }

  async save(digestId: string, memory: DigestMemory): Promise<void> {
    const tx = this.redis.multi();
    const findings = Object.entries(memory.findings).map(([c, ids]) => [c, JSON.stringify(ids)] as const);
    if (findings.length > 0)
      tx.hset(this.key(digestId, "findings"), Object.fromEntries(findings)).expire(this.key(digestId, "findings"), this.memoryTtlSeconds);
    const failures = Object.entries(memory.failures).map(([c, f]) => [c, JSON.stringify(f)] as const);
    if (failures.length > 0) tx.hset(this.key("failures"), Object.fromEntries(failures));
    await tx.exec();
  }

  /** Whether this job already posted (or is posting) its digest. */
  async postClaimed(jobId: string): Promise<boolean> {
    return (await this.redis.exists(this.key("posted", jobId))) === 1;
  }

  /** true for exactly one caller per job id: only that one may post. */
  async claimPost(jobId: string): Promise<boolean> {
    return (await this.redis.set(this.key("posted", jobId), "pending", "EX", this.postedTtlSeconds, "NX")) === "OK";
  }

  async markPosted(jobId: string, ts: string): Promise<void> {
    await this.redis.set(this.key("posted", jobId), ts, "EX", this.postedTtlSeconds, "XX");
  }

  /** Slack refused the post: let a retry of the job try again. */
  async releasePost(jobId: string): Promise<void> {
    await this.redis.del(this.key("posted", jobId));
  }
}

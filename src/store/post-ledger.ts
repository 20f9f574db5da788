// Which Slack messages each job step has posted (`${prefix}posted:<slot>` →
// {channel, ts}), so a step run again edits them instead of posting twice.
import type { Redis } from "ioredis";
import { z } from "zod";
import { parseStored } from "./parse-stored.js";

const postedSchema = z.object({ channel: z.string().min(1), ts: z.string().min(1) });

export class PostLedger {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "xnode:",
    /** longer than any job lives, retries included */
    private readonly ttlSeconds = 7 * 24 * 3600,
  ) {}

  async get(slot: string): Promise<{ channel: string; ts: string } | undefined> {
    const raw = await this.redis.get(`${this.prefix}posted:${slot}`);
    return raw ? parseStored(postedSchema, raw, `posted message ${slot}`) : undefined;
  }

  async set(slot: string, posted: { channel: string; ts: string }): Promise<void> {
    await this.redis.set(`${this.prefix}posted:${slot}`, JSON.stringify(posted), "EX", this.ttlSeconds);
  }
}

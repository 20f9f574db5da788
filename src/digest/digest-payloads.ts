// The digest queue: its job name, payload schema, job options, and the
// identity of each configured digest. Workers parse every payload with the
// schema: a job written by another version fails loudly, not oddly.
import { z } from "zod";

export const DIGEST_QUEUE = "xnode-digest";
export const DIGEST_JOB = "digest-post";
/** Every scheduler xnode owns on the digest queue has an id starting with this. */
export const DIGEST_ID_PREFIX = "digest-";

// BullMQ job and scheduler ids must not contain ":" (its own separator).
const safeId = /^[A-Za-z0-9_-]+$/;

export const digestPayload = z.object({
  digestId: z.string().regex(safeId),
  channel: z.string().min(1),
  clusters: z.array(z.string().min(1)).min(1),
  trigger: z.enum(["schedule", "manual"]),
  /** Slack user id of whoever asked for a manual digest */
  requestedBy: z.string().min(1).optional(),
});
export type DigestPayload = z.infer<typeof digestPayload>;

const DAY_S = 24 * 3600;

/** One retry for a digest that failed before posting; finished jobs kept a week for `/xnode status` and debugging. */
export const DIGEST_JOB_OPTS = {
  attempts: 2,
  backoff: { type: "exponential", delay: 5000 },
  removeOnComplete: { age: 7 * DAY_S, count: 500 },
  removeOnFail: { age: 7 * DAY_S },
} as const;

/** A channel id (or name) as it may appear inside a job or scheduler id. */
export function idPart(channel: string): string {
  return channel.replace(/[^A-Za-z0-9_-]/g, "_");
}

/** A digest as configured (`digests:` in XNODE_CONFIG). */
export interface DigestConfig {
  channel: string;
  cron: string;
  timezone: string;
  clusters: string[];
  /** test/demo form: every N seconds instead of `cron` */
  everySeconds?: number;
}

/**
 * `digest-<channel>-<n>`: the n-th digest (1-based, config order) posting to
 * that channel. The schedule and the cluster list are deliberately not part of
 * it, so editing either replaces the digest instead of adding a second one,
 * and the memory of what the last digest saw (digest-state.ts) carries over.
 */
export function digestIds(digests: readonly Pick<DigestConfig, "channel">[]): string[] {
  const seen = new Map<string, number>();
  return digests.map((d) => {
    const n = (seen.get(d.channel) ?? 0) + 1;
    seen.set(d.channel, n);
    return `${DIGEST_ID_PREFIX}${idPart(d.channel)}-${n}`;
  });
}

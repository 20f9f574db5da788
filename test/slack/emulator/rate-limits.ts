// Slack's Web API rate limits (docs.slack.dev/apis/web-api/rate-limits), per
// method per workspace: Tier 1–4 allow 1+, 20+, 50+ and 100+ calls a minute;
// chat.postMessage is special: about one message a second per channel with
// short bursts, and a workspace-wide ceiling of several hundred a minute.
// A call over a limit is answered HTTP 429 with Retry-After in whole seconds.
import type { Args } from "./api-call.js";

export type Tier = 1 | 2 | 3 | 4;

export interface RateLimitOptions {
  /** calls a minute per method in each tier (Slack's published floors by default) */
  perMinute?: Partial<Record<Tier, number>>;
  /** tiers of methods, on top of (or replacing) the defaults below */
  tiers?: Record<string, Tier>;
  /** chat.postMessage per channel: sustained messages a second, and how many may go at once */
  postsPerSecond?: number;
  postBurst?: number;
  /** chat.postMessage in the whole workspace, a minute */
  workspacePostsPerMinute?: number;
}

const PER_MINUTE: Record<Tier, number> = { 1: 1, 2: 20, 3: 50, 4: 100 };

// The tiers Slack's method reference gives for the methods the emulator has
// (auth.test and chat.getPermalink are "special"; treated as Tier 4).
const METHOD_TIERS: Record<string, Tier> = {
  "auth.test": 4,
  "chat.update": 3,
  "chat.getPermalink": 4,
  "users.info": 4,
  "usergroups.users.list": 2,
  "files.getUploadURLExternal": 4,
  "files.completeUploadExternal": 4,
};

const POST = "chat.postMessage";
const MINUTE_MS = 60_000;

/** A channel's allowance for chat.postMessage: a token bucket refilled at postsPerSecond. */
interface Bucket {
  tokens: number;
  at: number;
}

export class RateLimiter {
  private readonly perMinute: Record<Tier, number>;
  private readonly tiers: Record<string, Tier>;
  private readonly postsPerSecond: number;
  private readonly postBurst: number;
  private readonly workspacePosts: number;
  /** accepted calls' times within the last minute, per method (and "workspace posts") */
  private readonly windows = new Map<string, number[]>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(opts: RateLimitOptions = {}) {
    this.perMinute = { ...PER_MINUTE, ...opts.perMinute };
    this.tiers = { ...METHOD_TIERS, ...opts.tiers };
    this.postsPerSecond = opts.postsPerSecond ?? 1;
    this.postBurst = opts.postBurst ?? 3;
    this.workspacePosts = opts.workspacePostsPerMinute ?? 300;
  }

  /** Counts the call and returns undefined, or the seconds to wait when it is over a limit (nothing counted then). */
  admit(method: string, args: Args, now = Date.now()): number | undefined {
    if (method === POST) return this.admitPost(typeof args.channel === "string" ? args.channel : "", now);
    const tier = this.tiers[method];
    return tier === undefined ? undefined : this.admitWindow(method, this.perMinute[tier], now);
  }

  clear(): void {
    this.windows.clear();
    this.buckets.clear();
  }

  private admitPost(channel: string, now: number): number | undefined {
    const bucket = this.buckets.get(channel) ?? { tokens: this.postBurst, at: now };
    bucket.tokens = Math.min(this.postBurst, bucket.tokens + ((now - bucket.at) / 1000) * this.postsPerSecond);
    bucket.at = now;
    this.buckets.set(channel, bucket);
    if (bucket.tokens < 1) return Math.ceil((1 - bucket.tokens) / this.postsPerSecond);
    const wait = this.admitWindow(`${POST} (workspace)`, this.workspacePosts, now);
    if (wait === undefined) bucket.tokens -= 1;
    return wait;
  }

  private admitWindow(key: string, limit: number, now: number): number | undefined {
    const times = (this.windows.get(key) ?? []).filter((t) => t > now - MINUTE_MS);
    this.windows.set(key, times);
    if (times.length >= limit) return Math.max(1, Math.ceil((times[0]! + MINUTE_MS - now) / 1000));
    times.push(now);
    return undefined;
  }
}

// What the bot and the worker both open: Redis, the check store, the queue,
// and a Web API client pointed at SLACK_API_URL when set.
import { WebClient, WebClientEvent } from "@slack/web-api";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { redisTarget, type Config } from "../config.js";
import { CHECK_QUEUE } from "../jobs/check-payloads.js";
import { retryAfterFetch } from "../slack/retry-after-fetch.js";
import { webApiSlack, type SlackPort } from "../slack/slack-port.js";
import { ApprovalStore } from "../store/approval-store.js";
import { AuditLog } from "../store/audit-log.js";
import { CheckStore } from "../store/check-store.js";
import { FIX_QUEUE } from "../jobs/fix-payloads.js";
import { DIGEST_QUEUE } from "../digest/digest-payloads.js";
import { createRedis, redisUnreachable } from "../store/redis-connection.js";
import { XnodeError } from "../errors.js";
import type { Logger } from "../logger.js";
import { countingSlack } from "../ops/instrument.js";
import type { XnodeMetrics } from "../ops/metrics.js";
import { slackLogger } from "./slack-logger.js";

export interface SharedServices {
  redis: Redis;
  store: CheckStore;
  approvals: ApprovalStore;
  audit: AuditLog;
  queue: Queue;
  fixQueue: Queue;
  digestQueue: Queue;
  slack: SlackPort;
  web: WebClient;
  prefix: string;
  close(): Promise<void>;
}

/**
 * `failFast`: the bot, whose every Redis command has a person waiting on it
 * (commands fail within seconds while Redis is down, and work again when it
 * returns); the worker's shared connection waits for Redis instead.
 */
export async function openSharedServices(config: Config, logger: Logger, opts: { failFast?: boolean; metrics?: XnodeMetrics } = {}): Promise<SharedServices> {
  const { env } = config;
  if (!env.SLACK_BOT_TOKEN) throw new XnodeError("CONFIG_INVALID", "SLACK_BOT_TOKEN is not set", "Set the bot token (xoxb-…) in the environment.");
  const redis = createRedis(redisTarget(config), { failFast: opts.failFast ?? false });
  // reported by the commands that fail; without a listener ioredis prints every reconnect attempt
  if (opts.failFast) redis.on("error", (err) => logger.debug({ err }, "redis connection error"));
  try {
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw redisUnreachable(redisTarget(config), err);
  }
  const prefix = env.XNODE_REDIS_PREFIX;
  const queue = new Queue(CHECK_QUEUE, { connection: redis, prefix });
  const fixQueue = new Queue(FIX_QUEUE, { connection: redis, prefix });
  const digestQueue = new Queue(DIGEST_QUEUE, { connection: redis, prefix });
  // Connection errors reach whoever waits on a command; unheard, BullMQ prints each one to the console.
  for (const q of [queue, fixQueue, digestQueue]) q.on("error", (err) => logger.debug({ err, queue: q.name }, "queue connection error"));
  const webOptions = {
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    retryConfig: { retries: 5, factor: 2, minTimeout: 200, maxTimeout: 5000 },
    fetch: retryAfterFetch(),
    // Retries and rate limits show up in our JSON logs, not on the console.
    logger: slackLogger(logger.child({ component: "slack-web-api" })),
  };
  const web = new WebClient(env.SLACK_BOT_TOKEN, webOptions);
  // User group lookups have a clicker waiting: a rate limit is told at once, not waited out.
  const lookups = new WebClient(env.SLACK_BOT_TOKEN, { ...webOptions, rejectRateLimitedCalls: true });
  const { metrics } = opts;
  // Every 429 Slack answers, including those the client waits out and retries.
  if (metrics) for (const client of [web, lookups]) client.on(WebClientEvent.RATE_LIMITED, () => metrics.slackApiError("ratelimited"));
  const slack = webApiSlack(web, lookups);
  return {
    redis,
    store: new CheckStore(redis, `${prefix}:`),
    approvals: new ApprovalStore(redis, `${prefix}:`),
    audit: new AuditLog(redis, `${prefix}:`),
    queue,
    fixQueue,
    digestQueue,
    slack: metrics ? countingSlack(slack, metrics) : slack,
    web,
    prefix,
    async close() {
      await Promise.all([queue.close(), fixQueue.close(), digestQueue.close()]);
      redis.disconnect();
    },
  };
}

// What the bot and the worker both open: Redis, the check store, the queue,
// and a Web API client pointed at SLACK_API_URL when set.
import { WebClient } from "@slack/web-api";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Config } from "../config.js";
import { CHECK_QUEUE } from "../jobs/check-payloads.js";
import { webApiSlack, type SlackPort } from "../slack/slack-port.js";
import { ApprovalStore } from "../store/approval-store.js";
import { AuditLog } from "../store/audit-log.js";
import { CheckStore } from "../store/check-store.js";
import { FIX_QUEUE } from "../jobs/fix-payloads.js";
import { DIGEST_QUEUE } from "../digest/digest-payloads.js";
import { createRedis } from "../store/redis-connection.js";
import { XnodeError } from "../errors.js";
import type { Logger } from "../logger.js";
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

export async function openSharedServices(config: Config, logger: Logger): Promise<SharedServices> {
  const { env } = config;
  if (!env.SLACK_BOT_TOKEN) throw new XnodeError("CONFIG_INVALID", "SLACK_BOT_TOKEN is not set", "Set the bot token (xoxb-…) in the environment.");
  const redis = createRedis(env.REDIS_URL);
  try {
    await redis.ping();
  } catch (err) {
    redis.disconnect();
    throw new XnodeError("CONFIG_INVALID", `cannot reach Redis at ${env.REDIS_URL}`, "Start Redis or fix REDIS_URL.", { cause: err });
  }
  const prefix = env.XNODE_REDIS_PREFIX;
  const queue = new Queue(CHECK_QUEUE, { connection: redis, prefix });
  const fixQueue = new Queue(FIX_QUEUE, { connection: redis, prefix });
  const digestQueue = new Queue(DIGEST_QUEUE, { connection: redis, prefix });
  const web = new WebClient(env.SLACK_BOT_TOKEN, {
    ...(env.SLACK_API_URL ? { slackApiUrl: env.SLACK_API_URL } : {}),
    retryConfig: { retries: 5, factor: 2, minTimeout: 200, maxTimeout: 5000 },
    // Retries and rate limits show up in our JSON logs, not on the console.
    logger: slackLogger(logger.child({ component: "slack-web-api" })),
  });
  return {
    redis,
    store: new CheckStore(redis, `${prefix}:`),
    approvals: new ApprovalStore(redis, `${prefix}:`),
    audit: new AuditLog(redis, `${prefix}:`),
    queue,
    fixQueue,
    digestQueue,
    slack: webApiSlack(web),
    web,
    prefix,
    async close() {
      await Promise.all([queue.close(), fixQueue.close(), digestQueue.close()]);
      redis.disconnect();
    },
  };
}

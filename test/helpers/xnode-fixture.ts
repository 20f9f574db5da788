// Runs the real xnode bot and worker in-process against loopback services:
// Redis on 127.0.0.1:6379 under a unique prefix, the Slack emulator, and
// (optionally) a lab cluster. Cleans its Redis keys afterwards.
import { randomBytes } from "node:crypto";
import pino from "pino";
import { envSchema, parseFileConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/logger.js";
import { startBot } from "../../src/processes/bot-process.js";
import type { RunningProcess } from "../../src/processes/bot-process.js";
import { startWorker } from "../../src/processes/worker-process.js";
import type { Redis } from "ioredis";
import { createRedis } from "../../src/store/redis-connection.js";
import { startSlackEmulator, type SlackEmulator, type SlackEmulatorOptions } from "../slack/emulator.js";
import { startLab, type StartedLab } from "./lab-fixture.js";

export const SIGNING_SECRET = "xnode-test-signing-secret";
export const APP_TOKEN = "xapp-1-A0EMUAPP1-xnode-test";
export const REDIS_URL = process.env.XNODE_TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export interface XnodeUnderTest {
  config: Config;
  botUrl: string;
  prefix: string;
  bot: RunningProcess;
  workers: RunningProcess[];
  stop(): Promise<void>;
}

export async function startXnode(opts: {
  emulator: SlackEmulator;
  clusters: { name: string; kubeconfig: string }[];
  file?: Record<string, unknown>;
  workers?: number;
  /** the bot in Socket Mode on the emulator's socket (an app-level token, no signing secret) */
  socketMode?: boolean;
  /** another Redis than the shared one (a private redis-server a test kills) */
  redisUrl?: string;
}): Promise<XnodeUnderTest> {
  const prefix = `xt${randomBytes(4).toString("hex")}`;
  const env = envSchema.parse({
    SLACK_BOT_TOKEN: "xoxb-xnode-test",
    ...(opts.socketMode ? { SLACK_APP_TOKEN: APP_TOKEN } : { SLACK_SIGNING_SECRET: SIGNING_SECRET }),
    SLACK_API_URL: opts.emulator.url,
    // any free port for each worker's /healthz, /readyz and /metrics (RunningProcess.opsPort)
    METRICS_PORT: "0",
    REDIS_URL: opts.redisUrl ?? REDIS_URL,
    XNODE_REDIS_PREFIX: prefix,
    LOG_LEVEL: process.env.XNODE_TEST_LOG_LEVEL ?? "silent",
  });
  const parsed = parseFileConfig({ clusters: opts.clusters, checks: { execTimeoutSeconds: 10, pingTimeoutSeconds: 1, concurrency: 8 }, ...opts.file });
  if (!parsed.config) throw new Error(`test config invalid: ${parsed.problems.join("; ")}`);
  const config: Config = { env, file: parsed.config };
  const logger = env.LOG_LEVEL === "silent" ? pino({ level: "silent" }) : createLogger(env.LOG_LEVEL);
  const bot = await startBot(config, logger, { port: 0, host: "127.0.0.1" });
  const workers: RunningProcess[] = [];
  for (let i = 0; i < (opts.workers ?? 1); i++) workers.push(await startWorker(config, logger));
  return {
    config,
    botUrl: `http://127.0.0.1:${bot.port}/slack/events`,
    prefix,
    bot,
    workers,
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
      await bot.stop();
      const redis = createRedis(env.REDIS_URL);
      try {
        await deleteKeys(redis, prefix);
      } finally {
        redis.disconnect();
      }
    },
  };
}

/** Every key matching `pattern` (SCAN, so a busy shared Redis is not blocked). */
export async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 500);
    keys.push(...found);
    cursor = next;
  } while (cursor !== "0");
  return keys;
}

/** Removes every key under `${prefix}:` (tests' unique prefixes). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await scanKeys(redis, `${prefix}:*`);
  if (keys.length) await redis.del(...keys);
}

export interface XnodeOnLab {
  lab: StartedLab;
  emulator: SlackEmulator;
  xnode: XnodeUnderTest;
  stop(): Promise<void>;
}

/** A lab cluster named "lab" in xnode's config, the Slack emulator, and xnode's bot and worker. */
export async function startXnodeOnLab(
  scenario: string,
  opts: { file?: Record<string, unknown>; emulator?: SlackEmulatorOptions; socketMode?: boolean } = {},
): Promise<XnodeOnLab> {
  const lab = await startLab(scenario);
  const emulator = await startSlackEmulator(opts.emulator);
  const xnode = await startXnode({
    emulator,
    clusters: [{ name: "lab", kubeconfig: lab.kubeconfigPath }],
    ...(opts.file ? { file: opts.file } : {}),
    ...(opts.socketMode ? { socketMode: true } : {}),
  });
  return {
    lab,
    emulator,
    xnode,
    async stop() {
      await xnode.stop();
      await emulator.close();
      await lab.stop();
    },
  };
}

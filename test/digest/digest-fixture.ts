// Digest tests run against real Redis (127.0.0.1:6379) under a unique prefix
// and the Slack emulator through the real WebClient. A harness owns every
// connection, queue and worker it opens and deletes its keys on close.
import { randomBytes } from "node:crypto";
import { WebClient } from "@slack/web-api";
import { Queue, type Job, type Worker } from "bullmq";
import type { Redis } from "ioredis";
import pino from "pino";
import type { DigestWorkerDeps } from "../../src/digest/digest-processor.js";
import { DIGEST_QUEUE } from "../../src/digest/digest-payloads.js";
import { DigestState } from "../../src/digest/digest-state.js";
import { startDigestWorker } from "../../src/digest/digest-worker.js";
import { createKubeClient, type KubeClient } from "../../src/kube/kube-client.js";
import { webApiSlack, type SlackPort } from "../../src/slack/slack-port.js";
import { CheckStore } from "../../src/store/check-store.js";
import { createRedis } from "../../src/store/redis-connection.js";
import { deleteKeys, REDIS_URL } from "../helpers/xnode-fixture.js";
import { after, afterEach, before, beforeEach } from "node:test";
import { startSlackEmulator, type SlackEmulator } from "../slack/emulator.js";

export { REDIS_URL };
export const silentLogger = pino({ level: "silent" });
export const MISSING_KUBECONFIG = "/nonexistent/xnode-digest-test.kubeconfig";

export function emulatorSlack(emulator: SlackEmulator): SlackPort {
  return webApiSlack(new WebClient("xoxb-t", { slackApiUrl: emulator.url, retryConfig: { retries: 1, factor: 1, minTimeout: 10, maxTimeout: 20 } }));
}

/** Real client-node clients; a cluster not in `kubeconfigs` points at a file that does not exist. */
export function kubeClients(kubeconfigs: Record<string, string>): (cluster: string) => KubeClient {
  return (cluster) => createKubeClient({ cluster, kubeconfig: kubeconfigs[cluster] ?? MISSING_KUBECONFIG });
}

export interface Completion {
  worker: number;
  jobId: string;
  result: unknown;
  at: number;
}

export interface DigestHarness {
  prefix: string;
  redis: Redis;
  queue: Queue;
  store: CheckStore;
  state: DigestState;
  /** every job a harness worker completed, in completion order */
  completions: Completion[];
  /** another Queue on its own connection, as a second replica would open it */
  replicaQueue(): Queue;
  /** a Worker on its own connection, numbered in start order */
  startWorker(deps: Omit<DigestWorkerDeps, "store" | "state" | "logger" | "execTimeoutMs" | "pingTimeoutSeconds"> & Partial<DigestWorkerDeps>): Worker;
  /** closes the workers, waiting for the jobs they are running */
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

export async function openDigestHarness(): Promise<DigestHarness> {
  const prefix = `xtd${randomBytes(4).toString("hex")}`;
  const redis = createRedis(REDIS_URL);
  await redis.ping().catch((err: unknown) => {
    redis.disconnect();
    throw new Error(`digest tests need Redis at ${REDIS_URL}: ${(err as Error).message}`);
  });
  const connections: Redis[] = [redis];
  const queues: Queue[] = [];
  const workers: Worker[] = [];
  const completions: Completion[] = [];
  const store = new CheckStore(redis, `${prefix}:`);
  const state = new DigestState(redis, `${prefix}:`);
  const openQueue = (): Queue => {
    const connection = createRedis(REDIS_URL);
    connections.push(connection);
    const q = new Queue(DIGEST_QUEUE, { connection, prefix });
    queues.push(q);
    return q;
  };
  const queue = openQueue();
  return {
    prefix,
    redis,
    queue,
    store,
    state,
    completions,
    replicaQueue: openQueue,
    startWorker(deps) {
      const connection = createRedis(REDIS_URL);
      connections.push(connection);
      const n = workers.length + 1;
      const worker = startDigestWorker({ store, state, logger: silentLogger, execTimeoutMs: 10_000, pingTimeoutSeconds: 1, ...deps }, { connection, prefix });
      worker.on("completed", (job: Job, result: unknown) => completions.push({ worker: n, jobId: job.id!, result, at: Date.now() }));
      workers.push(worker);
      return worker;
    },
    async stopWorkers() {
      await Promise.all(workers.map((w) => w.close()));
    },
    async close() {
      await Promise.all(workers.map((w) => w.close()));
      await Promise.all(queues.map((q) => q.close()));
      await deleteKeys(redis, prefix);
      for (const c of connections) c.disconnect();
    },
  };
}

/** A fake Job for calling the processor directly. */
export function fakeJob(id: string, data: unknown, repeatJobKey?: string): Job {
  return { id, data, name: "digest-post", ...(repeatJobKey ? { repeatJobKey } : {}) } as unknown as Job;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The text Slack would index: fallback plus every block's text. */
export function messageText(m: { text: string; blocks?: unknown[] }): string {
  return `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;
}

/** The channels the digest suites post in: the bot is a member of each. */
const DIGEST_CHANNELS = ["C0BAD", "C0DEV", "C0DROP", "C0DUP", "C0ELSE", "C0GONE", "C0HERE", "C0HUNG", "C0KEEP", "C0OPS", "C0REFUSE", "C0TICK"];

/**
 * Registers the hooks most digest suites share: one emulator for the suite,
 * a fresh harness (and an emptied emulator) per test. Read `ctx` inside tests.
 */
export function useDigestHarness(): { readonly h: DigestHarness; readonly emulator: SlackEmulator } {
  const ctx = {} as { h: DigestHarness; emulator: SlackEmulator };
  before(async () => {
    ctx.emulator = await startSlackEmulator({ channels: Object.fromEntries(DIGEST_CHANNELS.map((id) => [id, {}])) });
  });
  after(async () => {
    await ctx.emulator?.close();
  });
  beforeEach(async () => {
    ctx.h = await openDigestHarness();
    ctx.emulator.reset();
  });
  afterEach(async () => {
    await ctx.h.close();
  });
  return ctx;
}

// A check step that throws for the last time ends the check: the cluster is
// freed and the requesters are told, instead of a message stuck on "checking".
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, test } from "node:test";
import type { Job } from "bullmq";
import type { Redis } from "ioredis";
import pino from "pino";
import { checkFailureHandler, type CheckWorkerDeps } from "../../src/jobs/check-processors.js";
import type { CheckNotifier } from "../../src/model/index.js";
import { CheckStore } from "../../src/store/check-store.js";
import { createRedis } from "../../src/store/redis-connection.js";
import { deleteKeys, REDIS_URL } from "../helpers/xnode-fixture.js";

let redis: Redis;
let prefix: string;
before(() => {
  redis = createRedis(REDIS_URL);
  prefix = `xj${randomBytes(4).toString("hex")}`;
});
after(async () => {
  await deleteKeys(redis, prefix);
  redis.disconnect();
});

const job = (name: string, attemptsMade: number, attempts: number, data: unknown) => ({ name, attemptsMade, opts: { attempts }, data }) as unknown as Job;

test("the last failure of a pipeline step frees the cluster and answers every subscriber; earlier ones do not", async () => {
  const store = new CheckStore(redis, `${prefix}:`);
  const told: { error: string; subscribers: number }[] = [];
  const notifier: CheckNotifier = {
    progress: async () => undefined,
    finished: async () => undefined,
    failed: async (_check, error, subscribers) => void told.push({ error: error.message, subscribers: subscribers.length }),
    traced: async () => undefined,
  };
  const onFailed = checkFailureHandler({ store, notifier, logger: pino({ level: "silent" }) } as unknown as CheckWorkerDeps);
  const data = { checkId: "k1", cluster: "a", requestId: "r1" };
  await store.claim("a", "k1");
  await store.saveCheck({
    id: "k1",
    cluster: "a",
    requestId: "r1",
    requestedBy: "U1",
    channel: "C1",
    rootTs: "1.1",
    status: "running",
    startedAt: new Date().toISOString(),
  });
  await store.subscribe("a", "k1", { user: "U1", channel: "C1", ts: "1.1" });
  await store.subscribe("a", "k1", { user: "U2", channel: "C2", ts: "2.2" });

  await onFailed(job("check-plan", 1, 3, data), new Error("redis hiccup"));
  await onFailed(job("check-reach", 3, 3, data), new Error("a node's probes failed"));
  assert.deepEqual(told, [], "a retry is still coming, and node-level jobs never end a check");
  assert.equal(await store.activeCheck("a"), "k1");

  await onFailed(job("check-diagnose", 1, 1, data), new Error("boom"));
  assert.deepEqual(told, [{ error: "boom", subscribers: 2 }]);
  assert.equal(await store.activeCheck("a"), undefined);
  assert.equal((await store.getCheck("k1"))?.status, "failed");
});

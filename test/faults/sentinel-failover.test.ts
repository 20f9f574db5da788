// Redis behind Sentinel (Debian's redis-sentinel): a primary, a replica and a
// sentinel of the test's own; xnode configured with `redis: { sentinels, name }`
// in XNODE_CONFIG. `SENTINEL FAILOVER` in the middle of a check: the bot and
// the workers follow the new primary, the check completes once, and the next
// one works too.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Redis } from "ioredis";
import { duplicates, lostReports, printFigures, startFaultRig, summaries, type FaultRig } from "./fault-rig.js";
import { freePort, RedisProcess, until } from "./private-redis.js";

const NAME = "xnodeprimary";
let dir: string;
let primary: RedisProcess;
let replica: RedisProcess;
let sentinel: RedisProcess;
let admin: Redis;
let rig: FaultRig;

/** The primary's port as the sentinel sees it now. */
async function primaryPort(): Promise<number> {
  const [, port] = (await admin.call("SENTINEL", "get-master-addr-by-name", NAME)) as [string, string];
  return Number(port);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "xnode-sentinel-"));
  primary = new RedisProcess(await freePort());
  await primary.start();
  replica = new RedisProcess(await freePort(), ["--replicaof", "127.0.0.1", String(primary.port)]);
  await replica.start();
  const conf = join(dir, "sentinel.conf");
  // The sentinel rewrites its file as it learns; quorum 1: one sentinel decides.
  await writeFile(
    conf,
    [
      `sentinel monitor ${NAME} 127.0.0.1 ${primary.port} 1`,
      `sentinel down-after-milliseconds ${NAME} 2000`,
      `sentinel failover-timeout ${NAME} 10000`,
      `sentinel parallel-syncs ${NAME} 1`,
      "",
    ].join("\n"),
  );
  sentinel = new RedisProcess(await freePort(), [conf], "redis-sentinel");
  await sentinel.start();
  admin = new Redis({ port: sentinel.port, host: "127.0.0.1" });
  rig = await startFaultRig({
    // Behind Sentinel the URL's host is not used: nothing listens on port 1.
    redisUrl: "redis://127.0.0.1:1/0",
    file: { redis: { sentinels: [{ host: "127.0.0.1", port: sentinel.port }], name: NAME } },
  });
});
after(async () => {
  await rig?.stop();
  admin?.disconnect();
  for (const r of [sentinel, replica, primary]) await r?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test("SENTINEL FAILOVER mid-check: bot and workers follow the new primary, the check completes once", { timeout: 150_000 }, async () => {
  assert.equal(await primaryPort(), primary.port);
  await rig.hangHostAgent("worker-1", true);
  const asked = Date.now();
  const root = await rig.requestCheck();
  await rig.execSeen("worker-1", asked);

  // The sentinel must have seen the replica in sync before it can promote it.
  const failoverAt = await until(
    async () => ((await admin.call("SENTINEL", "failover", NAME).catch(() => undefined)) === "OK" ? Date.now() : undefined),
    30_000,
    () => `sentinel log:\n${sentinel.log}`,
    200,
  );
  await until(
    async () => (await primaryPort()) === replica.port,
    30_000,
    () => sentinel.log,
  );
  const promotedSeconds = (Date.now() - failoverAt) / 1000;
  await rig.hangHostAgent("worker-1", false);

  const { root: final, replies } = await rig.settled(root, 90_000);
  const answeredSeconds = (Date.now() - failoverAt) / 1000;
  assert.match(final.text, /^xnode: lab /);
  assert.doesNotMatch(final.text, /failed/);
  assert.equal(summaries(replies), 1);
  assert.equal(duplicates(replies), 0);
  assert.ok(
    [rig.bot, ...rig.workers].every((p) => p.running),
    "bot and workers kept running",
  );

  // What xnode writes now lands on the new primary: the next check goes through it.
  const next = await rig.settled(await rig.requestCheck(), 60_000);
  assert.match(next.root.text, /^xnode: lab healthy/);
  assert.equal(summaries(next.replies), 1);
  const promoted = new Redis({ port: replica.port, host: "127.0.0.1" });
  try {
    assert.match(String(await promoted.info("replication")), /role:master/);
    assert.ok((await promoted.keys(`${rig.env.XNODE_REDIS_PREFIX}:*`)).length > 0, "xnode's keys are on the new primary");
  } finally {
    promoted.disconnect();
  }
  printFigures({
    fault: "Redis Sentinel failover mid-check",
    checks: 2,
    messagesLost: lostReports(replies) + lostReports(next.replies),
    duplicates: duplicates(replies) + duplicates(next.replies),
    promotedSeconds,
    answeredSeconds,
  });
});

// Redis SIGKILLed mid-check and started again on the same port. With its data
// kept (an append-only file) the check finishes; without (a cache-style Redis)
// the check's state is gone, and the step still running says so in the thread
// with [Re-run], which starts a check that finishes. Nothing is lost silently.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { buttonsOf, click } from "../helpers/slack-flow.js";
import { duplicates, lostReports, printFigures, startFaultRig, summaries, USER } from "./fault-rig.js";
import { startPrivateRedis } from "./private-redis.js";

/** Redis down this long: longer than a lock renewal period, shorter than the lock (src/jobs/stalled-jobs.ts). */
const DOWN_MS = 3000;

async function killRedisMidCheck(dataDir: string | undefined) {
  const redis = await startPrivateRedis(dataDir);
  const rig = await startFaultRig({ redisUrl: redis.url });
  try {
    await rig.hangHostAgent("worker-1", true);
    const asked = Date.now();
    const root = await rig.requestCheck();
    await rig.execSeen("worker-1", asked);
    const killedAt = Date.now();
    await redis.kill();
    await rig.hangHostAgent("worker-1", false);
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await redis.start();
    const settled = await rig.settled(root, 60_000);
    const answeredSeconds = (Date.now() - killedAt) / 1000;
    const alive = [rig.bot, ...rig.workers].every((p) => p.running);
    return { rig, redis, ...settled, answeredSeconds, alive };
  } catch (err) {
    await rig.stop();
    await redis.stop();
    throw err;
  }
}

test("Redis killed mid-check and restarted with its data: the check finishes, one report", { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), "xnode-redis-aof-"));
  const { rig, redis, root, replies, answeredSeconds, alive } = await killRedisMidCheck(dir);
  try {
    assert.match(root.text, /^xnode: lab /);
    assert.doesNotMatch(root.text, /failed/);
    assert.equal(summaries(replies), 1);
    assert.equal(duplicates(replies), 0);
    assert.ok(alive, "bot and workers stayed up while Redis was away");
    printFigures({
      fault: "Redis SIGKILLed mid-check, restarted with its data",
      downSeconds: DOWN_MS / 1000,
      messagesLost: lostReports(replies),
      duplicates: duplicates(replies),
      answeredSeconds,
    });
  } finally {
    await rig.stop();
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  "Redis killed mid-check and restarted empty: the thread says the check was lost, and its [Re-run] runs one that finishes",
  { timeout: 120_000 },
  async () => {
    const { rig, redis, root, replies, answeredSeconds, alive } = await killRedisMidCheck(undefined);
    try {
      assert.match(root.text, /^xnode: checking lab failed: xnode lost this check's state \(Redis restarted without its data\)/);
      assert.equal(replies.length, 0, "no half report");
      assert.ok(alive, "bot and workers stayed up while Redis was away");
      const rerun = buttonsOf(root).find((b) => b.actionId === "xnode_rerun");
      assert.ok(rerun, "the failed message has [Re-run]");

      const second = await rig.settled(await rig.newCheck(() => click(rig.botUrl, rerun, USER)), 60_000);
      assert.match(second.root.text, /^xnode: lab healthy/);
      assert.equal(summaries(second.replies), 1);
      assert.equal(duplicates(second.replies), 0);
      printFigures({
        fault: "Redis SIGKILLed mid-check, restarted empty",
        downSeconds: DOWN_MS / 1000,
        // the lost check's answer is its failed message; the re-run's is its report
        messagesLost: lostReports(second.replies),
        duplicates: duplicates(second.replies),
        answeredSeconds,
      });
    } finally {
      await rig.stop();
      await redis.stop();
    }
  },
);

// SIGTERM (a rolling update, a node drain) while a check runs: each worker
// finishes the step it holds and exits 0, the steps still queued wait for the
// next worker, and the check completes exactly once.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { duplicates, lostReports, printFigures, startFaultRig, summaries, type FaultRig } from "./fault-rig.js";
import { startPrivateRedis, type RedisProcess } from "./private-redis.js";

let redis: RedisProcess;
let rig: FaultRig;
before(async () => {
  redis = await startPrivateRedis();
  rig = await startFaultRig({ redisUrl: redis.url });
});
after(async () => {
  await rig?.stop();
  await redis?.stop();
});

test("every worker SIGTERMed mid-check: running steps finish, exit 0, a new worker completes the check once", { timeout: 120_000 }, async () => {
  // The hanging host agent keeps one inspect step running until its exec times out (6 s).
  await rig.hangHostAgent("worker-1", true);
  const asked = Date.now();
  const root = await rig.requestCheck();
  await rig.execSeen("worker-1", asked);
  await rig.hangHostAgent("worker-1", false);
  const termAt = Date.now();
  const codes = await Promise.all(rig.workers.map((w) => w.kill("SIGTERM")));
  const shutdownSeconds = (Date.now() - termAt) / 1000;
  assert.deepEqual(codes, [0, 0], "both workers exit cleanly");
  // The step that held the hanging exec ran to its end before its worker exited: not handed on as stalled.
  const inspected = rig.workers.flatMap((w) => w.logLines()).filter((l) => l.msg === "job failed" || l.msg === "worker error");
  assert.deepEqual(inspected, [], "no job failed or errored on the way out");

  const restartAt = Date.now();
  const fresh = await rig.startWorker();
  const { root: final, replies } = await rig.settled(root, 60_000);
  const resumedSeconds = (Date.now() - restartAt) / 1000;
  assert.match(final.text, /^xnode: lab /);
  assert.doesNotMatch(final.text, /failed/);
  assert.equal(summaries(replies), 1, "exactly one report");
  assert.equal(duplicates(replies), 0);
  assert.equal(fresh.logLines().filter((l) => l.msg === "check finished").length, 1);
  printFigures({
    fault: "every worker SIGTERMed mid-check",
    checks: 1,
    messagesLost: lostReports(replies),
    duplicates: duplicates(replies),
    shutdownSeconds,
    resumedSeconds,
  });
});

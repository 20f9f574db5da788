// Every worker SIGKILLed mid-check and a fresh one started: the steps the dead
// workers held are handed to the new one (BullMQ's stalled-job detection,
// tuned in src/jobs/stalled-jobs.ts), and the thread gets exactly one report
// within 45 s of the kill, also when the kill comes halfway through posting it.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CHANNEL, duplicates, lostReports, printFigures, startFaultRig, summaries, type RigOptions } from "./fault-rig.js";
import { startPrivateRedis, type RedisProcess } from "./private-redis.js";

let redis: RedisProcess;
before(async () => {
  redis = await startPrivateRedis();
});
after(async () => {
  await redis?.stop();
});

async function killAllAndRestart(
  opts: Omit<RigOptions, "redisUrl"> & { hang: boolean },
  killWhen: (rig: Awaited<ReturnType<typeof startFaultRig>>) => Promise<unknown>,
) {
  const rig = await startFaultRig({ ...opts, redisUrl: redis.url });
  try {
    // A hanging host agent holds the check in its inspect step for as long as the exec timeout.
    if (opts.hang) await rig.hangHostAgent("worker-1", true);
    const root = await rig.requestCheck();
    await killWhen(rig);
    const killedAt = Date.now();
    await Promise.all(rig.workers.map((w) => w.kill("SIGKILL")));
    if (opts.hang) await rig.hangHostAgent("worker-1", false);
    const fresh = await rig.startWorker();
    const { root: final, replies } = await rig.settled(root, 60_000);
    const doneAt = (await fresh.waitForLog((l) => l.msg === "check finished", 1000)).time as number;
    return { final, replies, recoverySeconds: (doneAt - killedAt) / 1000 };
  } finally {
    await rig.stop();
  }
}

test("every worker SIGKILLed while a node is inspected, a fresh one started: one report within 45 s of the kill", { timeout: 120_000 }, async () => {
  const asked = Date.now();
  const { final, replies, recoverySeconds } = await killAllAndRestart({ hang: true }, (rig) => rig.execSeen("worker-1", asked));
  assert.match(final.text, /^xnode: lab healthy/, "the re-run inspect step found the host agent answering again");
  assert.equal(summaries(replies), 1, "exactly one report");
  assert.equal(duplicates(replies), 0);
  printFigures({
    fault: "every worker SIGKILLed while inspecting",
    checks: 1,
    messagesLost: lostReports(replies),
    duplicates: duplicates(replies),
    recoverySeconds,
  });
  assert.ok(recoverySeconds <= 45, `report ${recoverySeconds} s after the kill`);
});

test(
  "every worker SIGKILLed after the report's first message went out: the re-run step edits it, posts the rest, no duplicate",
  { timeout: 120_000 },
  async () => {
    // One message per 10 s per channel with a burst of 2: the root and the summary go at once, the next
    // report message is answered 429 and waits seconds on Retry-After; the workers die during that wait.
    // (Posts go one after another, so by then the summary's ts is remembered. A kill in the millisecond
    // between Slack's answer and that write could still duplicate it: src/slack/posts-once.ts.)
    const { final, replies, recoverySeconds } = await killAllAndRestart(
      { hang: false, emulator: { rateLimits: { postsPerSecond: 0.1, postBurst: 2 } } },
      (rig) =>
        rig.emulator.waitFor(
          () =>
            rig.emulator.messages(CHANNEL).some((m) => m.thread_ts && m.thread_ts !== m.ts) &&
            rig.emulator.callsOf("chat.postMessage").some((c) => c.error === "ratelimited" && c.args.thread_ts),
          30_000,
        ),
    );
    assert.match(final.text, /^xnode: lab healthy/);
    assert.equal(summaries(replies), 1, "the summary posted before the kill was edited, not posted again");
    assert.equal(duplicates(replies), 0);
    printFigures({
      fault: "every worker SIGKILLed while posting the report",
      checks: 1,
      messagesLost: lostReports(replies),
      duplicates: duplicates(replies),
      recoverySeconds,
    });
    assert.ok(recoverySeconds <= 45, `report ${recoverySeconds} s after the kill`);
  },
);

// Job schedulers on real Redis: config changes replace and remove schedules,
// concurrent replicas converge, and several workers post one digest per tick.
import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { XnodeError } from "../../src/errors.js";
import type { DigestConfig } from "../../src/digest/digest-payloads.js";
import { syncDigestSchedules } from "../../src/digest/sync-digest-schedules.js";
import { emulatorSlack, kubeClients, messageText, openDigestHarness, silentLogger, sleep, useDigestHarness, type DigestHarness } from "./digest-fixture.js";

const cron = (channel: string, pattern = "0 9 * * 1-5"): DigestConfig => ({ channel, cron: pattern, timezone: "Europe/Berlin", clusters: ["cluster-a"] });
const every = (channel: string, seconds: number): DigestConfig => ({ ...cron(channel), everySeconds: seconds });

describe("syncDigestSchedules", () => {
  let h: DigestHarness;
  beforeEach(async () => {
    h = await openDigestHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it("a changed cron replaces the digest's scheduler; the same config again changes nothing", async () => {
    await syncDigestSchedules(h.queue, [cron("C0OPS")], silentLogger);
    const changed = await syncDigestSchedules(h.queue, [cron("C0OPS", "30 7 * * *")], silentLogger);
    assert.deepEqual(changed, { upserted: ["digest-C0OPS-1"], unchanged: [], removed: [] });
    const schedulers = await h.queue.getJobSchedulers();
    assert.equal(schedulers.length, 1);
    assert.equal(schedulers[0]!.pattern, "30 7 * * *");
    assert.equal(schedulers[0]!.tz, "Europe/Berlin");
    assert.equal(await h.queue.getDelayedCount(), 1, "one pending tick, not one per version");
    const again = await syncDigestSchedules(h.queue, [cron("C0OPS", "30 7 * * *")], silentLogger);
    assert.deepEqual(again, { upserted: [], unchanged: ["digest-C0OPS-1"], removed: [] });
  });

  it("a changed interval or cluster list replaces too", async () => {
    await syncDigestSchedules(h.queue, [every("C0OPS", 2)], silentLogger);
    await syncDigestSchedules(h.queue, [{ ...every("C0OPS", 3), clusters: ["cluster-a", "cluster-b"] }], silentLogger);
    const schedulers = await h.queue.getJobSchedulers();
    assert.equal(schedulers.length, 1);
    assert.equal(schedulers[0]!.every, 3000);
    assert.deepEqual(schedulers[0]!.template?.data?.clusters, ["cluster-a", "cluster-b"]);
  });

  it("a digest removed from config loses its scheduler; schedulers xnode does not own are left alone", async () => {
    await h.queue.upsertJobScheduler("someone-else", { every: 60_000 });
    await syncDigestSchedules(h.queue, [cron("C0OPS"), cron("C0DEV")], silentLogger);
    const result = await syncDigestSchedules(h.queue, [cron("C0DEV")], silentLogger);
    assert.deepEqual(result.removed, ["digest-C0OPS-1"]);
    assert.deepEqual((await h.queue.getJobSchedulers()).map((s) => s.key).sort(), ["digest-C0DEV-1", "someone-else"]);
    const counts = await h.queue.getJobCounts("delayed", "wait");
    assert.equal(counts.delayed! + counts.wait!, 2, "the removed digest's pending tick went with it");
  });

  it("replicas syncing at once leave exactly one scheduler and one pending tick per digest", async () => {
    const digests = [cron("C0OPS"), cron("C0OPS", "0 17 * * 1-5"), every("C0DEV", 60)];
    const replicas = [h.queue, h.replicaQueue(), h.replicaQueue(), h.replicaQueue()];
    await Promise.all(replicas.map((q) => syncDigestSchedules(q, digests, silentLogger)));
    await Promise.all(replicas.map((q) => syncDigestSchedules(q, digests.slice(1), silentLogger)));
    const keys = (await h.queue.getJobSchedulers()).map((s) => s.key).sort();
    assert.deepEqual(keys, ["digest-C0DEV-1", "digest-C0OPS-1"], "the second C0OPS digest became the first");
    assert.equal(await h.queue.getDelayedCount(), 1, "the cron digest waits for its time");
    assert.ok((await h.queue.getWaitingCount()) <= 1, "the interval digest's first tick is due now, once");
  });

  it("a bad cron is rejected with the digest named, and the others are still scheduled", async () => {
    await assert.rejects(
      syncDigestSchedules(h.queue, [cron("C0BAD", "not a cron"), cron("C0OPS")], silentLogger),
      (err: unknown) => err instanceof XnodeError && err.code === "CONFIG_INVALID" && /digests\[0\] \(channel C0BAD, cron "not a cron"/.test(err.message),
    );
    assert.deepEqual(
      (await h.queue.getJobSchedulers()).map((s) => s.key),
      ["digest-C0OPS-1"],
    );
  });
});

describe("digest ticks with two workers", () => {
  const ctx = useDigestHarness();

  // Clusters here have no kubeconfig, so a digest is quick: the subject is scheduling.
  const startWorkers = () =>
    [1, 2].map(() =>
      ctx.h.startWorker({
        kubeFor: kubeClients({}),
        slack: emulatorSlack(ctx.emulator),
        scheduleExists: async (id) => !!(await ctx.h.queue.getJobScheduler(id)),
      }),
    );

  it("every 2 s for ~7 s: each tick posts exactly one digest, whichever worker takes it", async () => {
    await Promise.all([ctx.h.queue, ctx.h.replicaQueue()].map((q) => syncDigestSchedules(q, [every("C0TICK", 2)], silentLogger)));
    startWorkers();
    await sleep(7000);
    await syncDigestSchedules(ctx.h.queue, [], silentLogger);
    await ctx.h.stopWorkers();
    const posted = ctx.h.completions.filter((c) => (c.result as { posted?: string }).posted);
    const ids = posted.map((c) => c.jobId);
    assert.equal(new Set(ids).size, ids.length, `no tick posted twice: ${ids.join(", ")}`);
    for (const id of ids) assert.match(id, /^repeat:digest-C0TICK-1:\d+$/, "tick job ids are the scheduler id and the tick time");
    const messages = ctx.emulator.messages("C0TICK");
    assert.equal(messages.length, ids.length, "one message per tick");
    assert.ok(ids.length >= 2, `at least two ticks in 7 s, saw ${ids.length}`);
    for (const m of messages) assert.match(messageText(m), /1 not checked.*Scheduled digest/s);
    const ticks = ids.map((id) => Number(id.split(":")[2])).sort((a, b) => a - b);
    const postedAt = posted.map((c) => c.at);
    const gaps = (xs: number[]) => xs.slice(1).map((x, i) => Math.round(x - xs[i]!));
    console.log(
      `ticks: ${ticks.length} in ~7 s; tick spacing ${gaps(ticks).join(", ")} ms; completion spacing ${gaps(postedAt).join(", ")} ms; by worker ${posted.map((c) => c.worker).join(",")}`,
    );
  });

  it("after a digest is removed from config only the remaining one posts", async () => {
    await syncDigestSchedules(ctx.h.queue, [every("C0KEEP", 2), every("C0DROP", 2)], silentLogger);
    startWorkers();
    await ctx.emulator.waitFor(() => ctx.emulator.messages("C0KEEP").length >= 1 && ctx.emulator.messages("C0DROP").length >= 1, 10_000);
    await syncDigestSchedules(ctx.h.queue, [every("C0KEEP", 2)], silentLogger);
    assert.deepEqual(
      (await ctx.h.queue.getJobSchedulers()).map((s) => s.key),
      ["digest-C0KEEP-1"],
    );
    // A tick picked up just before the removal may still finish; count from when none is running.
    while ((await ctx.h.queue.getActiveCount()) > 0) await sleep(50);
    const dropped = ctx.emulator.messages("C0DROP").length;
    const kept = ctx.emulator.messages("C0KEEP").length;
    await sleep(4500);
    assert.equal(ctx.emulator.messages("C0DROP").length, dropped, "the removed digest stopped");
    assert.ok(ctx.emulator.messages("C0KEEP").length > kept, "the remaining digest kept going");
    console.log(`after removal, over 4.5 s: ${ctx.emulator.messages("C0KEEP").length - kept} digest(s) kept, 0 removed`);
  });
});

// The digest processor's guarantees, on real Redis and the Slack emulator:
// one post per job id (retries, duplicates, Slack refusals), dropped ticks of
// removed digests, hung clusters, and `/xnode digest now` through a Worker.
import assert from "node:assert/strict";
import { beforeEach, describe, it } from "node:test";
import { createDigestProcessor, type DigestWorkerDeps } from "../../src/digest/digest-processor.js";
import type { DigestPayload } from "../../src/digest/digest-payloads.js";
import { requestDigestNow } from "../../src/digest/request-digest.js";
import type { KubeClient } from "../../src/kube/kube-client.js";
import { emulatorSlack, fakeJob, kubeClients, messageText, silentLogger, useDigestHarness } from "./digest-fixture.js";

const payload = (channel: string, clusters = ["cluster-a"]): DigestPayload => ({ digestId: `digest-${channel}-1`, channel, clusters, trigger: "schedule" });

/** A cluster whose API accepts connections and never answers. */
const hungCluster = (cluster: string): KubeClient =>
  new Proxy({}, { get: (_, prop) => (prop === "cluster" ? cluster : () => new Promise(() => {})) }) as KubeClient;

describe("digest processor", () => {
  const ctx = useDigestHarness();
  let deps: DigestWorkerDeps;
  beforeEach(() => {
    deps = {
      kubeFor: kubeClients({}),
      store: ctx.h.store,
      slack: emulatorSlack(ctx.emulator),
      state: ctx.h.state,
      execTimeoutMs: 5000,
      pingTimeoutSeconds: 1,
      logger: silentLogger,
    };
  });

  it("a job retried after it posted does not post again, nor does a duplicate running at the same time", async () => {
    const process = createDigestProcessor(deps);
    const [a, b] = await Promise.all([
      process(fakeJob("repeat:digest-C0DUP-1:1000", payload("C0DUP"))),
      process(fakeJob("repeat:digest-C0DUP-1:1000", payload("C0DUP"))),
    ]);
    const retry = await process(fakeJob("repeat:digest-C0DUP-1:1000", payload("C0DUP")));
    assert.deepEqual([a, b, retry].filter((r) => "skipped" in r).length, 2, JSON.stringify([a, b, retry]));
    assert.deepEqual(retry, { skipped: "already-posted" });
    assert.equal(ctx.emulator.messages("C0DUP").length, 1);
    await process(fakeJob("repeat:digest-C0DUP-1:3000", payload("C0DUP")));
    assert.equal(ctx.emulator.messages("C0DUP").length, 2, "the next tick posts");
  });

  it("when Slack refuses the post the job fails and its retry posts once", async () => {
    const process = createDigestProcessor(deps);
    ctx.emulator.failNext("chat.postMessage", { error: "not_in_channel" });
    await assert.rejects(process(fakeJob("manual-x-1", payload("C0REFUSE"))), /not_in_channel/);
    assert.equal(ctx.emulator.messages("C0REFUSE").length, 0);
    assert.ok("posted" in (await process(fakeJob("manual-x-1", payload("C0REFUSE")))));
    assert.equal(ctx.emulator.messages("C0REFUSE").length, 1);
  });

  it("a tick queued before its digest left the config is dropped", async () => {
    const process = createDigestProcessor({ ...deps, scheduleExists: async () => false });
    assert.deepEqual(await process(fakeJob("repeat:digest-C0GONE-1:1000", payload("C0GONE"), "digest-C0GONE-1")), { skipped: "schedule-removed" });
    assert.equal(ctx.emulator.messages("C0GONE").length, 0);
  });

  it("a cluster that never answers is reported as not checked once the cluster timeout passes", async () => {
    const process = createDigestProcessor({ ...deps, kubeFor: hungCluster, clusterTimeoutMs: 300 });
    await process(fakeJob("manual-hung-1", payload("C0HUNG", ["hung-a", "hung-b"])));
    const text = messageText(ctx.emulator.messages("C0HUNG")[0]!);
    assert.match(text, /\*hung-a\* · could not be checked: the check did not finish within 300 ms/);
    assert.match(text, /What to try: Run \/xnode check hung-b for the details/);
  });

  it("/xnode digest now: the channel's digests run through a Worker, once per request; elsewhere all clusters", async () => {
    ctx.h.startWorker({ kubeFor: kubeClients({}), slack: emulatorSlack(ctx.emulator) });
    const config = { digests: [{ channel: "C0HERE", cron: "0 9 * * *", timezone: "UTC", clusters: ["cluster-a"] }], clusters: ["cluster-a", "cluster-b"] };
    const req = { channel: "C0HERE", user: "U0ALICE01", requestId: "r1" };
    assert.deepEqual(await requestDigestNow(ctx.h.queue, config, req), { digestIds: ["digest-C0HERE-1"] });
    await requestDigestNow(ctx.h.queue, config, req); // the same request enqueued twice
    assert.deepEqual(await requestDigestNow(ctx.h.queue, config, { ...req, channel: "C0ELSE" }), { digestIds: ["adhoc-C0ELSE"] });
    const here = await ctx.emulator.waitFor(() => ctx.emulator.messages("C0HERE")[0], 10_000);
    const elsewhere = await ctx.emulator.waitFor(() => ctx.emulator.messages("C0ELSE")[0], 10_000);
    assert.match(messageText(here), /On demand by <@U0ALICE01>/);
    assert.match(messageText(here), /cluster-a/);
    assert.doesNotMatch(messageText(here), /cluster-b/);
    assert.match(messageText(elsewhere), /2 not checked/);
    await ctx.h.stopWorkers();
    assert.equal(ctx.emulator.messages("C0HERE").length, 1, "one digest per request");
  });
});

// Each seam that counts, driven through the real parts it wraps: Slack's
// refusals and 429s through the WebClient on the emulator, approval outcomes
// through decideApproval on Redis, execs through client-node into a lab
// agent, and a check that fails through the whole bot → worker path.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import pino from "pino";
import { envSchema, parseFileConfig } from "../../src/config.js";
import { policyFromConfig } from "../../src/approvals/approval-policy.js";
import { decideApproval } from "../../src/approvals/decide-approval.js";
import { createKubeClient } from "../../src/kube/kube-client.js";
import { countingKube } from "../../src/ops/instrument.js";
import { XnodeMetrics } from "../../src/ops/metrics.js";
import { openSharedServices, type SharedServices } from "../../src/processes/shared-services.js";
import { ApprovalStore } from "../../src/store/approval-store.js";
import { createRedis } from "../../src/store/redis-connection.js";
import { podOn, startLab, type StartedLab } from "../helpers/lab-fixture.js";
import { getOps, sample } from "../helpers/ops-endpoints.js";
import { deleteKeys, REDIS_URL, SIGNING_SECRET, startXnode } from "../helpers/xnode-fixture.js";
import { startSlackEmulator, type SlackEmulator } from "../slack/emulator.js";
import { postBlockAction, postSlashCommand } from "../slack/signed-request.js";

const CHANNEL = "C0METRIC1";
const silent = pino({ level: "silent" });
const valueOf = async (metrics: XnodeMetrics, name: string, labels: Record<string, string>) => sample(await metrics.registry.metrics(), name, labels);

describe("Slack API errors and approvals, counted where they pass", () => {
  let emulator: SlackEmulator;
  let services: SharedServices;
  let metrics: XnodeMetrics;

  before(async () => {
    emulator = await startSlackEmulator({ channels: { [CHANNEL]: {} }, usergroups: { S0GROUP01: ["U0INGRP01"] } });
    metrics = new XnodeMetrics("bot");
    const env = envSchema.parse({ SLACK_BOT_TOKEN: "xoxb-metrics", SLACK_API_URL: emulator.url, REDIS_URL, XNODE_REDIS_PREFIX: `xm${Date.now()}` });
    services = await openSharedServices({ env, file: parseFileConfig({}).config! }, silent, { metrics });
  });
  after(async () => {
    await deleteKeys(services.redis, services.prefix);
    await services.close();
    await emulator.close();
  });

  test("a refusal by its code (also under xnode's own error), every 429 even when the retry succeeds", async () => {
    emulator.failNext("chat.postMessage", { error: "not_in_channel" });
    await assert.rejects(services.slack.post("C0NOTIN01", { text: "x" }), /not a member of this channel/);
    assert.equal(await valueOf(metrics, "xnode_slack_api_errors_total", { code: "not_in_channel", process: "bot" }), 1);
    emulator.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    await services.slack.post(CHANNEL, { text: "after a 429" });
    assert.equal(await valueOf(metrics, "xnode_slack_api_errors_total", { code: "ratelimited" }), 1);
    emulator.failNext("usergroups.users.list", { error: "missing_scope" });
    await assert.rejects(services.slack.usergroupMembers("S0GROUP01"));
    assert.equal(await valueOf(metrics, "xnode_slack_api_errors_total", { code: "missing_scope" }), 1);
    assert.deepEqual(await services.slack.usergroupMembers("S0GROUP01"), ["U0INGRP01"], "an answered call counts nothing");
    assert.equal(await valueOf(metrics, "xnode_slack_api_errors_total", { code: "missing_scope" }), 1);
  });

  test("approval outcomes: approved once, then refused by why", async () => {
    const file = parseFileConfig({ clusters: [{ name: "a", kubeconfig: "/k" }], approvals: { approvers: { users: ["U0APPROV1"] } } }).config!;
    const id = ApprovalStore.newId();
    const now = new Date();
    await services.approvals.save({
      id,
      purpose: "fix",
      cluster: "a",
      findingId: "route-missing",
      plan: { kind: "add-routes", summary: "s", commands: [], diff: [], persistent: false, risks: [] },
      planHash: "h",
      fingerprint: { routes: {} },
      requestedBy: "U0ASKER01",
      channel: CHANNEL,
      threadTs: "1700000000.000100",
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 60_000).toISOString(),
    });
    const deps = {
      approvals: services.approvals,
      audit: services.audit,
      policy: policyFromConfig(file),
      fixLockSeconds: 60,
      now: () => new Date(),
      countOutcome: (o: string) => metrics.approvalDecided(o),
    };
    const place = { channel: CHANNEL, threadTs: "1700000000.000100" };
    assert.equal((await decideApproval(deps, id, { user: "U0OTHER01", isApprover: false, place })).ok, false);
    assert.equal((await decideApproval(deps, id, { user: "U0APPROV1", isApprover: true, place })).ok, true);
    assert.equal((await decideApproval(deps, id, { user: "U0APPROV1", isApprover: true, place })).ok, false);
    assert.equal((await decideApproval(deps, "no-such-approval", { user: "U0APPROV1", isApprover: true, place })).ok, false);
    for (const [outcome, n] of [
      ["approved", 1],
      ["not-approver", 1],
      ["decided", 1],
      ["unknown", 1],
    ] as const)
      assert.equal(await valueOf(metrics, "xnode_approvals_total", { outcome }), n, outcome);
    await services.approvals.unlockCluster("a", id);
  });
});

describe("execs into a lab agent", () => {
  let lab: StartedLab;
  before(async () => {
    lab = await startLab("healthy-three-nodes");
  });
  after(async () => lab?.stop());

  test("an exec that ran counts ok, whatever its exit code; one that could not run counts error; each with its duration", async () => {
    const metrics = new XnodeMetrics("worker");
    const kube = countingKube(createKubeClient({ cluster: "lab", kubeconfig: lab.kubeconfigPath }), metrics);
    const pod = await podOn(lab.kubeconfigPath, "xnode-system", "app.kubernetes.io/name=xnode-host-agent", "worker-0");
    const target = { namespace: "xnode-system", pod, label: "host agent on worker-0" };
    assert.equal((await kube.exec(target, ["true"], 10_000)).exitCode, 0);
    assert.notEqual((await kube.exec(target, ["false"], 10_000)).exitCode, 0);
    await assert.rejects(kube.exec({ ...target, pod: "no-such-pod" }, ["true"], 10_000));
    assert.equal(await valueOf(metrics, "xnode_execs_total", { outcome: "ok" }), 2);
    assert.equal(await valueOf(metrics, "xnode_execs_total", { outcome: "error" }), 1);
    assert.equal(await valueOf(metrics, "xnode_exec_duration_seconds_count", {}), 3);
  });
});

test("a check that cannot run is counted as failed by the worker that tried it", async () => {
  const emulator = await startSlackEmulator({ channels: { [CHANNEL]: {} } });
  const xnode = await startXnode({ emulator, clusters: [{ name: "broken", kubeconfig: "/nonexistent/broken.kubeconfig" }] });
  try {
    await postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "check broken", user_id: "U0METRIC1", channel_id: CHANNEL });
    await emulator.waitFor(() => emulator.messages(CHANNEL).find((m) => /failed/.test(m.text)), 20_000);
    const text = (await getOps(xnode.workers[0]!.opsPort!, "/metrics")).text;
    assert.equal(sample(text, "xnode_checks_total", { verdict: "failed" }), 1, text);
    assert.equal(sample(text, "xnode_checks_total", { verdict: "healthy" }), undefined);
  } finally {
    await xnode.stop();
    await emulator.close();
  }
});

test("a [Reject] click through the real bot is counted as a rejected approval", async () => {
  const emulator = await startSlackEmulator({ channels: { [CHANNEL]: {} } });
  const xnode = await startXnode({
    emulator,
    clusters: [{ name: "a", kubeconfig: "/nonexistent/a.kubeconfig" }],
    file: { approvals: { approvers: { users: ["U0APPROV1"] } } },
  });
  const redis = createRedis(REDIS_URL);
  try {
    const approvals = new ApprovalStore(redis, `${xnode.prefix}:`);
    const id = ApprovalStore.newId();
    const now = new Date();
    const threadTs = "1700000000.000200";
    await approvals.save({
      id,
      purpose: "fix",
      cluster: "a",
      findingId: "route-missing",
      plan: { kind: "add-routes", summary: "s", commands: [], diff: [], persistent: false, risks: [] },
      planHash: "h",
      fingerprint: { routes: {} },
      requestedBy: "U0ASKER01",
      channel: CHANNEL,
      threadTs,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + 60_000).toISOString(),
    });
    const res = await postBlockAction(xnode.botUrl, SIGNING_SECRET, {
      user_id: "U0APPROV1",
      channel_id: CHANNEL,
      message_ts: "1700000000.000300",
      thread_ts: threadTs,
      actions: [{ action_id: "xnode_reject", block_id: "b1", value: id }],
    });
    assert.equal(res.status, 200);
    // The listener acks first and decides after: wait for the decision, then read the count.
    for (let i = 0; i < 50 && (await approvals.get(id))?.status !== "rejected"; i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal((await approvals.get(id))?.status, "rejected");
    const text = (await getOps(xnode.bot.opsPort!, "/metrics")).text;
    assert.equal(sample(text, "xnode_approvals_total", { outcome: "rejected", process: "bot" }), 1, text);
  } finally {
    redis.disconnect();
    await xnode.stop();
    await emulator.close();
  }
});

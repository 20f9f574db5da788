// [Approve] when something under it fails, through the real Bolt app, Redis
// and the Slack emulator: a fix that cannot be queued leaves no half-commit
// (the approval is pending again, the cluster unlocked, the clicker told), and
// a user group lookup that fails is said as what it is, not as "not an approver".
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";
import bolt from "@slack/bolt";
import { LogLevel, WebClient } from "@slack/web-api";
import { Queue } from "bullmq";
import pino from "pino";
import { policyFromConfig } from "../../src/approvals/approval-policy.js";
import { approveActionListener, rejectActionListener, type DecisionDeps } from "../../src/handlers/decision-actions.js";
import { FIX_QUEUE } from "../../src/jobs/fix-payloads.js";
import { webApiSlack } from "../../src/slack/slack-port.js";
import { ApprovalStore } from "../../src/store/approval-store.js";
import { AuditLog } from "../../src/store/audit-log.js";
import { createRedis } from "../../src/store/redis-connection.js";
import { RedisProcess, freePort } from "../faults/private-redis.js";
import { REDIS_URL, deleteKeys } from "../helpers/xnode-fixture.js";
import { MANIFEST_SCOPES, startSlackEmulator, type SlackEmulator, type SlackEmulatorOptions } from "../slack/emulator.js";
import { startResponseUrlSink, type ResponseUrlSink } from "../slack/response-url-sink.js";
import { postBlockAction } from "../slack/signed-request.js";

const SECRET = "approval-failures-secret";
const CHANNEL = "C0FIXES01";
const LISTED = "U0LISTED1";
const MEMBER = "U0MEMBER1";
const GROUP = "S0NETOPS1";
const silent = pino({ level: "silent" });

interface Rig {
  emulator: SlackEmulator;
  botUrl: string;
  deps: DecisionDeps;
  approvals: ApprovalStore;
  audit: AuditLog;
  close(): Promise<void>;
}

const redis = createRedis(REDIS_URL);
let sink: ResponseUrlSink;
let clicks = 0;

/** The approve and reject listeners in a real Bolt app, their Slack on an emulator with `opts`, their state in real Redis. */
async function startRig(opts: SlackEmulatorOptions, fixQueue: Queue): Promise<Rig> {
  const prefix = `xr${randomBytes(4).toString("hex")}`;
  const emulator = await startSlackEmulator({ channels: { [CHANNEL]: {} }, usergroups: { [GROUP]: [MEMBER] }, ...opts });
  const client = (reject: boolean) =>
    new WebClient("xoxb-approvals", {
      slackApiUrl: emulator.url,
      rejectRateLimitedCalls: reject,
      retryConfig: { retries: 1, minTimeout: 10 },
      logLevel: LogLevel.ERROR,
    });
  const approvals = new ApprovalStore(redis, `${prefix}:`);
  const audit = new AuditLog(redis, `${prefix}:`);
  const deps: DecisionDeps = {
    approvals,
    audit,
    policy: policyFromConfig({
      approvals: { approvers: { users: [LISTED], usergroups: [GROUP] }, twoPersonRule: false, expiryMinutes: 15 },
      clusters: [{ name: "lab" }],
    }),
    slack: webApiSlack(client(false), client(true)),
    fixQueue,
    logger: silent,
    fixLockSeconds: 600,
  };
  const app = new bolt.App({ token: "xoxb-approvals", signingSecret: SECRET, clientOptions: { slackApiUrl: emulator.url }, logLevel: LogLevel.ERROR });
  app.action(/^xnode_approve_\d+$/, approveActionListener(deps));
  app.action("xnode_reject", rejectActionListener(deps));
  const server = await app.start({ port: 0, host: "127.0.0.1" });
  return {
    emulator,
    botUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`,
    deps,
    approvals,
    audit,
    async close() {
      await app.stop();
      await emulator.close();
      await deleteKeys(redis, prefix);
    },
  };
}

/** An issued approval under a report thread in the emulator, as the worker leaves it. */
async function issue(rig: Rig): Promise<{ id: string; rootTs: string; replyTs: string }> {
  const web = new WebClient("xoxb-worker", { slackApiUrl: rig.emulator.url, logLevel: LogLevel.ERROR });
  const root = await web.chat.postMessage({ channel: CHANNEL, text: "xnode check lab: 1 problem" });
  const reply = await web.chat.postMessage({ channel: CHANNEL, thread_ts: root.ts!, text: "xnode: ip-forward-disabled" });
  const id = ApprovalStore.newId();
  const now = Date.now();
  await rig.approvals.save({
    id,
    purpose: "fix",
    cluster: "lab",
    findingId: "ip-forward-disabled",
    plan: {
      kind: "enable-ip-forward",
      summary: "Set net.ipv4.ip_forward=1 on node-12",
      commands: [{ node: "node-12", argv: ["sysctl", "-w", "net.ipv4.ip_forward=1"] }],
      diff: ["node-12: net.ipv4.ip_forward 0 → 1"],
      persistent: false,
      risks: [],
    },
    planHash: "h".repeat(64),
    fingerprint: {},
    requestedBy: "U0ASKER01",
    channel: CHANNEL,
    threadTs: root.ts!,
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + 15 * 60_000).toISOString(),
  });
  return { id, rootTs: root.ts!, replyTs: reply.ts! };
}

/** Clicks a button like Slack and resolves with what the clicker is told (the response URL post). */
async function press(rig: Rig, at: { rootTs: string; replyTs: string }, user: string, actionId: string, value: string): Promise<string> {
  const path = `/response-url?click=${++clicks}`;
  const res = await postBlockAction(rig.botUrl, SECRET, {
    user_id: user,
    channel_id: CHANNEL,
    message_ts: at.replyTs,
    thread_ts: at.rootTs,
    message: { text: "xnode: ip-forward-disabled", blocks: [] },
    actions: [{ action_id: actionId, block_id: "xnode_finding_actions", value }],
    response_url: `${new URL(sink.url).origin}${path}`,
  });
  assert.equal(res.status, 200);
  const post = await rig.emulator.waitFor(() => sink.posts.find((p) => p.path === path), 10_000);
  return JSON.stringify(post.body);
}

before(async () => {
  sink = await startResponseUrlSink();
});
after(async () => {
  await sink.close();
  redis.disconnect();
});

describe("approve when the fix cannot be queued", () => {
  let rig: Rig;
  let queueRedis: RedisProcess;
  let deadQueue: Queue;
  let deadConnection: ReturnType<typeof createRedis>;
  let liveQueue: Queue;

  before(async () => {
    // The fix queue on a Redis of its own, connected the way the bot's is, then killed.
    queueRedis = new RedisProcess(await freePort());
    await queueRedis.start();
    deadConnection = createRedis(queueRedis.url, { failFast: true });
    deadConnection.on("error", () => undefined);
    deadQueue = new Queue(FIX_QUEUE, { connection: deadConnection, prefix: "xdead" });
    deadQueue.on("error", () => undefined);
    await deadQueue.waitUntilReady();
    await queueRedis.kill();
    rig = await startRig({}, deadQueue);
    liveQueue = new Queue(FIX_QUEUE, { connection: redis, prefix: `xr${randomBytes(4).toString("hex")}` });
  });
  after(async () => {
    await rig?.close();
    await liveQueue?.obliterate({ force: true }).catch(() => undefined);
    await liveQueue?.close();
    await queueRedis?.stop();
    // Queue.close() would wait for a Redis that is gone; dropping the connection is all there is to close
    deadConnection?.disconnect();
  });

  test("undoes the approval, releases the fix lock, audits it and tells the clicker what to try; pressing again then works", async () => {
    const at = await issue(rig);
    const started = Date.now();
    const told = await press(rig, at, LISTED, "xnode_approve_0", at.id);
    assert.ok(Date.now() - started < 6000, `told after ${Date.now() - started} ms`);
    assert.match(told, /"response_type":"ephemeral"/);
    assert.match(told, /The fix was approved but could not be queued/);
    assert.match(told, /your approval was undone and lab is unlocked, so press the button again in a minute/);
    const rec = await rig.approvals.get(at.id);
    assert.equal(rec?.status, "pending", "the approval can be used again");
    assert.equal(await rig.approvals.lockHolder("lab"), undefined, "no fix lock left behind");
    const [latest, before] = await rig.audit.latest("lab", 2);
    assert.equal(latest?.event, "aborted");
    assert.match(latest!.result, /approval undone: the fix could not be queued/);
    assert.equal(before?.event, "approved");
    assert.equal(rig.emulator.callsOf("chat.update").length, 0, "the buttons stay: nothing was decided");

    // Redis for the queue is back: the same button now approves and queues the fix.
    rig.deps.fixQueue = liveQueue;
    await postBlockAction(rig.botUrl, SECRET, {
      user_id: LISTED,
      channel_id: CHANNEL,
      message_ts: at.replyTs,
      thread_ts: at.rootTs,
      message: { text: "xnode: ip-forward-disabled", blocks: [] },
      actions: [{ action_id: "xnode_approve_0", block_id: "xnode_finding_actions", value: at.id }],
    });
    await rig.emulator.waitFor((e) => e.callsOf("chat.update").length > 0, 10_000);
    assert.ok(await liveQueue.getJob(`fix-${at.id}`), "the fix job is queued");
    assert.equal((await rig.approvals.get(at.id))?.status, "approved");
    assert.equal(await rig.approvals.lockHolder("lab"), at.id);
  });
});

describe("user group lookups that fail are said as what they are", () => {
  // never used: these clicks are refused before anything is queued
  const unusedQueue = () => new Queue(FIX_QUEUE, { connection: redis, prefix: `xr${randomBytes(4).toString("hex")}` });

  for (const [name, opts, said] of [
    [
      "missing_scope",
      { scopes: MANIFEST_SCOPES.filter((s) => s !== "usergroups:read") },
      /Could not tell whether you are an approver for lab: xnode lacks the usergroups:read scope: add it to the app's bot token scopes \(OAuth & Permissions\) and reinstall the app/,
    ],
    [
      "plan_upgrade_required",
      { plan: "free" as const },
      /this Slack workspace's plan has no user groups: list approvers by user id under approvals\.approvers\.users/,
    ],
  ] as const) {
    test(`${name}: Approve and Reject both say it, never "You are not an approver"`, async () => {
      const queue = unusedQueue();
      const rig = await startRig(opts, queue);
      try {
        const at = await issue(rig);
        for (const [actionId, value] of [
          ["xnode_approve_0", at.id],
          ["xnode_reject", at.id],
        ] as const) {
          const told = await press(rig, at, MEMBER, actionId, value);
          assert.match(told, said, actionId);
          assert.doesNotMatch(told, /You are not an approver/);
        }
        assert.equal((await rig.approvals.get(at.id))?.status, "pending");
        assert.equal((await rig.audit.latest("lab", 1))[0]?.result.includes("Could not tell whether you are an approver"), true, "the refusal is audited");
      } finally {
        await rig.close();
        await queue.close();
      }
    });
  }

  test("ratelimited: told at once to try again in a minute, not kept waiting", async () => {
    const queue = unusedQueue();
    const rig = await startRig({ rateLimits: { perMinute: { 2: 1 } } }, queue);
    try {
      const at = await issue(rig);
      assert.match(await press(rig, at, "U0STRANGER", "xnode_reject", at.id), /You are not an approver/, "the first lookup answers: not a member");
      const started = Date.now();
      const told = await press(rig, at, MEMBER, "xnode_approve_0", at.id);
      assert.ok(Date.now() - started < 3000, `told after ${Date.now() - started} ms`);
      assert.match(told, /Could not tell whether you are an approver for lab: Slack rate-limited the user group lookup: try again in (59|60) s/);
      assert.equal(rig.emulator.callsOf("usergroups.users.list").at(-1)?.status, 429);
    } finally {
      await rig.close();
      await queue.close();
    }
  });
});

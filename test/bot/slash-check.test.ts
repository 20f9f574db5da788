// `/xnode check` end to end: a signed slash command into the real Bolt app,
// BullMQ on real Redis, the worker probing a lab cluster through client-node,
// and the answer in the Slack emulator's channel and thread.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Queue } from "bullmq";
import type { CheckReport } from "../../src/model/index.js";
import { runCli } from "../../src/cli.js";
import { createRedis } from "../../src/store/redis-connection.js";
import { commandAnswer } from "../helpers/slack-flow.js";
import { SIGNING_SECRET, startXnode, startXnodeOnLab, type XnodeOnLab, type XnodeUnderTest } from "../helpers/xnode-fixture.js";
import { startSlackEmulator, type EmulatedMessage, type SlackEmulator } from "../slack/emulator.js";
import { startResponseUrlSink } from "../slack/response-url-sink.js";
import { postSlashCommand } from "../slack/signed-request.js";

const CHANNEL = "C0NETOPS1";

function textOf(m: EmulatedMessage): string {
  return `${m.text}\n${JSON.stringify(m.blocks ?? [])}`;
}

function actionIds(m: EmulatedMessage): string[] {
  return ((m.blocks ?? []) as { type: string; elements?: { action_id?: string }[] }[])
    .filter((b) => b.type === "actions")
    .flatMap((b) => (b.elements ?? []).map((e) => e.action_id ?? ""));
}

/** The report is complete when the summary, the matrix and one message per root cause are in the thread. */
async function waitForReport(emulator: SlackEmulator, channel: string, rootTs: string, causes: number): Promise<EmulatedMessage[]> {
  return emulator.waitFor(() => {
    const replies = emulator.thread(channel, rootTs).filter((m) => m.ts !== rootTs);
    return replies.length >= 2 + causes ? replies : undefined;
  }, 60_000);
}

describe("/xnode check on the seed lab", () => {
  let env: XnodeOnLab;
  let emulator: SlackEmulator;
  let xnode: XnodeUnderTest;

  before(async () => {
    env = await startXnodeOnLab("seed-virtualbox-nat", {
      emulator: { channels: { [CHANNEL]: {} } },
      file: { approvals: { approvers: { users: ["U0APPROVE1"] } } },
    });
    ({ emulator, xnode } = env);
  });
  after(async () => env?.stop());

  test("root message, then a thread with the seed's findings, evidence and an Approve button", async () => {
    const res = await postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "check lab", user_id: "U0ALICE01", channel_id: CHANNEL });
    assert.equal(res.status, 200);
    const root = await emulator.waitFor(() => emulator.messages(CHANNEL).find((m) => /Checking/.test(textOf(m)) || /lab/.test(m.text)), 10_000);
    assert.match(textOf(root), /U0ALICE01/);
    const replies = await waitForReport(emulator, CHANNEL, root.ts, 1);
    const all = replies.map(textOf).join("\n");
    assert.match(all, /vtep-duplicate-public-ip/);
    assert.match(all, /10\.0\.2\.15/);
    assert.match(all, /enp0s3/);
    const wrong = replies.find((m) => /vtep-wrong-interface/.test(m.text))!;
    assert.ok(
      actionIds(wrong).some((id) => id.startsWith("xnode_approve")),
      `Approve button on the fixable finding: ${actionIds(wrong).join(", ")}`,
    );
    const finalRoot = await emulator.waitFor(() => emulator.messages(CHANNEL).find((m) => m.ts === root.ts && /problem/.test(textOf(m))), 10_000);
    assert.match(textOf(finalRoot), /3 problems/);
    // The stored report is readable by the id the root message shows.
    const id = /report `([0-9a-f-]{36})`/.exec(textOf(finalRoot))?.[1];
    assert.ok(id, "the root message names the report id");
    const out: string[] = [];
    const io = {
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => out.push(t),
      env: { REDIS_URL: xnode.config.env.REDIS_URL, XNODE_REDIS_PREFIX: xnode.prefix },
    };
    assert.equal(await runCli(["report", id, "--json"], io), 0, out.join(""));
    const stored = JSON.parse(out.join("")) as CheckReport;
    assert.deepEqual(stored.findings.map((f) => f.id).sort(), ["nodeport-unreachable", "vtep-duplicate-public-ip", "vtep-wrong-interface"]);
    // one cause: the wrong interface explains the duplicate VTEP and the NodePort, and is posted once with them
    const explainedBy = Object.fromEntries(stored.findings.map((f) => [f.id, f.explainedBy ?? []]));
    assert.deepEqual(explainedBy, {
      "vtep-wrong-interface": [],
      "vtep-duplicate-public-ip": ["vtep-wrong-interface"],
      "nodeport-unreachable": ["vtep-wrong-interface"],
    });
    const threadText = (await emulator.waitFor(() => emulator.thread(CHANNEL, root.ts), 1_000)).map(textOf);
    assert.equal(threadText.filter((t) => /\*Path k8s-master1 → k8s-node1\*|\*Path k8s-node1 → k8s-master1\*/.test(t)).length, 1, "the path trace once");
    assert.equal(threadText.filter((t) => /This also explains 2 findings/.test(t)).length, 1);
    assert.equal(await runCli(["report", "no-such-id"], { ...io, stdout: () => undefined, stderr: () => undefined }), 2);
  });
});

describe("/xnode check on a healthy lab, concurrency and bad input", () => {
  let env: XnodeOnLab;
  let emulator: SlackEmulator;
  let xnode: XnodeUnderTest;

  before(async () => {
    env = await startXnodeOnLab("healthy-three-nodes", {
      // Slack's one message a second per channel, without even the short burst: every test here runs rate limited.
      emulator: { channels: { [CHANNEL]: {}, C0OTHER01: {}, C0DIGEST1: {}, C0NOTIN01: { member: false } }, rateLimits: { postBurst: 1 } },
    });
    ({ emulator, xnode } = env);
  });
  after(async () => env?.stop());

  test("healthy: a thread that says all pairs reachable, with no buttons; complete and in order though every reply was rate limited", async () => {
    await postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "check lab", user_id: "U0BOB0001", channel_id: CHANNEL });
    const root = await emulator.waitFor(() => emulator.messages(CHANNEL).find((m) => /U0BOB0001/.test(textOf(m))), 10_000);
    const replies = await waitForReport(emulator, CHANNEL, root.ts, 1);
    const all = replies.map(textOf).join("\n");
    assert.match(all, /reachable/i);
    assert.deepEqual(replies.flatMap(actionIds), [], "no buttons on a healthy report");
    await new Promise((r) => setTimeout(r, 1500)); // anything late (a duplicate) would land now
    const texts = emulator
      .thread(CHANNEL, root.ts)
      .slice(1)
      .map((m) => m.text);
    assert.equal(texts.length, 3, `exactly the summary, the matrix and the finding: ${texts.join(" | ")}`);
    assert.deepEqual(texts.slice(0, 2), ["xnode check lab: healthy", "xnode check lab: connectivity"], "in posting order");
    assert.match(texts[2]!, /^xnode: cluster-healthy/);
    const limited = emulator.callsOf("chat.postMessage").filter((c) => c.status === 429 && c.args.thread_ts === root.ts);
    assert.ok(limited.length >= 1, "the workspace rate-limited replies in this thread");
  });

  test("/xnode trace: an ephemeral ack at once, then every capture point in the channel; a bad node name is refused", async () => {
    emulator.reset();
    const res = await postSlashCommand(xnode.botUrl, SIGNING_SECRET, {
      command: "/xnode",
      text: "trace lab cp-0 worker-1",
      user_id: "U0HEIDI01",
      channel_id: CHANNEL,
    });
    assert.equal(res.status, 200);
    assert.match(JSON.stringify(res.body), /Tracing cp-0 → worker-1 on lab/);
    const answer = await emulator.waitFor(() => emulator.messages(CHANNEL).find((m) => /xnode trace lab: cp-0 → worker-1/.test(m.text)), 30_000);
    const text = textOf(answer);
    assert.match(answer.text, /delivered/);
    assert.match(text, /Every capture point saw the probe/);
    for (const point of ["cp-0/cni0", "cp-0/flannel.1", "cp-0/eth0", "worker-1/eth0", "worker-1/flannel.1", "worker-1/cni0"])
      assert.match(text, new RegExp(`✅ \\*${point.replace(".", "\\.")}\\*`), point);
    assert.match(text, /<@U0HEIDI01>/);
    const unknown = await postSlashCommand(xnode.botUrl, SIGNING_SECRET, {
      command: "/xnode",
      text: "trace lab cp-0 no-such-node",
      user_id: "U0HEIDI01",
      channel_id: CHANNEL,
    });
    assert.equal(unknown.status, 200);
    const failed = await emulator.waitFor(() => emulator.messages(CHANNEL).find((m) => /no-such-node failed/.test(m.text)), 30_000);
    assert.match(textOf(failed), /no node named no-such-node.*cp-0, worker-0, worker-1/);
  });

  test("/xnode check in a channel the bot is not in: told to /invite it, and the cluster is free for the next request at once", async () => {
    emulator.reset();
    const sink = await startResponseUrlSink();
    try {
      const res = await postSlashCommand(xnode.botUrl, SIGNING_SECRET, {
        command: "/xnode",
        text: "check lab",
        user_id: "U0IVAN001",
        channel_id: "C0NOTIN01",
        response_url: sink.url,
      });
      assert.equal(res.status, 200);
      const [answer] = await sink.waitForPosts(1, 10_000);
      const text = JSON.stringify(answer!.body);
      assert.match(text, /"response_type":"ephemeral"/);
      assert.match(text, /not a member of this channel/);
      assert.match(text, /\/invite @xnode/);
      assert.equal(emulator.callsOf("chat.postMessage")[0]?.error, "not_in_channel", "the workspace itself refused: the bot is not a member");
      // the claim was released: a check from a channel the bot is in runs (it does not "join" a check that never runs)
      const startsBefore = await countStartJobs(xnode);
      await postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "check lab", user_id: "U0IVAN001", channel_id: CHANNEL });
      const root = await emulator.waitFor(
        () => emulator.messages(CHANNEL).find((m) => /U0IVAN001/.test(textOf(m)) && !/report thread/.test(textOf(m))),
        10_000,
      );
      await waitForReport(emulator, CHANNEL, root.ts, 1);
      assert.equal((await countStartJobs(xnode)) - startsBefore, 1, "a check of its own ran");
    } finally {
      await sink.close();
    }
  });

  test("two checks of one cluster at once: one run, two answers", async () => {
    emulator.reset();
    const startsBefore = await countStartJobs(xnode);
    const [a, b] = await Promise.all([
      postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "check lab", user_id: "U0CAROL01", channel_id: CHANNEL }),
      postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "check lab", user_id: "U0DAVE001", channel_id: "C0OTHER01" }),
    ]);
    assert.equal(a.status, 200);
    assert.equal(b.status, 200);
    // Each requester's own message ends with the verdict; only one of them got a thread.
    const [first, second] = await emulator.waitFor(() => {
      const tops = [...emulator.messages(CHANNEL), ...emulator.messages("C0OTHER01")].filter((m) => !m.thread_ts || m.thread_ts === m.ts);
      const done = tops.filter((m) => /healthy/i.test(m.text));
      return done.length === 2 ? done : undefined;
    }, 60_000);
    assert.notEqual(first!.channel, second!.channel, "one answer in each requester's channel");
    assert.equal((await countStartJobs(xnode)) - startsBefore, 1, "exactly one check ran");
    const joiner = [first!, second!].find((m) => /report thread/.test(textOf(m)));
    assert.ok(joiner, "the joiner's answer links the running check's thread");
    const roots = [first!, second!].filter((m) => emulator.thread(m.channel, m.ts).length > 1);
    assert.equal(roots.length, 1, "one report thread");
  });

  test("Slack rate limits (429 with Retry-After) and a 500 are retried: the report still arrives", async () => {
    emulator.reset();
    emulator.failNext("chat.postMessage", { status: 429, retryAfter: 1 });
    emulator.failNext("chat.update", { status: 500 });
    await postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "check lab", user_id: "U0GRACE01", channel_id: CHANNEL });
    const root = await emulator.waitFor(() => emulator.messages(CHANNEL).find((m) => /U0GRACE01/.test(textOf(m))), 20_000);
    await waitForReport(emulator, CHANNEL, root.ts, 1);
    assert.ok(
      emulator.calls.some((c) => c.method === "chat.postMessage" && c.status === 429),
      "a 429 was answered",
    );
    assert.ok(
      emulator.calls.some((c) => c.method === "chat.update" && c.status === 500),
      "a 500 was answered",
    );
  });

  test("bad command text: an ephemeral usage error and nothing enqueued", async () => {
    emulator.reset();
    const before = await countStartJobs(xnode);
    for (const text of ["check", "check nope", "check lab extra", "frobnicate", "check ../../etc"]) {
      const res = await postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text, user_id: "U0EVE0001", channel_id: CHANNEL });
      assert.equal(res.status, 200);
      const body = res.body as { response_type?: string; text?: string; blocks?: unknown[] };
      assert.equal(body.response_type, "ephemeral", `ephemeral for "${text}"`);
      assert.match(`${body.text}${JSON.stringify(body.blocks)}`, /usage|\/xnode check/i, `usage shown for "${text}"`);
    }
    assert.equal(await countStartJobs(xnode), before, "no job enqueued");
    assert.equal(emulator.callsOf("chat.postMessage").length, 0, "nothing posted to the channel");
  });

  test("/xnode digest now posts one digest in the channel", async () => {
    emulator.reset();
    const res = await postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "digest now", user_id: "U0FRANK01", channel_id: "C0DIGEST1" });
    assert.equal((res.body as { response_type?: string }).response_type, "ephemeral");
    const digest = await emulator.waitFor(() => emulator.messages("C0DIGEST1").find((m) => /digest/i.test(textOf(m))), 60_000);
    assert.match(textOf(digest), /lab/);
    assert.match(textOf(digest), /healthy/i);
    assert.match(textOf(digest), /U0FRANK01/);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(emulator.messages("C0DIGEST1").length, 1, "exactly one digest message");
  });

  test("help answers in the ack; clusters and status, which read Redis, ack empty and answer ephemerally through the response URL", async () => {
    const sink = await startResponseUrlSink();
    try {
      for (const [text, expect, inAck] of [
        ["help", /\/xnode check/, true],
        ["clusters", /lab/, false],
        ["status", /queue|waiting|running/i, false],
      ] as const) {
        const { ackBody, answer } = await commandAnswer(xnode.botUrl, sink, { text, user: "U0EVE0001", channel: CHANNEL });
        assert.equal(ackBody !== undefined, inAck, `${text}: answered ${inAck ? "in the ack" : "after it"}`);
        const body = answer as { response_type?: string; text?: string; blocks?: unknown[] };
        assert.equal(body.response_type, "ephemeral");
        assert.match(`${body.text}${JSON.stringify(body.blocks)}`, expect, text);
      }
    } finally {
      await sink.close();
    }
  });
});

async function countStartJobs(xnode: XnodeUnderTest): Promise<number> {
  const redis = createRedis(xnode.config.env.REDIS_URL);
  const queue = new Queue("xnode-check", { connection: redis, prefix: xnode.prefix });
  try {
    const jobs = await queue.getJobs(["completed", "active", "waiting", "delayed", "failed"], 0, 1000);
    return jobs.filter((j) => j.name === "check-start").length;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

describe("/xnode check of a cluster xnode cannot reach", () => {
  test("the root message says what happened and what to try; the cluster is free again", async () => {
    const emulator = await startSlackEmulator({ channels: { [CHANNEL]: {} } });
    const xnode = await startXnode({ emulator, clusters: [{ name: "broken", kubeconfig: "/nonexistent/broken.kubeconfig" }] });
    try {
      await postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "check broken", user_id: "U0HEIDI01", channel_id: CHANNEL });
      const failed = await emulator.waitFor(() => emulator.messages(CHANNEL).find((m) => /failed/.test(textOf(m))), 20_000);
      assert.match(textOf(failed), /cannot load kubeconfig \/nonexistent\/broken\.kubeconfig/);
      assert.match(textOf(failed), /What to try:\* Check the file path/);
      // The slot is released: a second request starts a new check instead of joining.
      await postSlashCommand(xnode.botUrl, SIGNING_SECRET, { command: "/xnode", text: "check broken", user_id: "U0IVAN001", channel_id: CHANNEL });
      await emulator.waitFor(() => emulator.messages(CHANNEL).filter((m) => /failed/.test(textOf(m))).length === 2, 20_000);
      assert.equal(emulator.messages(CHANNEL).filter((m) => /joined/.test(textOf(m))).length, 0);
    } finally {
      await xnode.stop();
      await emulator.close();
    }
  });
});

// Approve-fix end to end: Slack buttons through the real Bolt app, approvals
// in real Redis, the fix applied by a worker to a lab cluster through
// client-node, proven by a re-check in the same thread and by real pings.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { createRedis } from "../../src/store/redis-connection.js";
import { kubectl, labAdmin, podOn, run } from "../helpers/lab-fixture.js";
import { buttonsOf, checkAndWait, click, commandAnswer, textOf, type ButtonRef } from "../helpers/slack-flow.js";
import { startXnodeOnLab, type XnodeOnLab } from "../helpers/xnode-fixture.js";
import type { EmulatedMessage } from "../slack/emulator.js";
import { startResponseUrlSink, type ResponseUrlSink } from "../slack/response-url-sink.js";

const CHANNEL = "C0NETOPS1";
const REQUESTER = "U0ALICE01";
const APPROVER = "U0APPROVE1";
const SECOND_APPROVER = "U0APPROVE2";
const GROUP_MEMBER = "U0GROUPIE1";
const OUTSIDER = "U0MALLORY1";
const DS = ["-n", "kube-system", "get", "ds", "kube-flannel-ds-amd64", "-o", "jsonpath={.spec.template.spec.containers[0].args}"];

interface Env extends XnodeOnLab {
  sink: ResponseUrlSink;
}

async function setup(twoPersonRule: boolean, scenario = "seed-virtualbox-nat"): Promise<Env> {
  const env = await startXnodeOnLab(scenario, {
    emulator: { usergroups: { S0NETOPS1: [GROUP_MEMBER] }, channels: { [CHANNEL]: {} } },
    file: { approvals: { approvers: { users: [APPROVER, SECOND_APPROVER, REQUESTER], usergroups: ["S0NETOPS1"] }, twoPersonRule, expiryMinutes: 15 } },
  });
  return { ...env, sink: await startResponseUrlSink() };
}

async function teardown(env: Env | undefined): Promise<void> {
  await env?.sink.close();
  await env?.stop();
}

/** The seed's two fixes, by what their buttons say they do. */
const FIX_LABELS: Record<string, string> = { "patch-flannel-iface": "Approve: set --iface=enp0s8", "add-routes": "Approve: add 2 routes on 2 nodes" };

function fixButton(replies: EmulatedMessage[], kind: string): ButtonRef {
  const b = replies.flatMap(buttonsOf).find((x) => x.text === FIX_LABELS[kind]);
  assert.ok(
    b,
    `a "${FIX_LABELS[kind]}" button; buttons: ${replies
      .flatMap(buttonsOf)
      .map((x) => x.text)
      .join(", ")}`,
  );
  return b;
}

async function dsArgs(env: Env): Promise<string> {
  return (await kubectl(env.lab.kubeconfigPath, ...DS)).stdout;
}

/** Non-dry-run PATCHes the API server received so far. */
async function realPatches(env: Env): Promise<number> {
  const res = await labAdmin(env.lab.lab, "GET", "/_lab/requests");
  const reqs = res.json as { verb: string; resource: string; query: Record<string, unknown> }[];
  return reqs.filter((r) => r.verb === "patch" && r.resource === "daemonsets" && !r.query.dryRun).length;
}

async function waitForResult(env: Env, rootTs: string, title: RegExp): Promise<EmulatedMessage> {
  return env.emulator.waitFor(() => env.emulator.thread(CHANNEL, rootTs).find((m) => title.test(m.text)), 90_000);
}

async function podPing(env: Env, from: string, to: string): Promise<boolean> {
  const kc = env.lab.kubeconfigPath;
  const src = await podOn(kc, "xnode-system", "app.kubernetes.io/name=xnode-pod-agent", from);
  const dstPod = await podOn(kc, "xnode-system", "app.kubernetes.io/name=xnode-pod-agent", to);
  const ip = (await kubectl(kc, "-n", "xnode-system", "get", "pod", dstPod, "-o", "jsonpath={.status.podIP}")).stdout;
  return (await kubectl(kc, "-n", "xnode-system", "exec", src, "--", "ping", "-c", "1", "-W", "1", ip)).code === 0;
}

/** What `/xnode clusters` answers: every configured cluster with its last verdict. */
async function clustersAnswer(env: Env): Promise<string> {
  const { answer } = await commandAnswer(env.xnode.botUrl, env.sink, { text: "clusters", user: APPROVER, channel: CHANNEL });
  return JSON.stringify(answer);
}

describe("approve, apply, re-check, rollback (seed lab)", () => {
  let env: Env;
  before(async () => (env = await setup(false)));
  after(async () => teardown(env));

  test("an approver's click patches --iface=enp0s8, the lab re-programs, the re-check is healthy and pings pass", async () => {
    const { root, replies } = await checkAndWait(env.emulator, env.xnode.botUrl, { cluster: "lab", user: REQUESTER, channel: CHANNEL, causes: 1 });
    assert.equal(await podPing(env, "k8s-master1", "k8s-node1"), false);
    const res = await click(env.xnode.botUrl, fixButton(replies, "patch-flannel-iface"), APPROVER, env.sink.url);
    assert.equal(res.status, 200);
    const diff = await env.emulator.waitFor(() => env.emulator.thread(CHANNEL, root.ts).find((m) => /About to apply/.test(textOf(m))), 30_000);
    assert.match(textOf(diff), /--iface=enp0s8/);
    const result = await waitForResult(env, root.ts, /after the fix/);
    assert.match(textOf(result), /Fix result: fixed/);
    assert.match(textOf(result), /cluster-healthy/);
    assert.ok(
      buttonsOf(result).some((b) => b.actionId === "xnode_rollback"),
      "Rollback offered",
    );
    assert.match(await dsArgs(env), /--iface=enp0s8/);
    assert.equal(await podPing(env, "k8s-master1", "k8s-node1"), true);
    assert.equal(await podPing(env, "k8s-node1", "k8s-master1"), true);
    const finding = env.emulator.messages(CHANNEL).find((m) => m.ts === fixButton(replies, "patch-flannel-iface").message.ts)!;
    assert.equal(buttonsOf(finding).length, 0, "buttons replaced by the outcome");
    assert.match(textOf(finding), /approved by <@U0APPROVE1>/);
    const clusters = await clustersAnswer(env);
    assert.match(clusters, /healthy/, "the re-check after the fix is the cluster's last result");
    assert.doesNotMatch(clusters, /problem/, clusters);
  });

  test("Rollback restores the original args and the re-check reports the original findings again", async () => {
    const result = env.emulator.messages(CHANNEL).find((m) => /after the fix/.test(m.text))!;
    const rollback = buttonsOf(result).find((b) => b.actionId === "xnode_rollback")!;
    await click(env.xnode.botUrl, rollback, SECOND_APPROVER, env.sink.url);
    const done = await waitForResult(env, result.thread_ts!, /after the rollback/);
    assert.doesNotMatch(await dsArgs(env), /--iface/);
    assert.match(textOf(done), /vtep-duplicate-public-ip/);
    assert.match(textOf(done), /vtep-wrong-interface/);
    assert.equal(await podPing(env, "k8s-master1", "k8s-node1"), false);
    assert.match(await clustersAnswer(env), /3 problems/, "the re-check after the rollback is the cluster's last result");
  });

  test("/xnode audit lists the request, approval, apply, rollback and verdicts", async () => {
    const { ackBody, answer } = await commandAnswer(env.xnode.botUrl, env.sink, { text: "audit lab", user: APPROVER, channel: CHANNEL });
    assert.equal(ackBody, undefined, "acked before reading Redis; answered through the response URL");
    const text = JSON.stringify(answer);
    for (const event of ["check-requested", "approved", "applied", "rolled-back", "verdict"]) assert.match(text, new RegExp(event), event);
  });
});

describe("refusals change nothing (seed lab, two-person rule)", () => {
  let env: Env;
  let replies: EmulatedMessage[];
  let rootTs: string;
  before(async () => {
    env = await setup(true);
    ({
      replies,
      root: { ts: rootTs },
    } = await checkAndWait(env.emulator, env.xnode.botUrl, { cluster: "lab", user: REQUESTER, channel: CHANNEL, causes: 1 }));
  });
  after(async () => teardown(env));

  async function refusalFor(user: string, button: ButtonRef): Promise<string> {
    const before = env.sink.posts.length;
    await click(env.xnode.botUrl, button, user, env.sink.url);
    const posts = await env.sink.waitForPosts(before + 1, 10_000);
    return JSON.stringify(posts[before]!.body);
  }

  test("a non-approver, self-approval and a forged id are refused ephemerally", async () => {
    const b = fixButton(replies, "patch-flannel-iface");
    assert.match(await refusalFor(OUTSIDER, b), /not an approver/);
    assert.match(await refusalFor(REQUESTER, b), /two-person rule/);
    assert.match(await refusalFor(APPROVER, { ...b, value: "0123456789abcdef0123456789abcdef" }), /unknown/);
    assert.match(await refusalFor(APPROVER, { ...b, value: "../../etc/passwd" }), /unknown/);
    assert.equal(await realPatches(env), 0);
    assert.doesNotMatch(await dsArgs(env), /--iface/);
  });

  test("an expired approval is refused", async () => {
    const b = fixButton(replies, "add-routes");
    const redis = createRedis(env.xnode.config.env.REDIS_URL);
    try {
      const key = `${env.xnode.prefix}:approval:${b.value}`;
      const rec = JSON.parse((await redis.get(key))!) as { expiresAt: string };
      rec.expiresAt = new Date(Date.now() - 60_000).toISOString();
      await redis.set(key, JSON.stringify(rec), "KEEPTTL");
    } finally {
      redis.disconnect();
    }
    assert.match(await refusalFor(APPROVER, b), /expired/);
  });

  test("a DaemonSet changed between plan and approval is refused with Re-run, nothing patched", async () => {
    // a spec change (generation moves); status and metadata writes are no drift
    const patch = JSON.stringify({ spec: { template: { metadata: { annotations: { "example.com/touched": "yes" } } } } });
    const touched = await kubectl(env.lab.kubeconfigPath, "-n", "kube-system", "patch", "ds", "kube-flannel-ds-amd64", "--type=merge", "-p", patch);
    assert.equal(touched.code, 0, touched.stderr);
    const patchesBefore = await realPatches(env); // kubectl's own patch is one of them
    await click(env.xnode.botUrl, fixButton(replies, "patch-flannel-iface"), GROUP_MEMBER, env.sink.url);
    const refused = await env.emulator.waitFor(() => env.emulator.thread(CHANNEL, rootTs).find((m) => /refused/i.test(m.text)), 30_000);
    assert.match(textOf(refused), /changed/);
    assert.ok(buttonsOf(refused).some((x) => x.actionId === "xnode_rerun"));
    assert.equal(await realPatches(env), patchesBefore, "xnode sent no PATCH");
    assert.doesNotMatch(await dsArgs(env), /--iface/);
  });

  test("a replayed approval is refused", async () => {
    assert.match(await refusalFor(SECOND_APPROVER, fixButton(replies, "patch-flannel-iface")), /already approved/);
  });
});

describe("double click and the route fix (seed lab)", () => {
  let env: Env;
  before(async () => (env = await setup(false)));
  after(async () => teardown(env));

  test("two clicks at once: exactly one patch, both clickers answered", async () => {
    const { root, replies } = await checkAndWait(env.emulator, env.xnode.botUrl, { cluster: "lab", user: REQUESTER, channel: CHANNEL, causes: 1 });
    const b = fixButton(replies, "patch-flannel-iface");
    const [r1, r2] = await Promise.all([click(env.xnode.botUrl, b, APPROVER, env.sink.url), click(env.xnode.botUrl, b, SECOND_APPROVER, env.sink.url)]);
    assert.equal(r1.status, 200);
    assert.equal(r2.status, 200);
    await waitForResult(env, root.ts, /after the fix/);
    assert.equal(await realPatches(env), 1);
    const refusals = env.sink.posts.filter((p) => /already approved/.test(JSON.stringify(p.body)));
    assert.equal(refusals.length, 1, "the slower clicker is told it was already approved");
    const approvedNote = env.emulator.messages(CHANNEL).find((m) => m.ts === b.message.ts)!;
    assert.match(textOf(approvedNote), /approved by/);
  });

  test("the route remediation makes a fresh seed lab healthy", async () => {
    const fresh = await startXnodeOnLab("seed-virtualbox-nat", {
      emulator: { channels: { [CHANNEL]: {} } },
      file: { approvals: { approvers: { users: [APPROVER] } } },
    });
    try {
      const { root, replies } = await checkAndWait(fresh.emulator, fresh.xnode.botUrl, { cluster: "lab", user: REQUESTER, channel: CHANNEL, causes: 1 });
      await click(fresh.xnode.botUrl, fixButton(replies, "add-routes"), APPROVER);
      const result = await fresh.emulator.waitFor(() => fresh.emulator.thread(CHANNEL, root.ts).find((m) => /after the fix/.test(m.text)), 90_000);
      assert.match(textOf(result), /Fix result: fixed/);
      assert.match(textOf(result), /does not survive a reboot/);
      assert.match(textOf(result), /2\/2/, "every pod pair reachable after");
    } finally {
      await fresh.stop();
    }
  });
});

describe("a native nftables drop (firewalld's table): approve, apply, re-check, rollback (nft-drop-vxlan lab)", () => {
  let env: Env;
  before(async () => (env = await setup(false, "nft-drop-vxlan")));
  after(async () => teardown(env));

  const nftRuleset = async (node: string) => {
    const netns = env.lab.lab.topology.nodes[node]!.netns;
    return (await run(["ip", "netns", "exec", netns, "nft", "list", "chain", "inet", "firewalld", "filter_INPUT"])).stdout;
  };

  test("the fix inserts an accept before firewalld's drop, pods reach wrk-02, the rollback removes it again", async () => {
    const { root, replies } = await checkAndWait(env.emulator, env.xnode.botUrl, { cluster: "lab", user: REQUESTER, channel: CHANNEL, causes: 1 });
    const cause = replies.find((m) => /udp-vxlan-blocked/.test(m.text));
    assert.ok(cause, "the cause is posted");
    assert.match(textOf(cause), /nft inet firewalld filter_INPUT/, "the nft rule is the evidence");
    assert.equal(await podPing(env, "ctl-01", "wrk-02"), false);
    const button = replies.flatMap(buttonsOf).find((b) => /^Approve: open the VXLAN port/.test(b.text));
    assert.ok(
      button,
      `an open-vxlan-port button: ${replies
        .flatMap(buttonsOf)
        .map((b) => b.text)
        .join(", ")}`,
    );
    const before = await nftRuleset("wrk-02");
    await click(env.xnode.botUrl, button, APPROVER, env.sink.url);
    const result = await waitForResult(env, root.ts, /after the fix/);
    assert.match(textOf(result), /Fix result: fixed/);
    assert.equal(await podPing(env, "ctl-01", "wrk-02"), true);
    assert.equal(await podPing(env, "wrk-02", "wrk-01"), true);
    const fixed = await nftRuleset("wrk-02");
    assert.match(fixed, /udp dport 8472 accept/);
    assert.ok(fixed.indexOf("udp dport 8472 accept") < fixed.indexOf("udp dport 8472 drop"), "the accept sits before the drop");

    const rollback = buttonsOf(result).find((b) => b.actionId === "xnode_rollback");
    assert.ok(rollback, "Rollback offered");
    await click(env.xnode.botUrl, rollback, SECOND_APPROVER, env.sink.url);
    const undone = await waitForResult(env, result.thread_ts!, /after the rollback/);
    assert.match(textOf(undone), /udp-vxlan-blocked/);
    assert.equal(await nftRuleset("wrk-02"), before, "the chain is back as it was");
    assert.equal(await podPing(env, "ctl-01", "wrk-02"), false);
  });
});

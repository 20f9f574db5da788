// Issue 12's new findings through Slack, end to end: the check's thread shows
// the cause with its Approve button, an approver's click has a worker apply
// the fix to the lab, the re-check in the thread is healthy and the pods
// ping; [Rollback] puts the old state back and the finding returns. A restart
// alone (VtepMAC drift) offers no Rollback: it changed no setting.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { kubectl, podOn } from "../helpers/lab-fixture.js";
import { buttonsOf, checkAndWait, click, textOf } from "../helpers/slack-flow.js";
import { startXnodeOnLab, type XnodeOnLab } from "../helpers/xnode-fixture.js";
import type { EmulatedMessage } from "../slack/emulator.js";
import { startResponseUrlSink, type ResponseUrlSink } from "../slack/response-url-sink.js";

const CHANNEL = "C0NETOPS1";
const REQUESTER = "U0ALICE01";
const APPROVER = "U0APPROVE1";
const SECOND_APPROVER = "U0APPROVE2";

interface Env extends XnodeOnLab {
  sink: ResponseUrlSink;
}

async function withXnode(scenario: string, body: (env: Env) => Promise<void>): Promise<void> {
  const xnode = await startXnodeOnLab(scenario, {
    emulator: { channels: { [CHANNEL]: {} } },
    file: { approvals: { approvers: { users: [APPROVER, SECOND_APPROVER] }, twoPersonRule: false, expiryMinutes: 15 } },
  });
  const env = { ...xnode, sink: await startResponseUrlSink() };
  try {
    await body(env);
  } finally {
    await env.sink.close();
    await env.stop();
  }
}

async function podPing(env: Env, from: string, to: string): Promise<boolean> {
  const kc = env.lab.kubeconfigPath;
  const src = await podOn(kc, "xnode-system", "app.kubernetes.io/name=xnode-pod-agent", from);
  const dstPod = await podOn(kc, "xnode-system", "app.kubernetes.io/name=xnode-pod-agent", to);
  const ip = (await kubectl(kc, "-n", "xnode-system", "get", "pod", dstPod, "-o", "jsonpath={.status.podIP}")).stdout;
  return (await kubectl(kc, "-n", "xnode-system", "exec", src, "--", "ping", "-c", "1", "-W", "1", ip)).code === 0;
}

const waitForResult = (env: Env, rootTs: string, title: RegExp): Promise<EmulatedMessage> =>
  env.emulator.waitFor(() => env.emulator.thread(CHANNEL, rootTs).find((m) => title.test(m.text)), 90_000);

/** Checks through Slack, presses the button labelled `label` on the cause, waits for the fix's result in the thread. */
async function approveFix(env: Env, finding: string, label: string): Promise<{ root: EmulatedMessage; result: EmulatedMessage }> {
  const { root, replies } = await checkAndWait(env.emulator, env.xnode.botUrl, { cluster: "lab", user: REQUESTER, channel: CHANNEL, causes: 1 });
  const cause = replies.find((m) => m.text.includes(finding));
  assert.ok(cause, `the cause ${finding} is posted`);
  const button = buttonsOf(cause).find((b) => b.text === label);
  assert.ok(
    button,
    `a "${label}" button; buttons: ${buttonsOf(cause)
      .map((b) => b.text)
      .join(", ")}`,
  );
  await click(env.xnode.botUrl, button, APPROVER, env.sink.url);
  return { root, result: await waitForResult(env, root.ts, /after the fix/) };
}

describe("new findings fixed through Slack", () => {
  test("public-ip-overwrite-wrong: the annotation is removed, w1's flannel restarted, pods ping; Rollback brings the annotation back", async () => {
    await withXnode("public-ip-overwrite-wrong", async (env) => {
      const kc = env.lab.kubeconfigPath;
      const overwrite = async () =>
        (await kubectl(kc, "get", "node", "w1", "-o", "jsonpath={.metadata.annotations.flannel\\.alpha\\.coreos\\.com/public-ip-overwrite}")).stdout;
      assert.equal(await podPing(env, "cp", "w1"), false);
      const { result } = await approveFix(env, "public-ip-overwrite-wrong", "Approve: remove public-ip-overwrite on w1");
      assert.match(textOf(result), /Fix result: fixed/);
      assert.match(textOf(result), /\*after\*\\n6\/6/);
      assert.equal(await overwrite(), "");
      assert.equal(await podPing(env, "cp", "w1"), true);
      assert.equal(await podPing(env, "w1", "w2"), true);

      const rollback = buttonsOf(result).find((b) => b.actionId === "xnode_rollback");
      assert.ok(rollback, "Rollback offered");
      await click(env.xnode.botUrl, rollback, SECOND_APPROVER, env.sink.url);
      const undone = await waitForResult(env, result.thread_ts!, /after the rollback/);
      assert.match(textOf(undone), /public-ip-overwrite-wrong/);
      assert.equal(await overwrite(), "192.168.70.250");
      assert.equal(await podPing(env, "cp", "w1"), false);
    });
  });

  test("cni0-address-mismatch: cni0 gets its gateway, pods ping; Rollback puts the stale address back", async () => {
    await withXnode("cni0-address-mismatch", async (env) => {
      assert.equal(await podPing(env, "cp", "w1"), false);
      const { result } = await approveFix(env, "cni0-address-mismatch", "Approve: fix cni0's address on w1");
      assert.match(textOf(result), /Fix result: fixed/);
      assert.equal(await podPing(env, "cp", "w1"), true);
      const rollback = buttonsOf(result).find((b) => b.actionId === "xnode_rollback");
      assert.ok(rollback, "Rollback offered");
      await click(env.xnode.botUrl, rollback, SECOND_APPROVER, env.sink.url);
      const undone = await waitForResult(env, result.thread_ts!, /after the rollback/);
      assert.match(textOf(undone), /cni0-address-mismatch/);
      assert.equal(await podPing(env, "cp", "w1"), false);
    });
  });

  test("VtepMAC drift (fdb-stale): restarting w1's flannel fixes it; no Rollback is offered for a restart", async () => {
    await withXnode("vtep-mac-change", async (env) => {
      const { result } = await approveFix(env, "fdb-stale", "Approve: restart flannel on w1");
      assert.match(textOf(result), /Fix result: fixed/);
      assert.equal(await podPing(env, "cp", "w1"), true);
      assert.ok(!buttonsOf(result).some((b) => b.actionId === "xnode_rollback"), "no Rollback for a restart");
    });
  });
});

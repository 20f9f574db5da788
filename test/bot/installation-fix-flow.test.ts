// Installation-specific fixes through Slack: on k3s the thread shows the
// manual steps with no button and add-routes's Approve fixes the pairs; on a
// chart synced by Argo CD the approved patch is put back by a sync (simulated
// here as soon as the patch lands) and the thread says "reverted by argocd".
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { kubectl } from "../helpers/lab-fixture.js";
import { buttonsOf, checkAndWait, click, textOf } from "../helpers/slack-flow.js";
import { startXnodeOnLab, type XnodeOnLab } from "../helpers/xnode-fixture.js";
import { startResponseUrlSink, type ResponseUrlSink } from "../slack/response-url-sink.js";

const CHANNEL = "C0NETOPS1";
const REQUESTER = "U0ALICE01";
const APPROVER = "U0APPROVE1";

interface Env extends XnodeOnLab {
  sink: ResponseUrlSink;
}

async function setup(scenario: string): Promise<Env> {
  const env = await startXnodeOnLab(scenario, {
    emulator: { channels: { [CHANNEL]: {} } },
    file: { approvals: { approvers: { users: [APPROVER] }, twoPersonRule: false, expiryMinutes: 15 } },
  });
  return { ...env, sink: await startResponseUrlSink() };
}

async function teardown(env: Env | undefined): Promise<void> {
  await env?.sink.close();
  await env?.stop();
}

describe("k3s through Slack", () => {
  let env: Env;
  before(async () => (env = await setup("seed-nat-k3s")));
  after(async () => teardown(env));

  test("the steps are shown without a button; add-routes is approved and every pair becomes reachable", async () => {
    const { root, replies } = await checkAndWait(env.emulator, env.xnode.botUrl, { cluster: "lab", user: REQUESTER, channel: CHANNEL, causes: 1 });
    const cause = replies.find((m) => buttonsOf(m).some((b) => b.text.startsWith("Approve")))!;
    assert.match(textOf(cause), /no Approve button/);
    assert.match(textOf(cause), /flannel-iface: enp0s8/);
    const labels = replies.flatMap(buttonsOf).map((b) => b.text);
    assert.ok(!labels.some((l) => /^Approve: steps/.test(l)), labels.join(", "));
    const routes = replies.flatMap(buttonsOf).find((b) => /^Approve: add 2 routes/.test(b.text));
    assert.ok(routes, labels.join(", "));
    await click(env.xnode.botUrl, routes, APPROVER, env.sink.url);
    const result = await env.emulator.waitFor(() => env.emulator.thread(CHANNEL, root.ts).find((m) => /after the fix/.test(m.text)), 90_000);
    assert.match(textOf(result), /Pod pairs reachable before\*\\n0\/2/);
    assert.match(textOf(result), /\*after\*\\n2\/2/);
  });
});

describe("flannel's chart synced by Argo CD, through Slack", () => {
  let env: Env;
  before(async () => (env = await setup("seed-nat-helm-argocd")));
  after(async () => teardown(env));

  test("the approved patch is put back by a sync while the fix waits for flannel; the thread says reverted by argocd", async () => {
    const { root, replies } = await checkAndWait(env.emulator, env.xnode.botUrl, { cluster: "lab", user: REQUESTER, channel: CHANNEL, causes: 1 });
    const cause = replies.find((m) => buttonsOf(m).some((b) => b.text.startsWith("Approve")))!;
    assert.match(textOf(cause), /Temporary: argocd reverts this/);
    assert.match(textOf(cause), /flannel:\\n {2}args:\\n/);
    const patch = replies.flatMap(buttonsOf).find((b) => b.text === "Approve: set --iface=enp0s8");
    assert.ok(patch);
    const kc = env.lab.kubeconfigPath;
    const get = async () => JSON.parse((await kubectl(kc, "-n", "kube-flannel", "get", "ds", "-o", "json")).stdout) as DsList;
    const original = flannelArgs((await get()).items[0]!);
    await click(env.xnode.botUrl, patch, APPROVER, env.sink.url);
    // Argo CD's self-heal: the moment the live args differ from Git, put Git's back
    const t0 = Date.now();
    let synced = false;
    while (!synced && Date.now() - t0 < 60_000) {
      const ds = (await get()).items[0]!;
      if (flannelArgs(ds).args.includes("--iface=enp0s8")) {
        const r = await kubectl(
          kc,
          "-n",
          "kube-flannel",
          "patch",
          "ds",
          ds.metadata.name,
          "--type=json",
          "-p",
          JSON.stringify([{ op: "replace", path: original.path, value: original.args }]),
        );
        assert.equal(r.code, 0, r.stderr);
        synced = true;
      } else await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(synced, "the patch landed");
    const result = await env.emulator.waitFor(() => env.emulator.thread(CHANNEL, root.ts).find((m) => /after the fix/.test(m.text)), 90_000);
    assert.match(
      textOf(result),
      /:rewind: \*Reverted:\* DaemonSet kube-flannel\/\S+ no longer holds the change: reverted by argocd \(annotation argocd\.argoproj\.io\/tracking-id=/,
    );
    assert.match(textOf(result), /Fix result: not fixed/);
  });
});

interface DsList {
  items: { metadata: { name: string }; spec: { template: { spec: { containers: { name: string; args?: string[] }[] } } } }[];
}

function flannelArgs(ds: DsList["items"][number]): { path: string; args: string[] } {
  const i = ds.spec.template.spec.containers.findIndex((c) => c.name === "kube-flannel");
  assert.ok(i >= 0);
  return { path: `/spec/template/spec/containers/${i}/args`, args: ds.spec.template.spec.containers[i]!.args ?? [] };
}

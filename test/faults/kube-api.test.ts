// The Kubernetes API failing during a check: credentials rejected (401), RBAC
// refusing a verb (403), an agent pod gone (404), the API hanging, the API
// down. Each time the thread says what to grant or fix, and the workers stay
// up (no crash loop): the next check works.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { parse, stringify } from "yaml";
import { textOf } from "../helpers/slack-flow.js";
import { kubectl, labAdmin, podOn } from "../helpers/lab-fixture.js";
import { printFigures, startFaultRig, summaries, type FaultRig } from "./fault-rig.js";
import { startPrivateRedis, type RedisProcess } from "./private-redis.js";
import { TcpProxy } from "./tcp-proxy.js";

let redis: RedisProcess;
let rig: FaultRig;
let proxy: TcpProxy;
const figures: { fault: string; answeredSeconds: number; message: string }[] = [];

interface Kubeconfig {
  clusters: { cluster: { server: string } }[];
  users: { user: { token: string } }[];
}

before(async () => {
  redis = await startPrivateRedis();
  rig = await startFaultRig({
    redisUrl: redis.url,
    clusters: async (lab, dir) => {
      const kc = parse(await readFile(lab.kubeconfigPath, "utf8")) as Kubeconfig;
      const server = new URL(kc.clusters[0]!.cluster.server);
      proxy = await TcpProxy.start({ host: server.hostname, port: Number(server.port) });
      const revoked = structuredClone(kc);
      revoked.users[0]!.user.token = "revoked-token";
      const proxied = structuredClone(kc);
      proxied.clusters[0]!.cluster.server = `https://127.0.0.1:${proxy.port}`;
      await writeFile(join(dir, "revoked.kubeconfig"), stringify(revoked));
      await writeFile(join(dir, "proxied.kubeconfig"), stringify(proxied));
      return [
        { name: "revoked", kubeconfig: join(dir, "revoked.kubeconfig") },
        { name: "proxied", kubeconfig: join(dir, "proxied.kubeconfig") },
      ];
    },
  });
});
after(async () => {
  await rig?.stop();
  await proxy?.close();
  await redis?.stop();
  for (const f of figures) printFigures({ fault: `Kubernetes API ${f.fault}`, answeredSeconds: f.answeredSeconds, message: f.message });
});

/** The check's answer: the root message and the thread under it, all as text. */
async function answer(fault: string, cluster: string, during: () => Promise<void> = async () => undefined) {
  const t0 = Date.now();
  const root = await rig.requestCheck(cluster);
  await during();
  const { root: final, replies } = await rig.settled(root, 90_000);
  const text = [final, ...replies].map(textOf).join("\n");
  assert.ok(
    [rig.bot, ...rig.workers].every((p) => p.running),
    "bot and workers are still running",
  );
  figures.push({ fault, answeredSeconds: (Date.now() - t0) / 1000, message: final.text.slice(0, 300) });
  return { final, replies, text };
}

test("401: the thread says the API server rejected the credentials and to check the kubeconfig", { timeout: 120_000 }, async () => {
  const { final } = await answer("401 (token rejected)", "revoked");
  assert.match(final.text, /^xnode: checking revoked failed: .*rejected xnode's credentials/);
  assert.match(textOf(final), /token or client certificate in this cluster's kubeconfig/);
});

test("403 on listing nodes: the thread names the verb and resource to grant", { timeout: 120_000 }, async () => {
  await labAdmin(rig.lab.lab, "POST", "/_lab/authz", {
    rules: [{ verbs: ["*"], apiGroups: ["*"], resources: ["pods", "pods/exec", "daemonsets", "configmaps", "services", "namespaces", "endpoints"] }],
  });
  try {
    const { final } = await answer("403 (list nodes forbidden)", "lab");
    assert.match(final.text, /^xnode: checking lab failed: .*forbidden/);
    assert.match(textOf(final), /Grant xnode's service account \\"list\\" on nodes/);
  } finally {
    await labAdmin(rig.lab.lab, "POST", "/_lab/authz", { rules: null });
  }
});

test("403 on pods/exec mid-check: the check ends saying to grant create on pods/exec", { timeout: 120_000 }, async () => {
  await rig.hangHostAgent("worker-1", true);
  const asked = Date.now();
  try {
    const { final, replies } = await answer("403 (pods/exec forbidden mid-check)", "lab", async () => {
      await rig.execSeen("worker-1", asked);
      await labAdmin(rig.lab.lab, "POST", "/_lab/authz", { rules: [{ verbs: ["get", "list", "watch"], apiGroups: ["*"], resources: ["*"] }] });
      await rig.hangHostAgent("worker-1", false);
    });
    assert.match(final.text, /^xnode: checking lab failed: cannot exec into .* forbidden \(HTTP 403\)/);
    assert.match(textOf(final), /Grant xnode's service account \\"create\\" on pods\/exec in namespace xnode-system/);
    assert.equal(replies.length, 0, "no report blaming the network");
  } finally {
    await labAdmin(rig.lab.lab, "POST", "/_lab/authz", { rules: null });
    await rig.hangHostAgent("worker-1", false);
  }
});

test("API hangs mid-check: the check ends saying the API server stopped answering, within the timeouts", { timeout: 180_000 }, async () => {
  await rig.hangHostAgent("worker-1", true);
  const asked = Date.now();
  try {
    const { text } = await answer("hangs mid-check", "proxied", async () => {
      await rig.execSeen("worker-1", asked);
      await proxy.set("hang");
    });
    assert.match(text, /the API server of cluster proxied stopped answering during the check/);
    assert.match(text, /kubectl get --raw \/readyz/);
  } finally {
    await proxy.set("relay");
    await rig.hangHostAgent("worker-1", false);
  }
});

test("API down mid-check: the check ends saying the API server cannot be reached", { timeout: 120_000 }, async () => {
  await rig.hangHostAgent("worker-1", true);
  const asked = Date.now();
  try {
    const { final } = await answer("down mid-check", "proxied", async () => {
      await rig.execSeen("worker-1", asked);
      await proxy.set("down");
    });
    assert.match(final.text, /^xnode: checking proxied failed: cannot reach the API server .*\(ECONNREFUSED\)/);
    assert.match(textOf(final), /Check that the API server is up/);
  } finally {
    await proxy.set("relay");
    await rig.hangHostAgent("worker-1", false);
  }
});

test("after the faults above, the workers still run checks: the next check of the lab is healthy", { timeout: 120_000 }, async () => {
  const { final, replies } = await answer("none (the check after the faults)", "proxied");
  assert.match(final.text, /^xnode: proxied healthy/);
  assert.equal(summaries(replies, "proxied"), 1);
});

test(
  "404 (last: the lab keeps the pod deleted): an agent pod deleted mid-check: the report says the pod is gone and how to put it back",
  { timeout: 120_000 },
  async () => {
    await rig.hangHostAgent("worker-1", true);
    const asked = Date.now();
    const podAgent = await podOn(rig.lab.kubeconfigPath, "xnode-system", "app.kubernetes.io/name=xnode-pod-agent", "worker-0");
    const { text } = await answer("404 (agent pod deleted mid-check)", "lab", async () => {
      await rig.execSeen("worker-1", asked);
      const del = await kubectl(rig.lab.kubeconfigPath, "-n", "xnode-system", "delete", "pod", podAgent, "--wait=false");
      assert.equal(del.code, 0, del.stderr);
      await rig.hangHostAgent("worker-1", false);
    });
    assert.match(text, /cannot exec into pod agent on worker-0 .*: the pod is gone \(HTTP 404\)/);
    assert.match(text, /kubectl -n xnode-system get daemonsets/);
  },
);

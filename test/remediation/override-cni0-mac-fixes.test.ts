// The fixes of issue 12's new findings end to end in the lab, through the
// real executeFix: remove-public-ip-overwrite (Node patch, flannel pod
// restarted, converged), restart-flannel-pod (VtepMAC drift) and
// fix-cni0-address, each making every pair reachable; and the rollbacks that
// put the old state back, read with kubectl as a second client.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { LiveFingerprint } from "../../src/remediation/fingerprint.js";
import { kubectl } from "../helpers/lab-fixture.js";
import { assertApplied, hostExec, ids, openFixLab, planOf, podPing, requests } from "./fix-lab.js";

const OVERWRITE = "flannel.alpha.coreos.com/public-ip-overwrite";

async function annotations(kc: string, node: string): Promise<Record<string, string>> {
  const r = await kubectl(kc, "get", "node", node, "-o", "jsonpath={.metadata.annotations}");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, string>;
}

async function everyPairPings(kc: string, nodes: string[]): Promise<boolean> {
  for (const from of nodes) for (const to of nodes) if (from !== to && !(await podPing(kc, from, to))) return false;
  return true;
}

const NODES = ["cp", "w1", "w2"];
const FIX_TIMEOUT_MS = 20_000;

describe("fixes of the new findings", () => {
  test("public-ip-overwrite-wrong: the annotation removed, w1's flannel restarted, every pair reachable; the rollback puts it back", async (t) => {
    const env = await openFixLab("public-ip-overwrite-wrong");
    try {
      const first = await env.check();
      assert.deepEqual(ids(first), ["public-ip-overwrite-wrong"]);
      assert.equal(await podPing(env.kc, "cp", "w1"), false, "broken before the fix");
      const plan = planOf(first, "remove-public-ip-overwrite");
      const { outcome, steps, ms } = await env.fix(plan, await env.fingerprint(plan), plan.diff, FIX_TIMEOUT_MS);
      assertApplied(outcome);
      const log = await requests(env.started);
      assert.equal(log.filter((r) => r.verb === "patch" && r.resource === "nodes" && r.query.dryRun === undefined).length, 1, "one real Node PATCH");
      assert.equal(log.filter((r) => r.verb === "delete" && r.resource === "pods").length, 1, "one flannel pod deleted");
      const ann = await annotations(env.kc, "w1");
      assert.equal(ann[OVERWRITE], undefined);
      assert.equal(ann["flannel.alpha.coreos.com/public-ip"], "192.168.70.11");
      assert.deepEqual(ids(await env.check()), ["cluster-healthy"]);
      assert.ok(await everyPairPings(env.kc, NODES), "every pod pair pings");
      t.diagnostic(`executeFix ${ms} ms; steps: ${steps.map((s) => s.text).join(" | ")}`);

      const rollback = outcome.rollback;
      assert.deepEqual(rollback.nodePatches, [
        { node: "w1", ops: [{ op: "add", path: "/metadata/annotations/flannel.alpha.coreos.com~1public-ip-overwrite", value: "192.168.70.250" }] },
      ]);
      const { outcome: undone } = await env.fix(rollback, outcome.rollbackFingerprint, rollback.diff, FIX_TIMEOUT_MS);
      assertApplied(undone);
      const back = await annotations(env.kc, "w1");
      assert.equal(back[OVERWRITE], "192.168.70.250");
      assert.equal(back["flannel.alpha.coreos.com/public-ip"], "192.168.70.250");
      assert.deepEqual(ids(await env.check()), ["public-ip-overwrite-wrong"]);
    } finally {
      await env.stop();
    }
  });

  test("public-ip-overwrite-wrong: an annotation changed after the fingerprint refuses the fix; nothing is patched or restarted", async () => {
    const env = await openFixLab("public-ip-overwrite-wrong");
    try {
      const plan = planOf(await env.check(), "remove-public-ip-overwrite");
      const fp: LiveFingerprint = await env.fingerprint(plan);
      const r = await kubectl(env.kc, "annotate", "--overwrite", "node", "w1", `${OVERWRITE}=192.168.70.251`);
      assert.equal(r.code, 0, r.stderr);
      const { outcome } = await env.fix(plan, fp);
      assert.equal(outcome.status, "refused-drift");
      assert.match(
        "reason" in outcome ? outcome.reason : "",
        /annotation flannel\.alpha\.coreos\.com\/public-ip-overwrite of Node w1 changed: "192\.168\.70\.250" → "192\.168\.70\.251"/,
      );
      const log = await requests(env.started);
      assert.equal(log.filter((x) => x.verb === "delete" && x.resource === "pods").length, 0);
      assert.equal((await annotations(env.kc, "w1"))[OVERWRITE], "192.168.70.251");
    } finally {
      await env.stop();
    }
  });

  test("k3s's form of the plan (Node patch, the restart left to steps): the annotation goes, no pod is touched, the steps are said", async () => {
    const env = await openFixLab("public-ip-overwrite-wrong");
    try {
      const planned = planOf(await env.check(), "remove-public-ip-overwrite");
      // as planRemovePublicIpOverride makes it on k3s: no flannel pod to delete, k3s restarted by a person
      const { restartPods: _restart, expectedPublicIPs: _expected, ...rest } = planned;
      const plan = { ...rest, steps: ["On w1, restart k3s."], diff: planned.diff.slice(0, 1) };
      const { outcome, steps } = await env.fix(plan, await env.fingerprint(plan));
      assertApplied(outcome);
      assert.equal((await annotations(env.kc, "w1"))[OVERWRITE], undefined);
      const log = await requests(env.started);
      assert.equal(log.filter((x) => x.verb === "delete" && x.resource === "pods").length, 0);
      assert.ok(
        steps.some((s) => s.text.includes("On w1, restart k3s.")),
        steps.map((s) => s.text).join(" | "),
      );
      assert.deepEqual(outcome.rollback.nodePatches?.[0]?.node, "w1");
      assert.deepEqual(outcome.rollback.steps, ["On w1, restart k3s."], "undoing it needs the same restart");
    } finally {
      await env.stop();
    }
  });

  test("vtep-mac-change: restarting w1's flannel makes annotation and peers follow flannel.1's MAC; every pair reachable; nothing to roll back", async (t) => {
    const env = await openFixLab("vtep-mac-change");
    try {
      const first = await env.check();
      assert.deepEqual(ids(first), ["fdb-stale"]);
      const mac = (JSON.parse(await hostExec(env.kc, "w1", "ip", "-j", "link", "show", "flannel.1")) as { address: string }[])[0]!.address;
      const plan = planOf(first, "restart-flannel-pod");
      const { outcome, ms } = await env.fix(plan, await env.fingerprint(plan), plan.diff, FIX_TIMEOUT_MS);
      assertApplied(outcome);
      const data = JSON.parse((await annotations(env.kc, "w1"))["flannel.alpha.coreos.com/backend-data"]!) as { VtepMAC: string };
      const now = (JSON.parse(await hostExec(env.kc, "w1", "ip", "-j", "link", "show", "flannel.1")) as { address: string }[])[0]!.address;
      assert.equal(data.VtepMAC.toLowerCase(), now.toLowerCase(), "the annotation names flannel.1's MAC");
      t.diagnostic(`flannel.1 MAC before ${mac}, after ${now}; executeFix ${ms} ms`);
      assert.deepEqual(ids(await env.check()), ["cluster-healthy"]);
      assert.ok(await everyPairPings(env.kc, NODES), "every pod pair pings");
      assert.equal(outcome.rollback.approvable, false, "a restart changed no setting: the rollback is no button");
      assert.deepEqual(outcome.rollback.diff, []);
    } finally {
      await env.stop();
    }
  });

  test("fdb-stale (a wrong FDB dst on cp): restarting cp's flannel re-writes the entry; every pair reachable", async () => {
    const env = await openFixLab("fdb-stale");
    try {
      const first = await env.check();
      assert.deepEqual(ids(first), ["fdb-stale"]);
      const plan = planOf(first, "restart-flannel-pod");
      assert.deepEqual(plan.restartPods?.nodes, ["cp"]);
      const { outcome } = await env.fix(plan, await env.fingerprint(plan), plan.diff, FIX_TIMEOUT_MS);
      assertApplied(outcome);
      assert.deepEqual(ids(await env.check()), ["cluster-healthy"]);
      assert.ok(await everyPairPings(env.kc, ["cp", "w1"]), "every pod pair pings");
    } finally {
      await env.stop();
    }
  });

  test("cni0-address-mismatch: cni0 gets 10.244.1.1/24 and loses the stale address; the rollback restores exactly the old one", async () => {
    const env = await openFixLab("cni0-address-mismatch");
    try {
      const cni0 = async () =>
        (
          JSON.parse(await hostExec(env.kc, "w1", "ip", "-j", "addr", "show", "dev", "cni0")) as {
            addr_info: { family: string; local: string; prefixlen: number }[];
          }[]
        )[0]!.addr_info
          .filter((a) => a.family === "inet")
          .map((a) => `${a.local}/${a.prefixlen}`);
      const first = await env.check();
      assert.deepEqual(await cni0(), ["10.244.9.1/24"]);
      const plan = planOf(first, "fix-cni0-address");
      const { outcome } = await env.fix(plan, await env.fingerprint(plan));
      assertApplied(outcome);
      assert.deepEqual(await cni0(), ["10.244.1.1/24"]);
      assert.ok(await everyPairPings(env.kc, NODES), "every pod pair pings");
      const { outcome: undone } = await env.fix(outcome.rollback, outcome.rollbackFingerprint);
      assertApplied(undone);
      assert.deepEqual(await cni0(), ["10.244.9.1/24"]);
      assert.deepEqual(ids(await env.check()), ["cni0-address-mismatch"]);
    } finally {
      await env.stop();
    }
  });
});

// The seed's NAT problem on each installation of flannel, end to end on the
// lab: the exact findings, then the approved patch-flannel-iface (or, on k3s,
// the add-routes stopgap beside the manual steps) makes every pair reachable,
// through the installation's manager: RKE2 keeps a HelmChartConfig where it
// reverts a direct patch, OnDelete pods are replaced one node at a time,
// Argo CD's sync reverts a direct patch and the re-check says so, a plain
// Helm release keeps it until the next helm upgrade and the plan says so.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import { compareReports } from "../../src/remediation/compare-reports.js";
import type { FixOutcome } from "../../src/remediation/execute-fix.js";
import { revertOf } from "../../src/remediation/apply-flannel-change.js";
import { kubectl } from "../helpers/lab-fixture.js";
import { assertApplied, clearRequests, ids, openFixLab, planOf, podPing, requests, type FixLab } from "./fix-lab.js";

/** The seed's findings as each scenario's `expect` lists them (no NodePort services there). */
const SEED_FINDINGS = ["vtep-duplicate-public-ip", "vtep-wrong-interface"];

/** The check's findings once they are `expected` (a manager's revert rolls flannel out again first), or the last ones seen after `ms`. */
async function findingsOnceThey(env: FixLab, expected: string[], ms: number): Promise<string[]> {
  let last: string[] = [];
  await poll(async () => ((last = ids(await env.check())), JSON.stringify(last) === JSON.stringify(expected) ? last : undefined), ms);
  return last;
}

/** The first defined answer of `read`, asked once a second until `ms` ran out. */
async function poll<T>(read: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const t0 = Date.now();
  for (;;) {
    const v = await read();
    if (v !== undefined || Date.now() - t0 > ms) return v;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function json(kc: string, ...args: string[]): Promise<unknown> {
  const r = await kubectl(kc, ...args, "-o", "json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/** Every ordered pair of nodes pings pod to pod. */
async function allPairsPing(env: FixLab, nodes: string[]): Promise<string[]> {
  const failed: string[] = [];
  for (const from of nodes) for (const to of nodes) if (from !== to && !(await podPing(env.kc, from, to))) failed.push(`${from}→${to}`);
  return failed;
}

describe("RKE2 canal: the HelmChartConfig, not the DaemonSet", () => {
  let env: FixLab;
  let applied: Extract<FixOutcome, { status: "applied" }>;
  before(async () => (env = await openFixLab("seed-nat-rke2-canal")));
  after(async () => env?.stop());

  test("a direct patch of the rke2-canal DaemonSet is reverted by RKE2's controller, and the fix says so instead of waiting out its timeout", async () => {
    const plan = planOf(await env.check(), "patch-flannel-iface");
    const c = "/spec/template/spec/containers/1";
    const direct = {
      ...plan,
      customObject: undefined,
      restartPods: undefined,
      patch: {
        namespace: "kube-system",
        name: "rke2-canal",
        ops: [
          { op: "test", path: `${c}/name`, value: "kube-flannel" },
          { op: "add", path: `${c}/env/-`, value: { name: "FLANNELD_IFACE_CAN_REACH", value: "192.168.58.12" } },
        ],
      },
      revertedBy: {
        manager: "rke2-helm-controller",
        evidence: "RKE2 re-renders rke2-canal",
        commitTo: "HelmChartConfig kube-system/rke2-canal",
        values: "flannel:\n  iface: enp0s8\n",
      },
      diff: ['env FLANNELD_IFACE_CAN_REACH: (unset) → "192.168.58.12"'],
    };
    const t0 = Date.now();
    const { outcome } = await env.fix(direct, await env.fingerprint(direct), direct.diff, 30_000);
    const REVERTED = /^DaemonSet kube-system\/rke2-canal no longer holds the change: reverted by rke2-helm-controller/;
    // RKE2 puts the DaemonSet back 2 s after the patch: while the fix still waits for flannel, or just after it converged
    if (outcome.status === "failed") {
      assert.match(outcome.reason, REVERTED);
      assert.ok(Date.now() - t0 < 25_000, "stopped at the revert, not at the 30 s timeout");
    } else {
      assertApplied(outcome);
      const applied = outcome.applied as Extract<typeof outcome.applied, { kind: "flannel" }>;
      assert.match((await poll(() => revertOf(env.kube, applied), 15_000)) ?? "(not reverted within 15 s)", REVERTED);
    }
    // the controller's rollout back to the chart's spec brings the seed's findings back
    assert.deepEqual(await findingsOnceThey(env, SEED_FINDINGS, 30_000), SEED_FINDINGS);
  });

  test("the seed's findings; the approved fix creates HelmChartConfig rke2-canal, the controller applies it, every pair reachable, and it stays", async (t) => {
    const first = await env.check();
    assert.deepEqual(ids(first), SEED_FINDINGS);
    const plan = planOf(first, "patch-flannel-iface");
    assert.equal(plan.patch, undefined, "no direct DaemonSet patch: RKE2 would revert it");
    assert.ok(plan.customObject?.create, JSON.stringify(plan.customObject));
    await clearRequests(env.started);
    const { outcome, steps, ms } = await env.fix(plan, await env.fingerprint(plan), plan.diff, 20_000);
    assertApplied(outcome);
    applied = outcome;
    const log = await requests(env.started);
    assert.ok(!log.some((r) => r.verb === "patch" && r.resource === "daemonsets" && r.query.dryRun === undefined), "the DaemonSet is never patched");
    assert.equal(log.filter((r) => r.verb === "create" && r.resource === "helmchartconfigs" && r.query.dryRun === undefined).length, 1);
    const hcc = (await json(env.kc, "-n", "kube-system", "get", "helmchartconfig", "rke2-canal")) as { spec: { valuesContent: string } };
    assert.deepEqual(parse(hcc.spec.valuesContent), { flannel: { iface: "enp0s8" } });
    assert.ok(
      steps.some((s) => /applied: ConfigMap kube-system\/rke2-canal-config key canal_iface is "enp0s8"/.test(s.text)),
      steps.map((s) => s.text).join("\n"),
    );
    assert.equal(steps.at(-1)?.text, "flannel has converged on every node");

    const afterFix = await env.check();
    assert.deepEqual(ids(afterFix), ["cluster-healthy"]);
    assert.equal(compareReports(first, afterFix).verdict, "fixed");
    assert.deepEqual(await allPairsPing(env, ["rke2-server", "rke2-agent1"]), []);
    assert.equal(await revertOf(env.kube, outcome.applied as Extract<typeof outcome.applied, { kind: "flannel" }>), undefined, "nothing reverted it");
    t.diagnostic(`fix ${ms} ms: ${steps.map((s) => s.text).join(" | ")}`);
  });

  test("the rollback empties flannel.iface again, the pods restart, and the seed's findings come back", async () => {
    assert.ok(applied, "the fix above applied");
    const rollback = applied.rollback;
    assert.deepEqual(rollback.diff, [
      'HelmChartConfig kube-system/rke2-canal: flannel.iface: "enp0s8" → (unset)',
      "then restart the pods of rke2-canal one node at a time (rke2-agent1, rke2-server), each Ready and programmed before the next",
    ]);
    const { outcome } = await env.fix(rollback, applied.rollbackFingerprint, rollback.diff, 20_000);
    assertApplied(outcome);
    assert.deepEqual(ids(await env.check()), SEED_FINDINGS);
  });
});

describe("OnDelete (v0.11-era manifest, no readinessProbe, new VTEP MAC per flannel.1)", () => {
  let env: FixLab;
  let applied: Extract<FixOutcome, { status: "applied" }>;
  before(async () => (env = await openFixLab("seed-nat-ondelete")));
  after(async () => env?.stop());

  test("the patch, then flannel's pods deleted one node at a time, each Ready and programmed before the next; the re-check is healthy", async (t) => {
    const first = await env.check();
    assert.deepEqual(ids(first), SEED_FINDINGS);
    const plan = planOf(first, "patch-flannel-iface");
    const nodes = ["old-master", "old-node1", "old-node2"];
    assert.deepEqual([...(plan.restartPods?.nodes ?? [])].sort(), nodes);
    const podsBefore = ((await json(env.kc, "-n", "kube-system", "get", "pods", "-l", "app=flannel")) as { items: { metadata: { name: string } }[] }).items.map(
      (p) => p.metadata.name,
    );
    await clearRequests(env.started);
    const { outcome, steps, ms } = await env.fix(plan, await env.fingerprint(plan), plan.diff, 20_000);
    assertApplied(outcome);
    applied = outcome;
    const texts = steps.map((s) => s.text);
    // per node: deleted, then Ready and programmed, before the next node's delete
    const order = texts.filter((x) => / deleted | Ready and programmed$/.test(x)).map((x) => `${x.split(":")[0]} ${/deleted/.test(x) ? "deleted" : "back"}`);
    assert.deepEqual(
      order,
      plan.restartPods!.nodes.flatMap((n) => [`${n} deleted`, `${n} back`]),
      texts.join("\n"),
    );
    const deletes = (await requests(env.started)).filter((r) => r.verb === "delete" && r.resource === "pods");
    assert.equal(deletes.length, 3, "one pod deleted per node");
    const podsAfter = ((await json(env.kc, "-n", "kube-system", "get", "pods", "-l", "app=flannel")) as { items: { metadata: { name: string } }[] }).items.map(
      (p) => p.metadata.name,
    );
    assert.equal(podsAfter.length, 3);
    assert.ok(!podsAfter.some((p) => podsBefore.includes(p)), `every pod replaced: ${podsBefore.join(",")} → ${podsAfter.join(",")}`);
    assert.deepEqual(ids(await env.check()), ["cluster-healthy"]);
    assert.deepEqual(await allPairsPing(env, nodes), []);
    t.diagnostic(`fix ${ms} ms`);
  });

  test("the rollback restores the args and replaces the pods one node at a time again; the seed's findings come back", async () => {
    assert.ok(applied, "the fix above applied");
    const rollback = applied.rollback;
    assert.ok(rollback.restartPods, "OnDelete: the rollback replaces the pods too");
    assert.deepEqual(rollback.restartPods, planRestart(applied));
    const { outcome, steps } = await env.fix(rollback, applied.rollbackFingerprint, rollback.diff, 20_000);
    assertApplied(outcome);
    assert.equal(steps.filter((s) => / deleted /.test(s.text)).length, 3);
    assert.deepEqual(ids(await env.check()), SEED_FINDINGS);
  });
});

const planRestart = (o: Extract<FixOutcome, { status: "applied" }>) => (o.applied.kind === "flannel" ? o.applied.plan.restartPods : undefined);

describe("kubespray: flags in the kube-flannel container's command", () => {
  let env: FixLab;
  let applied: Extract<FixOutcome, { status: "applied" }>;
  before(async () => (env = await openFixLab("seed-nat-kubespray")));
  after(async () => env?.stop());

  test("the flags move to args with --iface=enp0s8; every pair reachable; the plan says kubespray's next run reverts it", async () => {
    const first = await env.check();
    assert.deepEqual(ids(first), SEED_FINDINGS);
    const plan = planOf(first, "patch-flannel-iface");
    assert.equal(plan.revertedBy?.manager, "kubespray");
    assert.equal(plan.revertedBy?.values, "flannel_interface: enp0s8\n");
    const { outcome } = await env.fix(plan, await env.fingerprint(plan), plan.diff, 20_000);
    assertApplied(outcome);
    assert.deepEqual(ids(await env.check()), ["cluster-healthy"]);
    assert.deepEqual(await allPairsPing(env, ["k8s-cp1", "k8s-wk1"]), []);
    applied = outcome;
  });

  test("waiting for flannel is bounded: addresses flannel never advertises end in a timeout that names what it saw", async () => {
    assert.ok(applied, "the fix above applied");
    const rollback = { ...applied.rollback, expectedPublicIPs: { "k8s-cp1": "192.0.2.1", "k8s-wk1": "192.0.2.2" } };
    const t0 = Date.now();
    const { outcome } = await env.fix(rollback, applied.rollbackFingerprint, rollback.diff, 3_000);
    assert.equal(outcome.status, "failed");
    assert.match(
      "reason" in outcome ? outcome.reason : "",
      /^flannel had not finished programming the nodes 3 s after the change: k8s-cp1: advertises public-ip 10\.0\.2\.15, expected 192\.0\.2\.1; k8s-wk1: advertises public-ip 10\.0\.2\.15, expected 192\.0\.2\.2/,
    );
    assert.ok(Date.now() - t0 < 15_000, "bounded");
    assert.deepEqual(ids(await env.check()), SEED_FINDINGS, "the rollback itself was applied");
  });
});

describe("flannel's Helm chart synced by Argo CD", () => {
  let env: FixLab;
  before(async () => (env = await openFixLab("seed-nat-helm-argocd")));
  after(async () => env?.stop());

  test("patched now with the warning and flannel.args to commit; fixed until Argo CD's sync puts the chart back, then the change is found reverted by argocd", async (t) => {
    const first = await env.check();
    assert.deepEqual(ids(first), SEED_FINDINGS);
    const plan = planOf(first, "patch-flannel-iface");
    assert.equal(plan.revertedBy?.manager, "argocd");
    assert.match(plan.summary, /the next Argo CD sync reverts it/);
    const [chartValues] = parseAllDocuments(plan.revertedBy!.values).map((d) => d.toJS());
    assert.deepEqual(chartValues, { flannel: { args: [...plan.diff[0]!.replace(/^args: \[.*\] → \[(.*)\]$/, "$1").split(", ")] } });
    assert.ok((chartValues as { flannel: { args: string[] } }).flannel.args.includes("--iface=enp0s8"));
    const { outcome } = await env.fix(plan, await env.fingerprint(plan), plan.diff, 20_000);
    assertApplied(outcome);
    assert.deepEqual(ids(await env.check()), ["cluster-healthy"]);
    assert.deepEqual(await allPairsPing(env, ["cp-1", "node-1"]), []);
    const applied = outcome.applied as Extract<typeof outcome.applied, { kind: "flannel" }>;
    assert.equal(await revertOf(env.kube, applied), undefined);
    // the scenario's sync comes 30 s after the patch
    const t0 = Date.now();
    const reverted = await poll(() => revertOf(env.kube, applied), 45_000);
    assert.match(reverted ?? "(not reverted within 45 s)", /^DaemonSet kube-flannel\/\S+ no longer holds the change: reverted by argocd \(/);
    assert.deepEqual(await findingsOnceThey(env, SEED_FINDINGS, 30_000), SEED_FINDINGS);
    t.diagnostic(`reverted ${Math.round((Date.now() - t0) / 1000)} s after the check`);
  });
});

describe("flannel's Helm chart, installed with helm (no GitOps)", () => {
  let env: FixLab;
  before(async () => (env = await openFixLab("seed-nat-helm")));
  after(async () => env?.stop());

  test("patched now, saying the next helm upgrade reverts it and giving flannel.args to commit; every pair reachable; nothing reverts it on its own", async () => {
    const first = await env.check();
    assert.deepEqual(ids(first), SEED_FINDINGS);
    const plan = planOf(first, "patch-flannel-iface");
    assert.equal(plan.revertedBy?.manager, "helm");
    assert.match(plan.summary, /the next helm upgrade reverts it/);
    const [chartValues] = parseAllDocuments(plan.revertedBy!.values).map((d) => d.toJS());
    assert.ok((chartValues as { flannel: { args: string[] } }).flannel.args.includes("--iface=enp0s8"), plan.revertedBy!.values);
    const { outcome } = await env.fix(plan, await env.fingerprint(plan), plan.diff, 20_000);
    assertApplied(outcome);
    assert.deepEqual(ids(await env.check()), ["cluster-healthy"]);
    assert.deepEqual(await allPairsPing(env, ["helm-cp", "helm-node"]), []);
    assert.equal(await revertOf(env.kube, outcome.applied as Extract<typeof outcome.applied, { kind: "flannel" }>), undefined);
  });
});

describe("k3s: steps for each node's config, and the approvable stopgap", () => {
  let env: FixLab;
  before(async () => (env = await openFixLab("seed-nat-k3s")));
  after(async () => env?.stop());

  test("patch-flannel-iface is manual steps that xnode refuses to run; add-routes makes every pair reachable", async () => {
    const first = await env.check();
    assert.deepEqual(ids(first), SEED_FINDINGS);
    const manual = planOf(first, "patch-flannel-iface");
    assert.equal(manual.approvable, false);
    assert.deepEqual([...manual.diff].sort(), ["k3s-agent1: flannel-iface (unset) → enp0s8", "k3s-server: flannel-iface (unset) → enp0s8"]);
    assert.ok(manual.steps?.some((s) => /\/etc\/rancher\/k3s\/config\.yaml/.test(s)));
    const refused = await env.fix(manual, {}, manual.diff);
    assert.equal(refused.outcome.status, "aborted");
    const routes = planOf(first, "add-routes");
    const { outcome } = await env.fix(routes, await env.fingerprint(routes));
    assertApplied(outcome);
    assert.deepEqual(await allPairsPing(env, ["k3s-server", "k3s-agent1"]), []);
  });
});

describe("FLANNELD_IFACE in the env is what flanneld reads", () => {
  let env: FixLab;
  before(async () => (env = await openFixLab("env-iface-healthy")));
  after(async () => env?.stop());

  test("set to the NAT adapter: the fix replaces that env entry (not args), every pair reachable; the rollback puts the entry back", async () => {
    const ds = (await json(env.kc, "-n", "kube-flannel", "get", "ds", "kube-flannel-ds")) as {
      spec: { template: { spec: { containers: { name: string; env?: { name: string }[] }[] } } };
    };
    const ci = ds.spec.template.spec.containers.findIndex((c) => c.name === "kube-flannel");
    const ei = ds.spec.template.spec.containers[ci]!.env!.findIndex((e) => e.name === "FLANNELD_IFACE");
    const path = `/spec/template/spec/containers/${ci}/env/${ei}`;
    const broke = await kubectl(
      env.kc,
      "-n",
      "kube-flannel",
      "patch",
      "ds",
      "kube-flannel-ds",
      "--type=json",
      "-p",
      JSON.stringify([{ op: "replace", path: `${path}/value`, value: "eth0" }]),
    );
    assert.equal(broke.code, 0, broke.stderr);
    const first = await env.check();
    assert.deepEqual(ids(first), SEED_FINDINGS);
    const plan = planOf(first, "patch-flannel-iface");
    assert.deepEqual(plan.diff, ['env FLANNELD_IFACE: "eth0" → "eth1"']);
    assert.ok(!plan.patch!.ops.some((o) => o.path.endsWith("/args")), "args untouched");
    const { outcome } = await env.fix(plan, await env.fingerprint(plan), plan.diff, 20_000);
    assertApplied(outcome);
    assert.deepEqual(ids(await env.check()), ["cluster-healthy"]);
    assert.deepEqual(await allPairsPing(env, ["alpha", "beta", "gamma"]), []);
    assert.deepEqual(outcome.rollback.diff, ['env FLANNELD_IFACE: "eth1" → "eth0"']);
    const { outcome: undone } = await env.fix(outcome.rollback, outcome.rollbackFingerprint, outcome.rollback.diff, 20_000);
    assertApplied(undone);
    assert.deepEqual(ids(await env.check()), SEED_FINDINGS);
  });
});

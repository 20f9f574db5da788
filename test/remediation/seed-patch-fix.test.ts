// patch-flannel-iface end to end on the seed lab: refused on drift, aborted on
// a diff mismatch, applied (one real PATCH, rollout, healthy re-check, pods
// ping), then rolled back to the original findings.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CheckReport } from "../../src/model/index.js";
import { compareReports } from "../../src/remediation/compare-reports.js";
import type { FixOutcome } from "../../src/remediation/execute-fix.js";
import { kubectl } from "../helpers/lab-fixture.js";
import { assertApplied, clearRequests, daemonSetPatches, dsArgs, ids, openFixLab, planOf, podPing, requests, type FixLab } from "./fix-lab.js";

const NS = "kube-system";
const DS = "kube-flannel-ds-amd64";
const ORIGINAL_ARGS = ["--ip-masq", "--kube-subnet-mgr"];
const SEED_FINDINGS = ["nodeport-unreachable", "vtep-duplicate-public-ip", "vtep-wrong-interface"];

describe("patch-flannel-iface on seed-virtualbox-nat", () => {
  let env: FixLab;
  let firstReport: CheckReport;
  let applied: Extract<FixOutcome, { status: "applied" }>;
  before(async () => (env = await openFixLab("seed-virtualbox-nat")));
  after(async () => env?.stop());

  test("refused when the DaemonSet changes between fingerprint and fix; nothing is patched", async () => {
    const plan = planOf(await env.check(), "patch-flannel-iface");
    const fp = await env.fingerprint(plan);
    const before = fp.daemonSet?.generation;
    assert.ok(before !== undefined);
    const patch = JSON.stringify({ spec: { template: { metadata: { annotations: { "xnode.test/drift": "1" } } } } });
    const r = await kubectl(env.kc, "-n", NS, "patch", "ds", DS, "--type=merge", "-p", patch);
    assert.equal(r.code, 0, r.stderr);
    await env.started.lab.settled();
    const mark = (await requests(env.started)).length;

    const { outcome } = await env.fix(plan, fp);
    assert.equal(outcome.status, "refused-drift");
    assert.match("reason" in outcome ? outcome.reason : "", new RegExp(`^DaemonSet ${NS}/${DS} changed: generation ${before} → ${before + 1}$`));
    const { dry, real } = daemonSetPatches((await requests(env.started)).slice(mark));
    assert.deepEqual([dry.length, real.length], [0, 0], "drift is caught before any PATCH, dry or real");
    assert.deepEqual(await dsArgs(env.kc, NS, DS), ORIGINAL_ARGS);
  });

  test("aborted when the approved diff differs from the server-side dry run; nothing is applied", async () => {
    const plan = planOf(await env.check(), "patch-flannel-iface");
    const fp = await env.fingerprint(plan);
    await clearRequests(env.started);
    const tampered = [plan.diff[0]!.replace("--iface=enp0s8", "--iface=enp0s9")];
    const { outcome, steps } = await env.fix(plan, fp, tampered);
    assert.equal(outcome.status, "aborted");
    assert.match("reason" in outcome ? outcome.reason : "", /line 1 approved ".*enp0s9\]", dry run ".*enp0s8\]"/);
    assert.deepEqual(steps, [], "no step is reported before the diff matches");
    const { dry, real } = daemonSetPatches(await requests(env.started));
    assert.deepEqual([dry.length, real.length], [1, 0]);
    assert.deepEqual(await dsArgs(env.kc, NS, DS), ORIGINAL_ARGS);
  });

  test("applies --iface=enp0s8 with one real PATCH; after the rollout the cluster is healthy and pods ping", async (t) => {
    firstReport = await env.check();
    assert.deepEqual(ids(firstReport), SEED_FINDINGS);
    assert.equal(await podPing(env.kc, "k8s-master1", "k8s-node1"), false, "broken before the fix");
    const plan = planOf(firstReport, "patch-flannel-iface");
    const fp = await env.fingerprint(plan);
    await clearRequests(env.started);

    const { outcome, steps, ms } = await env.fix(plan, fp);
    assertApplied(outcome);
    applied = outcome;
    assert.deepEqual(steps[0], { kind: "diff", lines: plan.diff, dryRun: "server-side dry run ok", text: "server-side dry run ok; applying 1 change" });
    const last = steps.filter((s) => s.kind === "rollout").at(-1);
    assert.ok(last?.kind === "rollout" && last.updated === last.desired && last.ready === last.desired && last.desired === 2, JSON.stringify(last));
    // Ready is not enough: the fix returns once every node advertises its host-only address and holds matching entries
    assert.equal(steps.at(-1)?.text, "flannel has converged on every node");
    assert.deepEqual(await dsArgs(env.kc, NS, DS), [...ORIGINAL_ARGS, "--iface=enp0s8"]);
    const { dry, real } = daemonSetPatches(await requests(env.started));
    assert.equal(real.length, 1, "exactly one PATCH without dryRun");
    assert.equal(dry.length, 1, "one server-side dry run");

    const t0 = Date.now();
    const after = await env.check();
    assert.deepEqual(ids(after), ["cluster-healthy"]);
    assert.equal(compareReports(firstReport, after).verdict, "fixed");
    assert.equal(await podPing(env.kc, "k8s-master1", "k8s-node1"), true);
    assert.equal(await podPing(env.kc, "k8s-node1", "k8s-master1"), true);
    t.diagnostic(`executeFix ${ms} ms (apply ${outcome.timings.applyMs} ms, rollout ${outcome.timings.rolloutMs} ms); re-check ${Date.now() - t0} ms`);
  });

  test("the rollback plan restores the original args and the original findings", async () => {
    assert.ok(applied, "the fix above applied");
    const rollback = applied.rollback;
    assert.deepEqual(rollback.diff, ["args: [--ip-masq, --kube-subnet-mgr, --iface=enp0s8] → [--ip-masq, --kube-subnet-mgr]"]);
    const { outcome } = await env.fix(rollback, applied.rollbackFingerprint);
    assertApplied(outcome);
    assert.deepEqual(await dsArgs(env.kc, NS, DS), ORIGINAL_ARGS);
    const again = await env.check();
    assert.deepEqual(ids(again), SEED_FINDINGS);
    assert.equal(compareReports(firstReport, again).verdict, "not fixed");
  });

  test("a rollout that never gets ready fails with a rollback that works", async () => {
    const plan = planOf(await env.check(), "patch-flannel-iface");
    // an interface no node has: flannel crash-loops everywhere (flannel-notes.md, wrong --iface)
    const bad = { ...plan, patch: structuredClone(plan.patch!), diff: [plan.diff[0]!.replace("enp0s8", "enp0s9")] };
    bad.patch.ops.find((o) => o.op === "add")!.value = [...ORIGINAL_ARGS, "--iface=enp0s9"];
    const { outcome } = await env.fix(bad, await env.fingerprint(bad), bad.diff, 3_000);
    assert.equal(outcome.status, "failed");
    assert.ok(outcome.status === "failed" && outcome.rollback && outcome.rollbackFingerprint);
    assert.match(outcome.reason, /did not finish within 3 s; last seen: generation \d+ \(observed \d+\), 2\/2 updated, 0\/2 ready/);
    assert.deepEqual(await dsArgs(env.kc, NS, DS), [...ORIGINAL_ARGS, "--iface=enp0s9"]);

    const { outcome: undone } = await env.fix(outcome.rollback, outcome.rollbackFingerprint);
    assertApplied(undone);
    assert.deepEqual(await dsArgs(env.kc, NS, DS), ORIGINAL_ARGS);
    assert.deepEqual(ids(await env.check()), SEED_FINDINGS);
  });
});

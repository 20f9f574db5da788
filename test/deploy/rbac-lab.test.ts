// deploy/'s RBAC enforced by the lab's API server: a full check and an
// approved fix (patch, rollout wait, re-check) succeed with exactly those
// permissions, and anything beyond them is refused with 403.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCheck } from "../../src/check/run-check.js";
import { createKubeClient, type KubeClient } from "../../src/kube/kube-client.js";
import { executeFix } from "../../src/remediation/execute-fix.js";
import { takeFingerprint } from "../../src/remediation/fingerprint.js";
import { collectSnapshot } from "../../src/check/collect-snapshot.js";
import { kubectl, labAdmin, startLab, type StartedLab } from "../helpers/lab-fixture.js";
import { rbacRulesFromDeploy } from "./rbac-rules.js";

describe("xnode with deploy/'s RBAC on the lab", () => {
  let lab: StartedLab;
  let kube: KubeClient;

  before(async () => {
    lab = await startLab("seed-virtualbox-nat");
    const rules = await rbacRulesFromDeploy();
    const res = await labAdmin(lab.lab, "POST", "/_lab/authz", { rules });
    assert.equal(res.status, 200, JSON.stringify(res.json));
    kube = createKubeClient({ cluster: "lab", kubeconfig: lab.kubeconfigPath });
  });
  after(async () => lab?.stop());

  test("a full check sees the seed's findings", async () => {
    const { report } = await runCheck(kube, { execTimeoutMs: 10_000, pingTimeoutSeconds: 1 });
    assert.deepEqual(report.findings.map((f) => f.id).sort(), ["nodeport-unreachable", "vtep-duplicate-public-ip", "vtep-wrong-interface"]);
    assert.ok(
      report.nodes.every((n) => n.probed),
      "every node probed through pods/exec",
    );
  });

  test("the approved patch applies, rolls out and re-checks healthy", async () => {
    const { report } = await runCheck(kube, { execTimeoutMs: 10_000, pingTimeoutSeconds: 1 });
    const plan = report.findings.find((f) => f.id === "vtep-wrong-interface")!.remediations.find((r) => r.kind === "patch-flannel-iface")!;
    const fingerprint = await takeFingerprint(kube, await collectSnapshot(kube), plan);
    const outcome = await executeFix(kube, plan, { approvedDiff: plan.diff, fingerprint, onStep: () => undefined, rolloutTimeoutMs: 30_000 });
    assert.equal(outcome.status, "applied", JSON.stringify(outcome));
    const after = await runCheck(kube, { execTimeoutMs: 10_000, pingTimeoutSeconds: 1 });
    assert.deepEqual(
      after.report.findings.map((f) => f.id),
      ["cluster-healthy"],
    );
  });

  test("anything not granted is forbidden (403), and nothing was refused during the check and fix", async () => {
    const log = (await labAdmin(lab.lab, "GET", "/_lab/requests")).json as { verb: string; resource: string; status: number; name?: string }[];
    // Discovery found flannel by name, so its any-namespace LIST (not granted by default) was never needed.
    const refused = log.filter((r) => r.status === 403);
    assert.deepEqual(refused, []);
    for (const args of [
      ["get", "namespaces"],
      ["-n", "kube-system", "get", "configmaps"],
      ["-n", "kube-system", "delete", "ds", "kube-flannel-ds-amd64"],
      ["-n", "default", "get", "ds"],
    ]) {
      const r = await kubectl(lab.kubeconfigPath, ...args);
      assert.notEqual(r.code, 0, `kubectl ${args.join(" ")} must be refused`);
      assert.match(r.stderr, /forbidden/i, args.join(" "));
    }
  });
});

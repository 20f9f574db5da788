// The host-command fix kinds on the scenarios that need them: each applied
// through the host agents makes the cluster healthy, and its rollback brings
// the original finding back. Also: drift in iptables refuses a fix.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RemediationPlan } from "../../src/model/index.js";
import { compareReports } from "../../src/remediation/compare-reports.js";
import { assertApplied, hostExec, ids, openFixLab, planOf } from "./fix-lab.js";

const CASES: { scenario: string; finding: string; kind: RemediationPlan["kind"] }[] = [
  { scenario: "ip-forward-disabled", finding: "ip-forward-disabled", kind: "enable-ip-forward" },
  { scenario: "forward-policy-drop", finding: "forward-policy-drop", kind: "set-forward-accept" },
  { scenario: "vxlan-port-blocked", finding: "udp-vxlan-blocked", kind: "open-vxlan-port" },
  { scenario: "cni0-address-mismatch", finding: "cni0-address-mismatch", kind: "fix-cni0-address" },
];

describe("host-command fixes", () => {
  for (const c of CASES) {
    test(`${c.scenario}: ${c.kind} makes it healthy and its rollback undoes it`, async (t) => {
      const env = await openFixLab(c.scenario);
      try {
        const first = await env.check();
        assert.deepEqual(ids(first), [c.finding]);
        const plan = planOf(first, c.kind);
        const { outcome, steps, ms } = await env.fix(plan, await env.fingerprint(plan));
        assertApplied(outcome);
        assert.equal(steps.filter((s) => s.kind === "command").length, plan.commands!.length, "one verified step per command");
        const after = await env.check();
        assert.deepEqual(ids(after), ["cluster-healthy"]);
        assert.equal(compareReports(first, after).verdict, "fixed");

        const { outcome: undone } = await env.fix(outcome.rollback, outcome.rollbackFingerprint);
        assertApplied(undone);
        assert.deepEqual(ids(await env.check()), [c.finding]);
        t.diagnostic(`executeFix ${ms} ms (apply ${outcome.timings.applyMs} ms); rollback: ${outcome.rollback.diff.join(" | ")}`);
      } finally {
        await env.stop();
      }
    });
  }

  test("forward-policy-drop: a rule added after the fingerprint refuses the fix; nothing runs", async () => {
    const env = await openFixLab("forward-policy-drop");
    try {
      const plan = planOf(await env.check(), "set-forward-accept");
      const fp = await env.fingerprint(plan);
      await hostExec(env.kc, "w2", "iptables", "-A", "INPUT", "-p", "tcp", "--dport", "9", "-j", "ACCEPT");
      const { outcome, steps } = await env.fix(plan, fp);
      assert.deepEqual(outcome, { status: "refused-drift", reason: "iptables rules on w2 changed since the plan was made" });
      assert.deepEqual(steps, []);
      const forward = await hostExec(env.kc, "w2", "iptables", "-S", "FORWARD");
      assert.doesNotMatch(forward, /10\.244\.0\.0\/16/, "the fix's rules were not added");
    } finally {
      await env.stop();
    }
  });
});

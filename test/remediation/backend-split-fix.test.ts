// The iptables-backend-split lab (flannel's rules in iptables-legacy on
// kube-w2, iptables-nft's FORWARD policy DROP there): set-forward-accept
// writes its ACCEPTs with iptables-nft, the backend that drops, through the
// host agent; pods on every node reach each other again (real pings between
// the pod agents), and the rollback takes the rules out of nft again.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareReports } from "../../src/remediation/compare-reports.js";
import { assertApplied, hostExec, ids, openFixLab, planOf, podPing } from "./fix-lab.js";

const SPLIT = ["forward-policy-drop", "iptables-backend-split"];
const NODE = "kube-w2";
const NETWORK = "10.240.0.0/16";

describe("iptables-backend-split fix", () => {
  test("set-forward-accept in iptables-nft makes pods reach each other; its rollback undoes it", async (t) => {
    const env = await openFixLab("iptables-backend-split");
    try {
      const first = await env.check();
      assert.deepEqual(ids(first), SPLIT);
      assert.deepEqual(first.findings.find((f) => f.id === "forward-policy-drop")?.explainedBy, ["iptables-backend-split"]);
      assert.equal(await podPing(env.kc, "kube-cp", NODE), false, "the split drops pod traffic to kube-w2");

      const plan = planOf(first, "set-forward-accept");
      assert.deepEqual(plan.commands, [
        { node: NODE, argv: ["iptables-nft", "-A", "FORWARD", "-s", NETWORK, "-j", "ACCEPT"] },
        { node: NODE, argv: ["iptables-nft", "-A", "FORWARD", "-d", NETWORK, "-j", "ACCEPT"] },
      ]);
      const legacyBefore = await hostExec(env.kc, NODE, "iptables-legacy", "-S", "FORWARD");
      const { outcome, steps } = await env.fix(plan, await env.fingerprint(plan));
      assertApplied(outcome);
      assert.deepEqual(
        steps.filter((s) => s.kind === "command").map((s) => s.kind === "command" && s.verified),
        ["iptables-nft -C FORWARD: rule present", "iptables-nft -C FORWARD: rule present"],
      );
      assert.match(await hostExec(env.kc, NODE, "iptables-nft", "-S", "FORWARD"), /-A FORWARD -s 10\.240\.0\.0\/16 -j ACCEPT/);
      assert.equal(await hostExec(env.kc, NODE, "iptables-legacy", "-S", "FORWARD"), legacyBefore, "legacy, flannel's backend, untouched");

      const after = await env.check();
      assert.deepEqual(ids(after), ["cluster-healthy"]);
      assert.equal(compareReports(first, after).verdict, "fixed");
      for (const [from, to] of [
        ["kube-cp", NODE],
        [NODE, "kube-w1"],
        ["kube-w1", NODE],
      ] as const)
        assert.equal(await podPing(env.kc, from, to), true, `${from} → ${to}`);

      assert.deepEqual(
        outcome.rollback.commands?.map((c) => c.argv.slice(0, 2)),
        [
          ["iptables-nft", "-D"],
          ["iptables-nft", "-D"],
        ],
      );
      const { outcome: undone } = await env.fix(outcome.rollback, outcome.rollbackFingerprint);
      assertApplied(undone);
      assert.doesNotMatch(await hostExec(env.kc, NODE, "iptables-nft", "-S", "FORWARD"), /10\.240\.0\.0\/16/);
      assert.deepEqual(ids(await env.check()), SPLIT);
      assert.equal(await podPing(env.kc, "kube-cp", NODE), false, "dropped again after the rollback");
      t.diagnostic(`rollback: ${outcome.rollback.diff.join(" | ")}`);
    } finally {
      await env.stop();
    }
  });

  test("a change in iptables-nft's filter table after the plan was made refuses the fix", async () => {
    const env = await openFixLab("iptables-backend-split");
    try {
      const plan = planOf(await env.check(), "set-forward-accept");
      const fp = await env.fingerprint(plan);
      await hostExec(env.kc, NODE, "iptables-nft", "-A", "INPUT", "-p", "tcp", "--dport", "9", "-j", "ACCEPT");
      const { outcome, steps } = await env.fix(plan, fp);
      assert.deepEqual(outcome, { status: "refused-drift", reason: `iptables rules on ${NODE} changed since the plan was made` });
      assert.deepEqual(steps, []);
    } finally {
      await env.stop();
    }
  });
});

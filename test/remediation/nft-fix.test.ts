// open-vxlan-port against a native nftables drop, on the real lab
// (nft-drop-vxlan: firewalld's `inet firewalld` table on wrk-02 drops udp
// 8472): the accept is inserted right before the drop through the host agent,
// read back with nft, pods reach each other; its rollback deletes that rule
// by its handle and the drop is back. Drift in the chain refuses the fix.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareReports } from "../../src/remediation/compare-reports.js";
import { assertApplied, hostExec, ids, openFixLab, planOf, podPing } from "./fix-lab.js";

const CHAIN = ["inet", "firewalld", "filter_INPUT"];
const listChain = (kc: string) => hostExec(kc, "wrk-02", "nft", "-a", "list", "chain", ...CHAIN);

describe("open-vxlan-port in nftables", () => {
  test("nft-drop-vxlan: the accept before firewalld's drop makes it healthy; the rollback deletes it by handle", async (t) => {
    const env = await openFixLab("nft-drop-vxlan");
    try {
      const first = await env.check();
      assert.deepEqual(ids(first), ["udp-vxlan-blocked"]);
      const finding = first.findings[0]!;
      assert.ok(finding.evidence.includes("wrk-02: nft inet firewalld filter_INPUT: udp dport 8472 drop"), finding.evidence.join("\n"));
      assert.equal(await podPing(env.kc, "wrk-01", "wrk-02"), false, "VXLAN into wrk-02 is dropped before the fix");

      const plan = planOf(first, "open-vxlan-port");
      const drop = /udp dport 8472 drop # handle (\d+)/.exec(await listChain(env.kc))?.[1];
      assert.ok(drop, "the lab's drop rule and its handle");
      assert.deepEqual(plan.diff, [
        `wrk-02: nft insert rule ${CHAIN.join(" ")} position ${drop} ip saddr { 10.60.4.21, 10.60.4.22 } udp dport 8472 accept comment xnode-open-vxlan-port`,
      ]);

      const { outcome, steps } = await env.fix(plan, await env.fingerprint(plan));
      assertApplied(outcome);
      const commandSteps = steps.filter((s) => s.kind === "command");
      assert.equal(commandSteps.length, 1);
      assert.match(commandSteps[0]!.verified, new RegExp(`as handle \\d+, before handle ${drop}$`));
      const fixed = await listChain(env.kc);
      const added = new RegExp(
        `ip saddr \\{ 10\\.60\\.4\\.21, 10\\.60\\.4\\.22 \\} udp dport 8472 accept comment "xnode-open-vxlan-port" # handle (\\d+)\\n\\s*udp dport 8472 drop # handle ${drop}\\n`,
      ).exec(fixed)?.[1];
      assert.ok(added, `the accept sits right before the drop, read back with nft:\n${fixed}`);
      assert.deepEqual(outcome.rollback.diff, [`wrk-02: nft delete rule ${CHAIN.join(" ")} handle ${added}`]);

      const after = await env.check();
      assert.deepEqual(ids(after), ["cluster-healthy"]);
      assert.equal(compareReports(first, after).verdict, "fixed");
      assert.equal(await podPing(env.kc, "wrk-01", "wrk-02"), true, "pods reach each other after the fix");

      const { outcome: undone } = await env.fix(outcome.rollback, outcome.rollbackFingerprint);
      assertApplied(undone);
      assert.doesNotMatch(await listChain(env.kc), /xnode-open-vxlan-port/, "the rollback removed the rule");
      assert.deepEqual(ids(await env.check()), ["udp-vxlan-blocked"]);
      assert.equal(await podPing(env.kc, "wrk-01", "wrk-02"), false, "and the drop is back");
      t.diagnostic(`fix: ${plan.diff.join(" | ")}; rollback: ${outcome.rollback.diff.join(" | ")}`);
    } finally {
      await env.stop();
    }
  });

  test("nft-drop-vxlan: a rule added to the chain after the fingerprint refuses the fix; nothing runs", async () => {
    const env = await openFixLab("nft-drop-vxlan");
    try {
      const plan = planOf(await env.check(), "open-vxlan-port");
      const fp = await env.fingerprint(plan);
      await hostExec(env.kc, "wrk-02", "nft", "insert", "rule", ...CHAIN, "tcp", "dport", "9", "accept");
      const { outcome, steps } = await env.fix(plan, fp);
      assert.deepEqual(outcome, { status: "refused-drift", reason: "nftables rules on wrk-02 changed since the plan was made" });
      assert.deepEqual(steps, []);
      assert.doesNotMatch(await listChain(env.kc), /xnode-open-vxlan-port/, "the fix's rule was not added");
    } finally {
      await env.stop();
    }
  });
});

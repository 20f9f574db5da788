// The fix thread's messages: decisions replace buttons, refusals offer Re-run,
// before/after carries the verdict and Rollback (urgent when worse), the audit
// lists entries; all within Slack's limits.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compareReports } from "../../src/remediation/compare-reports.js";
import { actions, button, section } from "../../src/slack/render/blocks.js";
import { decisionText, renderAudit, renderBeforeAfter, renderDiff, renderRefused, withDecision, ROLLBACK_ACTION } from "../../src/slack/render/render-fix.js";
import { healthyReport, seedReport } from "./report-fixtures.js";
import { allText, validateMessage } from "./validate-message.js";

type Btn = { action_id: string; style?: string; value: string };
const buttons = (m: { blocks?: unknown[] }) =>
  ((m.blocks ?? []) as { type: string; elements?: Btn[] }[]).filter((b) => b.type === "actions").flatMap((b) => b.elements ?? []);

describe("fix messages", () => {
  test("a decision replaces the buttons with who decided", () => {
    const blocks = [section("finding"), actions("a", [button({ actionId: "xnode_approve_0", text: "Approve", value: "x" })])];
    const out = withDecision(blocks, decisionText("approved", "U0APPROVE1", "patch-flannel-iface"));
    assert.deepEqual(
      out.map((b) => b.type),
      ["section", "context"],
    );
    assert.match(JSON.stringify(out), /`patch-flannel-iface` approved by <@U0APPROVE1>/);
    assert.match(decisionText("rejected", "U0BOB0001"), /Rejected by <@U0BOB0001>; nothing was changed/);
  });

  test("before/after: fixed, with Rollback and Re-run, and the non-persistent note", () => {
    const cmp = compareReports(seedReport, healthyReport);
    const m = renderBeforeAfter(cmp, seedReport, healthyReport, {
      cluster: "lab",
      purpose: "fix",
      rollbackValue: "r".repeat(32),
      persistentNote: "This change does not survive a reboot.",
    });
    assert.deepEqual(validateMessage(m), []);
    const text = allText(m);
    assert.match(text, /Fix result: fixed/);
    assert.match(text, /resolved: `vtep-duplicate-public-ip`/);
    assert.match(text, /does not survive a reboot/);
    const b = buttons(m);
    assert.deepEqual(
      b.map((x) => x.action_id),
      [ROLLBACK_ACTION, "xnode_rerun"],
    );
    assert.equal(b[0]!.style, undefined, "a routine rollback is not styled as danger");
  });

  test("before/after: worse says so and offers Rollback at once, in red", () => {
    const cmp = compareReports(healthyReport, seedReport);
    assert.equal(cmp.verdict, "worse");
    const m = renderBeforeAfter(cmp, healthyReport, seedReport, {
      cluster: "lab",
      purpose: "fix",
      rollbackValue: "r".repeat(32),
      failure: "rollout timed out",
    });
    const text = allText(m);
    assert.match(text, /The cluster is worse than before/);
    assert.match(text, /The fix failed part-way:\* rollout timed out/);
    assert.equal(buttons(m)[0]!.style, "danger");
  });

  test("a refusal explains and offers Re-run only", () => {
    const m = renderRefused("DaemonSet kube-system/kube-flannel-ds changed: resourceVersion 18 → 25", "lab", "Fix refused: the cluster changed since the plan");
    assert.deepEqual(validateMessage(m), []);
    assert.match(allText(m), /Nothing was changed/);
    assert.deepEqual(
      buttons(m).map((x) => [x.action_id, x.value]),
      [["xnode_rerun", "lab"]],
    );
  });

  test("the diff is shown in a code block with the dry-run note", () => {
    const m = renderDiff(["args: [a] → [a, b]"], "server-side dry run ok");
    assert.match(allText(m), /About to apply\* \(server-side dry run ok\):\n```\nargs: \[a\] → \[a, b\]\n```/);
  });

  test("the audit lists entries newest first, escaped, within limits", () => {
    const now = new Date("2026-11-26T10:00:00Z");
    const entries = Array.from({ length: 60 }, (_, i) => ({
      event: i % 2 ? ("approved" as const) : ("refused" as const),
      who: i % 3 ? "U0APPROVE1" : "<script>",
      cluster: "lab",
      at: new Date(now.getTime() - i * 60_000).toISOString(),
      planHash: "a".repeat(64),
      kind: "add-routes",
      result: "two-person rule & <friends>",
    }));
    const m = renderAudit("lab", entries, now);
    assert.deepEqual(validateMessage(m), []);
    const text = allText(m);
    assert.match(text, /\*approved\* `add-routes` by <@U0APPROVE1> plan `aaaaaaaaaaaa`/);
    assert.match(text, /&lt;script&gt;/);
    assert.doesNotMatch(text, /<script>/);
    assert.match(allText(renderAudit("lab", [], now)), /No audit entries/);
  });
});

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ActionsBlock, SlackMessage } from "../../src/slack/render/blocks.js";
import { renderReportMessages, type ReportRenderOptions } from "../../src/slack/render/render-report.js";
import { bigReport, healthyReport, longEvidenceReport, podMatrix, seedReport, sixtyNodeReport } from "./report-fixtures.js";
import { allText, validateMessage } from "./validate-message.js";

const withButtons: ReportRenderOptions = {
  actionsFor: ({ cause, consequences }) => ({
    approvals: [cause, ...consequences].flatMap((f) => f.remediations.map((r) => ({ kind: r.kind, value: `approve:${f.id}:${r.kind}` }))),
    rejectValue: `reject:${cause.id}`,
    rerunValue: "rerun:cluster-a",
  }),
};

const actionsOf = (m: SlackMessage) => m.blocks.filter((b): b is ActionsBlock => b.type === "actions");

describe("renderReportMessages", () => {
  it("every message of every fixture stays within Slack's limits", () => {
    for (const report of [seedReport, healthyReport, bigReport, longEvidenceReport, sixtyNodeReport]) {
      for (const [i, message] of renderReportMessages(report, withButtons).entries()) {
        assert.deepEqual(validateMessage(message), [], `${report.cluster} message ${i}`);
      }
    }
  });

  it("60 nodes with failures everywhere: every message within the text budget, each cause once with its buttons, the rest attached", () => {
    const messages = renderReportMessages(sixtyNodeReport, withButtons);
    assert.equal(messages.length, 5, "summary, matrix, three causes");
    for (const [i, m] of messages.entries()) assert.deepEqual(validateMessage(m), [], `message ${i}`);
    assert.equal(messages.needsAttachment, true);
    const summary = allText(messages[0]!);
    for (const id of ["route-missing", "udp-vxlan-blocked", "connectivity-unexplained"]) assert.match(summary, new RegExp(id), `the summary lists ${id}`);
    assert.match(summary, /ip-10-0-5-69\.eu-west-1/, "all 60 node lines fit");
    assert.match(allText(messages[1]!), /grouped by/, "failing pairs grouped by node, not 3,540 pairs");
    assert.doesNotMatch(allText(messages[1]!), /Slack limits how much text/, "the grouped pairs fit without a budget cut: fewer names per line");
    assert.match(allText(messages[1]!), /\(\+\d+ more\)/, "each group names a few nodes and counts the rest");
    assert.deepEqual(
      messages.slice(2).map((m) => actionsOf(m).flatMap((a) => a.elements.map((e) => e.action_id))),
      [["xnode_approve_0", "xnode_reject", "xnode_rerun"], ["xnode_approve_0", "xnode_reject", "xnode_rerun"], []],
      "every cause with a fix keeps its buttons",
    );
    assert.match(allText(messages[2]!), /route-missing/);
  });

  it("seed: summary, matrix, then one message for the one cause, its consequences folded in", () => {
    const messages = renderReportMessages(seedReport, withButtons);
    assert.equal(messages.length, 3, "one cause: vtep-wrong-interface");
    assert.equal(messages.needsAttachment, false);
    const [summary, matrix, cause] = messages.map(allText);
    assert.match(summary!, /\*k8s-master1\* · InternalIP `10\.0\.2\.15` · podCIDR `10\.244\.0\.0\/24` · public-ip `10\.0\.2\.15`/);
    assert.match(summary!, /0\/2 pod-to-pod pairs reachable/);
    assert.match(summary!, /:x: 3 problems/);
    assert.match(matrix!, /:heavy_minus_sign: :x: {3}1\. k8s-master1/);
    assert.match(matrix!, /:x: :heavy_minus_sign: {3}2\. k8s-node1/);
    assert.match(matrix!, /default\/nginx-svc\*: 1\/2 probes answered/);
    assert.match(matrix!, /from k8s-node1 to `192\.168\.56\.101:30309` on k8s-master1: connection refused/);
    assert.match(cause!, /vtep-wrong-interface/);
    assert.match(cause!, /--iface=enp0s8\]/);
    assert.match(cause!, /\*This also explains 2 findings\*/);
    assert.match(cause!, /\*vtep-duplicate-public-ip\* \(k8s-master1, k8s-node1\)\n {6}↳ public-ip 10\.0\.2\.15 on k8s-master1 and k8s-node1/);
    assert.match(cause!, /local 10\.0\.2\.15 dev enp0s3 dstport 8472/);
    assert.match(cause!, /\*nodeport-unreachable\* \(k8s-master1\)/);
  });

  it("seed: the trace is shown once, and stops at the first broken hop", () => {
    const text = allText(renderReportMessages(seedReport)[2]!);
    assert.equal(text.match(/\*Path k8s-master1 → k8s-node1\*/g)?.length, 1);
    assert.match(text, /✅ \*route\*: k8s-master1: 10\.244\.1\.2 → 10\.244\.1\.0\/24/);
    assert.match(text, /:grey_question: \*neighbour\*.*_\(not verified\)_/);
    assert.match(text, /❌ \*VXLAN FDB\*: k8s-master1 FDB: 7a:10:e6:19:89:19 dst 10\.0\.2\.15/);
    assert.doesNotMatch(text, /destination pod/);
    assert.match(text, /2 later hops not shown/);
  });

  it("seed: each fix once, with its diff in a code block, its commands, the not-persistent note and its risks", () => {
    const text = allText(renderReportMessages(seedReport)[2]!);
    assert.match(text, /\*Fix 1: set --iface=enp0s8\* · `patch-flannel-iface`/);
    assert.ok(
      text.includes(
        "```\nkube-system/kube-flannel-ds-amd64 container kube-flannel\nargs: [--ip-masq, --kube-subnet-mgr] → [--ip-masq, --kube-subnet-mgr, --iface=enp0s8]\n```",
      ),
      text,
    );
    assert.match(text, /\*Fix 2: add 2 routes on 2 nodes\* · `add-routes`/);
    assert.equal(text.match(/ip route replace 10\.244\.1\.0\/24 via 192\.168\.56\.102 dev enp0s8/g)?.length, 1, "the route command once");
    assert.match(text, /Not persistent: lost when the node reboots/);
    assert.equal(text.match(/Not persistent/g)?.length, 1, "only add-routes is not persistent");
    assert.match(text, /• flannel pods restart one node at a time/);
  });

  it("buttons say what they do, on the cause that has fixes, carrying the values actionsFor gave", () => {
    const messages = renderReportMessages(seedReport, withButtons);
    assert.deepEqual(
      messages.map((m) => actionsOf(m).length),
      [0, 0, 1],
    );
    const buttons = actionsOf(messages[2]!)[0]!.elements;
    assert.deepEqual(
      buttons.map((b) => [b.action_id, b.text.text, b.value, b.style]),
      [
        ["xnode_approve_0", "Approve: set --iface=enp0s8", "approve:vtep-wrong-interface:patch-flannel-iface", "primary"],
        ["xnode_approve_1", "Approve: add 2 routes on 2 nodes", "approve:vtep-wrong-interface:add-routes", "primary"],
        ["xnode_reject", "Reject", "reject:vtep-wrong-interface", undefined],
        ["xnode_rerun", "Re-run", "rerun:cluster-a", undefined],
      ],
    );
    assert.match(buttons[0]!.confirm!.text.text, /^Apply patch-flannel-iface to cluster-a for vtep-wrong-interface/);
    assert.match(buttons[1]!.confirm!.text.text, /^Apply add-routes to cluster-a for vtep-wrong-interface/);
    assert.equal(buttons[2]!.confirm, undefined);
  });

  it("no buttons without actionsFor, or when it returns nothing", () => {
    for (const opts of [{}, { actionsFor: () => undefined }]) {
      assert.ok(renderReportMessages(seedReport, opts).every((m) => actionsOf(m).length === 0));
    }
  });

  it("an approver-less caller can leave out Approve and Reject and keep Re-run", () => {
    const messages = renderReportMessages(seedReport, { actionsFor: () => ({ rerunValue: "r" }) });
    assert.deepEqual(
      actionsOf(messages[2]!)[0]!.elements.map((b) => b.action_id),
      ["xnode_rerun"],
    );
  });

  it("healthy: all pairs reachable, a full grid of checks, no buttons", () => {
    const messages = renderReportMessages(healthyReport, withButtons);
    assert.ok(messages.every((m) => actionsOf(m).length === 0));
    assert.match(allText(messages[0]!), /:white_check_mark: healthy · :white_check_mark: All 6 pod-to-pod pairs reachable/);
    assert.match(allText(messages[1]!), /:white_check_mark: :heavy_minus_sign: :white_check_mark: {3}2\. node-b/);
    assert.match(allText(messages[2]!), /:white_check_mark: cluster-healthy/);
    assert.equal(messages.needsAttachment, false);
  });

  it("25 nodes: failing pairs grouped by the node most of them go to, not a grid", () => {
    const messages = renderReportMessages(bigReport, withButtons);
    const summary = allText(messages[0]!);
    const matrix = allText(messages[1]!);
    assert.doesNotMatch(matrix, /heavy_minus_sign/, "no grid");
    assert.match(matrix, /Failing pairs grouped by destination node/);
    assert.match(matrix, /:x: \*node-07\* unreachable from 23\/24 nodes: node-01, node-02, node-03, node-04, node-05, node-06, node-08/);
    assert.match(matrix, /\(\+11 more\)/);
    assert.match(matrix, /:x: \*node-03\* unreachable from 1\/24 nodes: node-12/);
    assert.match(matrix, /\*Pod to pod:\* 552\/600 pairs reachable · 24 failing · 24 not probed/);
    assert.match(summary, /:warning: \*node-25\* was not probed: exec into xnode-host-agent-9zq4t timed out after 20 s/);
    assert.match(summary, /\*Nodes\*\n25 \(24 probed\)/);
    assert.equal(messages.needsAttachment, true, "names beyond 12 per group were left out");
  });

  it("200 long evidence lines are cut with a note pointing at the full report", () => {
    const messages = renderReportMessages(longEvidenceReport, withButtons);
    const finding = allText(messages[2]!);
    const shown = finding.split("\n").filter((l) => l.startsWith("• node-03 iptables")).length;
    assert.ok(shown >= 10 && shown < 200, `${shown} lines shown`);
    assert.ok(
      finding.includes(`… ${200 - shown} more lines not shown; full report: \`xnode check cluster-c --json\` or the attached file`),
      finding.slice(-400),
    );
    assert.equal(messages.needsAttachment, true);
    assert.equal(actionsOf(messages[2]!).length, 1, "the buttons survive the cut");
  });

  it("a pathological report (80 nodes, 10 fixes of 100 diff lines and commands each) still fits, and says it was cut", () => {
    const nodes = Array.from({ length: 80 }, (_, i) => ({ name: `worker-${i}-${"n".repeat(40)}`, probed: i % 7 !== 0, error: "e".repeat(900) }));
    const plan = bigReport.findings[1]!.remediations[0]!;
    const fix = (n: number) => ({
      ...plan,
      diff: Array.from({ length: 100 }, (_, i) => `fix ${n} line ${i} ${"d".repeat(120)}`),
      commands: Array.from({ length: 100 }, (_, i) => ({ node: nodes[i % 80]!.name, argv: ["sysctl", "-w", `x${i}=${"v".repeat(80)}`] })),
      risks: Array.from({ length: 40 }, () => "r".repeat(200)),
    });
    const report = {
      ...bigReport,
      nodes,
      matrix: podMatrix(nodes, (from, to) => (from.length + to.length) % 3 === 0 || to.startsWith("worker-1")),
      findings: [{ ...bigReport.findings[1]!, nodes: nodes.map((n) => n.name), remediations: Array.from({ length: 10 }, (_, n) => fix(n)) }],
    };
    const messages = renderReportMessages(report, withButtons);
    for (const [i, m] of messages.entries()) assert.deepEqual(validateMessage(m), [], `message ${i}`);
    assert.equal(messages.needsAttachment, true);
    assert.equal(actionsOf(messages[2]!).length, 1);
    assert.match(allText(messages[2]!), /… 4 more fixes not shown/);
  });

  it("escapes & < > in cluster, node and evidence text", () => {
    const report = {
      ...seedReport,
      cluster: "a<b>&c",
      nodes: [{ ...seedReport.nodes[0]!, name: "<!channel>" }, seedReport.nodes[1]!],
      findings: [{ ...seedReport.findings[0]!, evidence: ["drop if src <> 10.0.0.0/8 && dport > 1024"] }],
    };
    const messages = renderReportMessages(report, withButtons);
    for (const m of messages) assert.deepEqual(validateMessage(m), []);
    const text = messages.map(allText).join("\n");
    assert.match(text, /&lt;!channel&gt;/);
    assert.match(text, /drop if src &lt;&gt; 10\.0\.0\.0\/8 &amp;&amp; dport &gt; 1024/);
    assert.match(text, /`xnode check a&lt;b&gt;&amp;c --json`|a&lt;b&gt;&amp;c/);
    assert.equal(messages[0]!.blocks[0]!.type === "header" && messages[0]!.blocks[0]!.text.text, "xnode check: a<b>&c", "plain text is not escaped");
  });
});

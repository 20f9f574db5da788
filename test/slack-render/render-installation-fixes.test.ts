// How installation-specific fixes read in Slack and the terminal: k3s's
// manual steps without an Approve button next to the approvable stopgap, a
// GitOps-managed patch with its revert warning and the YAML to commit, and the
// re-check's "reverted by <manager>".
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { renderTextReport } from "../../src/cli/render-text-report.js";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import { causeGroups, type CheckEvidence, type CheckReport } from "../../src/model/index.js";
import { compareReports } from "../../src/remediation/compare-reports.js";
import type { ActionsBlock } from "../../src/slack/render/blocks.js";
import { renderFinding } from "../../src/slack/render/render-finding.js";
import { renderBeforeAfter } from "../../src/slack/render/render-fix.js";
import * as fx from "../diagnosis/fixtures.js";
import { allText, validateMessage } from "./validate-message.js";

function reportOf(ev: CheckEvidence): CheckReport {
  return {
    cluster: ev.snapshot.cluster,
    startedAt: "2025-03-04T10:12:00.000Z",
    durationMs: 1200,
    nodes: ev.snapshot.nodes.map((n) => ({ name: n.name, internalIP: n.internalIP, podCIDR: n.podCIDR, publicIP: n.flannel.publicIP, probed: true })),
    matrix: ev.matrix,
    findings: diagnose(ev),
  };
}

function k3sSeed(): CheckReport {
  const ev = fx.seedVirtualboxNat();
  ev.snapshot.flannel.distribution = "k3s";
  delete ev.snapshot.flannel.daemonSet;
  ev.snapshot.flannel.pods = [];
  return reportOf(ev);
}

function argoSeed(): CheckReport {
  const ev = fx.seedVirtualboxNat();
  ev.snapshot.flannel.distribution = "helm";
  ev.snapshot.flannel.manager = { kind: "argocd", evidence: "label argocd.argoproj.io/instance=flannel", release: "flannel" };
  return reportOf(ev);
}

/** What the worker issues: one approval per approvable plan (issue-approvals.ts skips steps for a person). */
function render(report: CheckReport, offerEveryPlan = false) {
  const group = causeGroups(report.findings).find((g) => g.cause.id === "vtep-wrong-interface")!;
  const plans = [group.cause, ...group.consequences].flatMap((f) => f.remediations);
  const approvals = plans.filter((p) => offerEveryPlan || p.approvable !== false).map((p) => ({ kind: p.kind, value: `approve:${p.kind}` }));
  return renderFinding(group, { cluster: report.cluster, index: 0, total: 1, actions: { approvals, rejectValue: "reject", rerunValue: "rerun" } }).message;
}

const buttons = (m: ReturnType<typeof render>) =>
  m.blocks.filter((b): b is ActionsBlock => b.type === "actions").flatMap((a) => a.elements.map((e) => ("text" in e ? e.text.text : "")));

describe("k3s: steps without a button beside the approvable stopgap", () => {
  it("Slack: the steps are listed and said to be manual; the only Approve button is add-routes's", () => {
    const m = render(k3sSeed());
    assert.deepEqual(validateMessage(m), []);
    const text = allText(m);
    assert.match(text, /Steps for you to carry out on the nodes: xnode cannot make this change through the API, so there is no Approve button/);
    assert.match(text, /\*Steps\*\n1\. On k8s-master1: in \/etc\/rancher\/k3s\/config\.yaml add `flannel-iface: enp0s8`/);
    assert.deepEqual(buttons(m), ["Approve: add 2 routes on 2 nodes", "Reject", "Re-run"]);
  });

  it("Slack: even when offered an approval for the manual plan, no button appears for it", () => {
    assert.deepEqual(buttons(render(k3sSeed(), true)), ["Approve: add 2 routes on 2 nodes", "Reject", "Re-run"]);
  });

  it("terminal: the plan says it is steps for you, one line per step", () => {
    const text = renderTextReport(k3sSeed());
    assert.match(text, /fix a\) patch-flannel-iface: .* \(steps for you to carry out: xnode cannot apply this\)/);
    assert.match(text, /step 1: On k8s-master1: in \/etc\/rancher\/k3s\/config\.yaml add `flannel-iface: enp0s8`/);
    assert.match(text, /fix b\) add-routes: /);
  });
});

describe("a patch Argo CD will revert", () => {
  it("Slack: the summary and a warning say it is temporary; the YAML to commit is shown whole in a code block", () => {
    const m = render(argoSeed());
    assert.deepEqual(validateMessage(m), []);
    const text = allText(m);
    assert.match(text, /Temporary: argocd reverts this at its next sync or upgrade unless the values below are committed/);
    assert.match(text, /the next Argo CD sync reverts it unless the values shown are committed/);
    assert.match(
      text,
      /\*To keep it, commit to the values of flannel's chart in Argo CD application flannel \(chart value flannel\.args\):\*\n```\nflannel:\n {2}args:\n {4}- --ip-masq\n {4}- --kube-subnet-mgr\n {4}- --iface=enp0s8\n```/,
    );
    assert.deepEqual(buttons(m), ["Approve: set --iface=enp0s8", "Approve: add 2 routes on 2 nodes", "Reject", "Re-run"]);
  });

  it("terminal: the values to commit, indented under the plan", () => {
    const text = renderTextReport(argoSeed());
    assert.match(
      text,
      /temporary: argocd reverts it; to keep it, commit to the values of flannel's chart in Argo CD application flannel \(chart value flannel\.args\):\n {10}flannel:\n {12}args:\n {14}- --ip-masq/,
    );
  });

  it("the fix result says reverted by argocd", () => {
    const before = argoSeed();
    const m = renderBeforeAfter(compareReports(before, before), before, before, {
      cluster: before.cluster,
      purpose: "fix",
      revertedBy: "DaemonSet kube-system/kube-flannel-ds-amd64 no longer holds the change: reverted by argocd (label argocd.argoproj.io/instance=flannel)",
    });
    assert.deepEqual(validateMessage(m), []);
    assert.match(
      allText(m),
      /:rewind: \*Reverted:\* DaemonSet kube-system\/kube-flannel-ds-amd64 no longer holds the change: reverted by argocd \(label argocd\.argoproj\.io\/instance=flannel\)/,
    );
  });
});

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CheckReport, Finding, MatrixEntry } from "../../src/model/index.js";
import { compareReports } from "../../src/remediation/compare-reports.js";

const nodes = ["a", "b", "c"];

function report(findings: Finding["id"][], failing: [string, string][]): CheckReport {
  const matrix: MatrixEntry[] = nodes.flatMap((from) =>
    nodes
      .filter((to) => to !== from)
      .flatMap((to) =>
        (["pod-icmp", "pod-tcp"] as const).map((kind) => ({ from, to, kind, target: "x", ok: !failing.some(([f, t]) => f === from && t === to) })),
      ),
  );
  return {
    cluster: "c",
    startedAt: "2024-01-01T00:00:00Z",
    durationMs: 1,
    nodes: nodes.map((name) => ({ name, probed: true })),
    matrix,
    findings: findings.map((id) => ({ id, severity: "critical", nodes: [], evidence: [], explanation: "", remediations: [] })),
  };
}

const broken: [string, string][] = [
  ["a", "c"],
  ["b", "c"],
  ["c", "a"],
  ["c", "b"],
];

describe("compareReports", () => {
  test("fixed: only cluster-healthy after", () => {
    const cmp = compareReports(report(["forward-policy-drop"], broken), report(["cluster-healthy"], []));
    assert.deepEqual(cmp, {
      verdict: "fixed",
      resolved: ["forward-policy-drop"],
      remaining: [],
      appeared: [],
      pairs: { before: { ok: 2, total: 6 }, after: { ok: 6, total: 6 } },
    });
  });

  test("partly fixed: a finding resolved, or more pairs reachable", () => {
    const before = report(["vtep-duplicate-public-ip", "vtep-wrong-interface"], broken);
    assert.equal(compareReports(before, report(["vtep-duplicate-public-ip"], [])).verdict, "partly fixed");
    assert.equal(compareReports(report(["route-missing"], broken), report(["route-missing"], [["a", "c"]])).verdict, "partly fixed");
  });

  test("not fixed: same findings, same pairs", () => {
    const cmp = compareReports(report(["ip-forward-disabled"], broken), report(["ip-forward-disabled"], broken));
    assert.deepEqual([cmp.verdict, cmp.remaining], ["not fixed", ["ip-forward-disabled"]]);
  });

  test("worse: fewer reachable pairs, or a new finding, even when another resolved", () => {
    assert.equal(compareReports(report(["route-missing"], [["a", "c"]]), report(["route-missing"], broken)).verdict, "worse");
    const cmp = compareReports(report(["route-missing"], broken), report(["flannel-pod-not-ready"], broken));
    assert.deepEqual([cmp.verdict, cmp.resolved, cmp.appeared], ["worse", ["route-missing"], ["flannel-pod-not-ready"]]);
  });

  test("a pair counts only when both ICMP and TCP answered", () => {
    const r = report(["cluster-healthy"], []);
    r.matrix = r.matrix.filter((e) => !(e.from === "a" && e.to === "b" && e.kind === "pod-tcp"));
    assert.deepEqual(compareReports(r, r).pairs.after, { ok: 5, total: 6 });
  });
});

// add-routes on the seed lab: routes over the host-only network make every
// pod pair reachable while flannel still advertises 10.0.2.15 on both nodes
// (the routes bypass VXLAN; they do not change what flannel announces), and
// the rollback puts flannel's own routes back exactly.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CheckReport } from "../../src/model/index.js";
import { countPodPairs } from "../../src/model/index.js";
import { compareReports } from "../../src/remediation/compare-reports.js";
import type { FixOutcome } from "../../src/remediation/execute-fix.js";
import { assertApplied, hostExec, ids, openFixLab, planOf, podPing, type FixLab } from "./fix-lab.js";

const PEER_CIDR: Record<string, string> = { "k8s-master1": "10.244.1.0/24", "k8s-node1": "10.244.0.0/24" };

describe("add-routes on seed-virtualbox-nat", () => {
  let env: FixLab;
  let firstReport: CheckReport;
  let flannelRoutes: Record<string, string>;
  let applied: Extract<FixOutcome, { status: "applied" }>;
  before(async () => (env = await openFixLab("seed-virtualbox-nat")));
  after(async () => env?.stop());

  test("routes via enp0s8 make every pod pair reachable; only vtep-duplicate-public-ip remains", async () => {
    firstReport = await env.check();
    flannelRoutes = {};
    for (const [node, cidr] of Object.entries(PEER_CIDR)) flannelRoutes[node] = (await hostExec(env.kc, node, "ip", "route", "show", cidr)).trim();
    assert.deepEqual(flannelRoutes, {
      "k8s-master1": "10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink",
      "k8s-node1": "10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink",
    });
    const plan = planOf(firstReport, "add-routes");
    const { outcome, steps } = await env.fix(plan, await env.fingerprint(plan));
    assertApplied(outcome);
    assert.deepEqual(
      steps
        .filter((s) => s.kind === "command")
        .map((s) => s.text)
        .sort(),
      [
        "k8s-master1: ip route replace 10.244.1.0/24 via 192.168.56.102 dev enp0s8 → ip route show 10.244.1.0/24: 10.244.1.0/24 via 192.168.56.102 dev enp0s8",
        "k8s-node1: ip route replace 10.244.0.0/24 via 192.168.56.101 dev enp0s8 → ip route show 10.244.0.0/24: 10.244.0.0/24 via 192.168.56.101 dev enp0s8",
      ],
    );

    const after = await env.check();
    // The pod matrix now works, so vtep-wrong-interface (which needs a failing
    // overlay) and nodeport-unreachable are gone; both Node annotations still
    // say public-ip 10.0.2.15, which is what vtep-duplicate-public-ip reports.
    assert.deepEqual(ids(after), ["vtep-duplicate-public-ip"]);
    assert.match(after.findings[0]!.evidence.join("\n"), /public-ip 10\.0\.2\.15 on k8s-master1 and k8s-node1/);
    const pairs = countPodPairs(after);
    assert.deepEqual(pairs, { ok: 2, total: 2 });
    const cmp = compareReports(firstReport, after);
    assert.deepEqual([cmp.verdict, cmp.resolved, cmp.appeared], ["partly fixed", ["vtep-wrong-interface", "nodeport-unreachable"], []]);
    assert.equal(await podPing(env.kc, "k8s-master1", "k8s-node1"), true);
    applied = outcome;
  });

  test("the rollback restores flannel's routes exactly and the original findings", async () => {
    assert.ok(applied, "the fix above applied");
    assert.deepEqual([...applied.rollback.diff].sort(), [
      "k8s-master1: ip route replace 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink",
      "k8s-node1: ip route replace 10.244.0.0/24 via 10.244.0.0 dev flannel.1 onlink",
    ]);
    const { outcome } = await env.fix(applied.rollback, applied.rollbackFingerprint);
    assertApplied(outcome);
    for (const [node, cidr] of Object.entries(PEER_CIDR)) {
      assert.equal((await hostExec(env.kc, node, "ip", "route", "show", cidr)).trim(), flannelRoutes[node]);
    }
    assert.deepEqual(ids(await env.check()), ids(firstReport));
  });
});

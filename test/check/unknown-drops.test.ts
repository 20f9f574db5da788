// Drops xnode has no rule for, added from outside the lab's vocabulary into a
// healthy lab's node namespaces: the check must never read them as healthy.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCheck } from "../../src/check/run-check.js";
import { createKubeClient } from "../../src/kube/kube-client.js";
import { problemsOf } from "../../src/model/index.js";
import { run, startLab, type StartedLab } from "../helpers/lab-fixture.js";

async function nft(lab: StartedLab, node: string, ruleset: string): Promise<void> {
  const netns = lab.lab.topology.nodes[node]?.netns;
  assert.ok(netns, `node ${node} in the lab`);
  // the ruleset is this test's own text, passed as a positional parameter
  const r = await run(["sh", "-c", 'printf "%s\\n" "$1" | ip netns exec "$2" nft -f -', "nft", ruleset, netns]);
  assert.equal(r.code, 0, r.stderr);
}

async function check(lab: StartedLab) {
  const kube = createKubeClient({ cluster: "lab", kubeconfig: lab.kubeconfigPath });
  return (await runCheck(kube, { execTimeoutMs: 15_000, pingTimeoutSeconds: 1 })).report;
}

describe("drops from outside xnode's vocabulary never read as healthy", () => {
  let lab: StartedLab;
  before(async () => (lab = await startLab("healthy-three-nodes")));
  after(async () => lab?.stop());

  test("baseline: the lab is healthy", async () => {
    assert.deepEqual(
      (await check(lab)).findings.map((f) => f.id),
      ["cluster-healthy"],
    );
  });

  test("a netdev ingress drop of VXLAN on one node's NIC: connectivity-unexplained, last seen at that NIC", async () => {
    await nft(lab, "worker-1", "table netdev xnode-test {\n chain in {\n  type filter hook ingress device eth0 priority 0;\n  udp dport 8472 drop\n }\n}");
    try {
      const report = await check(lab);
      assert.ok(problemsOf(report.findings).length > 0, "not healthy");
      assert.ok(!report.findings.some((f) => f.id === "cluster-healthy"));
      assert.notEqual(report.findings.length, 0);
      const ids = report.findings.map((f) => f.id);
      const named = report.findings.filter((f) => f.id !== "cluster-healthy").flatMap((f) => f.nodes);
      assert.ok(named.includes("worker-1"), `${ids.join(", ")} name worker-1`);
      const unexplained = report.findings.find((f) => f.id === "connectivity-unexplained");
      if (unexplained) {
        assert.equal(unexplained.severity, "critical");
        assert.ok(unexplained.trace?.observed, "captures ran");
        assert.ok(
          unexplained.evidence.some((l) => /last seen at worker-1\/eth0|last seen at cp-0\/eth0|last seen at worker-0\/eth0/.test(l)),
          unexplained.evidence.join("\n"),
        );
      } else {
        assert.ok(ids.includes("udp-vxlan-blocked"), ids.join(", "));
      }
    } finally {
      await nft(lab, "worker-1", "delete table netdev xnode-test");
    }
  });

  test("an inet table dropping UDP 8472 on every node (firewalld on RHEL): never healthy", async () => {
    for (const n of ["cp-0", "worker-0", "worker-1"])
      await nft(lab, n, "table inet fw-test {\n chain in {\n  type filter hook input priority 10;\n  udp dport 8472 drop\n }\n}");
    try {
      const report = await check(lab);
      assert.ok(!report.findings.some((f) => f.id === "cluster-healthy"), report.findings.map((f) => f.id).join(", "));
      assert.ok(report.findings.some((f) => f.severity === "critical"));
      assert.ok(report.matrix.some((e) => !e.ok));
    } finally {
      for (const n of ["cp-0", "worker-0", "worker-1"]) await nft(lab, n, "delete table inet fw-test");
    }
  });
});

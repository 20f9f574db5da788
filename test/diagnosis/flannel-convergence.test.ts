// When a fix may call flannel converged: every node advertises the expected
// address, flannel.1 sits on it with the advertised MAC, and each node's
// neighbour and FDB entries match every peer's annotations. Ready pods alone
// (no readinessProbe before v0.28.9) never count.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { convergenceProblems } from "../../src/diagnosis/flannel-convergence.js";
import * as fx from "./fixtures.js";
import { host } from "./fixture-builder.js";

const SEED_NEW = { "k8s-master1": "192.168.56.101", "k8s-node1": "192.168.56.102" };

describe("convergenceProblems", () => {
  test("a programmed cluster with nothing expected: converged", () => {
    assert.deepEqual(convergenceProblems(fx.healthyThreeNodes()), []);
  });

  test("the seed before its fix is consistent but not on the expected addresses: one line per node", () => {
    assert.deepEqual(convergenceProblems(fx.seedVirtualboxNat(), SEED_NEW), [
      "k8s-master1: advertises public-ip 10.0.2.15, expected 192.168.56.101",
      "k8s-node1: advertises public-ip 10.0.2.15, expected 192.168.56.102",
    ]);
  });

  test("the annotation moved but flannel.1 not yet (readyBeforeProgrammed): not converged", () => {
    const ev = fx.seedVirtualboxNat();
    ev.snapshot.nodes[0]!.flannel.publicIP = "192.168.56.101";
    const lines = convergenceProblems(ev, SEED_NEW, ["k8s-master1"]);
    assert.deepEqual(lines.slice(0, 1), ["k8s-master1: flannel.1 local 10.0.2.15 ≠ public-ip 192.168.56.101"]);
  });

  test("a peer's FDB entry still pointing at the old address, a missing neighbour, a new MAC not yet advertised", () => {
    const ev = fx.healthyThreeNodes();
    const cp = host(ev, "cp-0");
    cp.fdb = cp.fdb!.map((e, i) => (i === 0 ? { ...e, dst: "172.31.10.99" } : e));
    cp.neighbours = cp.neighbours!.filter((n) => n.dev !== "flannel.1" || n.dst !== "10.42.2.0");
    host(ev, "worker-0").vxlan![0]!.mac = "0e:00:00:00:00:01";
    const lines = convergenceProblems(ev);
    assert.ok(
      lines.some((l) => /^cp-0 FDB: .* dst 172\.31\.10\.99, but worker-0.s public-ip is 172\.31\.10\.11/.test(l)),
      lines.join("\n"),
    );
    assert.ok(
      lines.some((l) => /^cp-0: no neighbour entry for 10\.42\.2\.0 on flannel\.1/.test(l)),
      lines.join("\n"),
    );
    assert.ok(lines.includes("worker-0: flannel.1 MAC 0e:00:00:00:00:01 ≠ VtepMAC a2:6d:0b:f4:18:9e"), lines.join("\n"));
  });

  test("a node whose host agent did not answer is never converged; `nodes` limits the check", () => {
    const ev = fx.unreachableWorker();
    assert.deepEqual(convergenceProblems(ev), ["worker-1: the host agent could not be read (exec into xnode-host-agent on worker-1 timed out after 10000 ms)"]);
    assert.deepEqual(convergenceProblems(ev, {}, ["cp-0"]), []);
  });
});

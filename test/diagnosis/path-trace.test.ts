// The trace stops at the first hop the evidence shows broken, and names the values.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CheckEvidence, TraceHop } from "../../src/model/index.js";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import { tracePair } from "../../src/diagnosis/path-trace.js";
import * as fx from "./fixtures.js";

function firstBroken(hops: TraceHop[]): TraceHop {
  const broken = hops.find((h) => !h.ok);
  assert.ok(broken, `no broken hop in:\n${hops.map((h) => `${h.hop}: ${h.detail}`).join("\n")}`);
  assert.equal(hops.at(-1), broken, "the trace goes on past a broken hop");
  return broken;
}

describe("tracePair", () => {
  test("healthy: every hop checks out, down to the destination pod", () => {
    const hops = tracePair(fx.healthyThreeNodes(), "cp-0", "worker-1");
    assert.deepEqual(
      hops.map((h) => h.hop),
      [
        "source pod",
        "source cni0",
        "source forwarding",
        "route",
        "neighbour",
        "fdb",
        "vtep address",
        "underlay",
        "vxlan port",
        "destination forwarding",
        "destination cni0",
        "destination pod",
      ],
    );
    assert.ok(hops.every((h) => h.ok && !h.unverified));
  });

  test("seed: VXLAN sent to the sender's own NAT address", () => {
    const hop = firstBroken(tracePair(fx.seedVirtualboxNat(), "k8s-master1", "k8s-node1"));
    assert.deepEqual(hop, {
      hop: "vtep address",
      ok: false,
      detail: "FDB sends to 10.0.2.15, which is k8s-master1's own address on enp0s3: VXLAN packets never leave the node",
    });
  });

  const cases: [string, () => CheckEvidence, string, string, string, RegExp][] = [
    ["udp 8472 dropped", fx.vxlanPortBlocked, "master", "worker-b", "vxlan port", /worker-b: -A INPUT -p udp -m udp --dport 8472 -j DROP/],
    ["FORWARD drop, into the node", fx.forwardPolicyDrop, "cp-0", "worker-1", "destination forwarding", /FORWARD policy DROP/],
    ["FORWARD drop, out of the node", fx.forwardPolicyDrop, "worker-1", "cp-0", "source forwarding", /FORWARD policy DROP/],
    ["ip_forward=0", fx.ipForwardDisabled, "cp-0", "worker-1", "destination forwarding", /net\.ipv4\.ip_forward = 0 on worker-1/],
    ["deleted route", fx.routeMissing, "cp-0", "worker-0", "route", /no route for 10\.42\.1\.0\/24 \(it would follow default via 172\.31\.10\.1 dev eth0\)/],
    ["stale FDB", fx.staleFdb, "worker-0", "worker-1", "fdb", /to 172\.31\.10\.254, but worker-1's public-ip is 172\.31\.10\.12/],
    ["isolated uplink", fx.wrongInterfaceBackplane, "edge-a", "edge-b", "underlay", /ping 203\.0\.113\.11 from edge-a via eth0 \(edge-b\): timeout/],
  ];
  for (const [name, build, from, to, hop, detail] of cases) {
    test(`${name}: ${from} → ${to} breaks at ${hop}`, () => {
      const broken = firstBroken(tracePair(build(), from, to));
      assert.equal(broken.hop, hop);
      assert.match(broken.detail, detail);
    });
  }

  test("a break on the way back shows at the destination pod, pointing at the reply path", () => {
    const broken = firstBroken(tracePair(fx.routeMissing(), "worker-0", "cp-0"));
    assert.equal(broken.hop, "destination pod");
    assert.match(broken.detail, /on the way back \(cp-0 → worker-0\)/);
  });

  test("missing evidence makes hops unverified, never broken", () => {
    const hops = tracePair(fx.missingEvidence(), "cp-0", "worker-0");
    assert.ok(hops.every((h) => h.ok));
    assert.deepEqual(
      hops.filter((h) => h.unverified).map((h) => h.hop),
      ["source forwarding", "neighbour", "fdb"],
    );
  });

  test("an unknown node", () => {
    assert.deepEqual(tracePair(fx.healthyThreeNodes(), "cp-0", "nope"), [{ hop: "nodes", ok: false, detail: "nope is not a node of this cluster" }]);
  });
});

describe("traces attached to findings", () => {
  test("every finding that explains failing pod pairs carries a trace of one of them", () => {
    for (const build of [fx.seedVirtualboxNat, fx.vxlanPortBlocked, fx.forwardPolicyDrop, fx.ipForwardDisabled, fx.routeMissing, fx.staleFdb]) {
      for (const f of diagnose(build())) {
        assert.ok(f.trace, `${f.id} has no trace`);
        assert.ok(
          f.trace.hops.some((h) => !h.ok),
          `${f.id}'s trace shows no break`,
        );
        assert.ok(f.nodes.includes(f.trace.from) || f.nodes.includes(f.trace.to));
      }
    }
  });

  test("the trace picks a pair whose break shows on the way there", () => {
    const f = diagnose(fx.routeMissing())[0]!;
    assert.deepEqual([f.trace?.from, f.trace?.to, f.trace?.hops.at(-1)?.hop], ["cp-0", "worker-0", "route"]);
  });

  test("no trace when no pair fails", () => {
    assert.equal(diagnose(fx.mtuMismatch())[0]!.trace, undefined);
  });
});

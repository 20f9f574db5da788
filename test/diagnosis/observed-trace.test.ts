// What captures alone may prove: VXLAN that left the sender's underlay and was
// captured missing at the receiver's is udp-vxlan-blocked between the nodes;
// anything less certain (a capture that could not run, a path whose underlay is
// not known, a non-VXLAN path) proves nothing.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { pairsToTrace } from "../../src/check/observe-packets.js";
import { droppedBetweenNodes } from "../../src/diagnosis/observed-trace.js";
import type { Finding, ObservedPoint, PacketTrace } from "../../src/model/index.js";
import * as fx from "./fixtures.js";

const point = (point: string, role: ObservedPoint["role"], seen: boolean, captured = true): ObservedPoint => ({
  point,
  role,
  seen,
  captured,
  packets: seen ? 3 : 0,
  detail: seen ? "3 probe packets" : captured ? "no probe packet" : "cannot capture: tcpdump is not installed in the agent",
});

function trace(receiverUnderlay: ObservedPoint, tunnelled = true): PacketTrace {
  const observed = [
    point("cp-0/cni0", "bridge", true),
    ...(tunnelled ? [point("cp-0/flannel.1", "tunnel", true)] : []),
    point("cp-0/eth0", "underlay", true),
    receiverUnderlay,
    ...(tunnelled ? [point("worker-1/flannel.1", "tunnel", false)] : []),
    point("worker-1/cni0", "bridge", false),
  ];
  return { from: "cp-0", to: "worker-1", observed, lostAfter: "cp-0/eth0" };
}

describe("droppedBetweenNodes", () => {
  test("sent out of cp-0/eth0, captured missing at worker-1/eth0: udp-vxlan-blocked, critical, no fix", () => {
    const ev = { ...fx.healthyThreeNodes(), traces: [trace(point("worker-1/eth0", "underlay", false))] };
    const f = droppedBetweenNodes(ev);
    assert.equal(f?.id, "udp-vxlan-blocked");
    assert.equal(f.severity, "critical");
    assert.deepEqual(f.remediations, []);
    assert.deepEqual(f.evidence, ["observed: VXLAN (udp 8472) probe packets cp-0 → worker-1 left cp-0/eth0 and never arrived at worker-1/eth0"]);
    assert.equal(f.trace?.lostAfter, "cp-0/eth0");
  });

  test("proves nothing when the receiver's capture did not run, the path is not VXLAN, or the receiver's point is not its underlay", () => {
    const base = fx.healthyThreeNodes();
    assert.equal(droppedBetweenNodes({ ...base, traces: [trace(point("worker-1/eth0", "underlay", false, false))] }), undefined);
    assert.equal(droppedBetweenNodes({ ...base, traces: [trace(point("worker-1/eth0", "underlay", false), false)] }), undefined);
    assert.equal(droppedBetweenNodes({ ...base, traces: [trace(point("worker-1/flannel.1", "tunnel", false))] }), undefined);
    assert.equal(droppedBetweenNodes({ ...base, traces: [{ ...trace(point("worker-1/eth0", "underlay", false)), unavailable: "no pod agent" }] }), undefined);
  });
});

describe("pairsToTrace", () => {
  test("one pair per destination first, then others, at most three", () => {
    const ev = fx.healthyThreeNodes();
    const fail = new Set(["cp-0>worker-1", "worker-0>worker-1", "cp-0>worker-0", "worker-1>cp-0"]);
    for (const e of ev.matrix) if (e.kind === "pod-icmp" && fail.has(`${e.from}>${e.to}`)) Object.assign(e, { ok: false, error: "timeout" });
    const unexplained = {
      id: "connectivity-unexplained",
      severity: "critical",
      nodes: ["cp-0", "worker-0", "worker-1"],
      evidence: [],
      explanation: "",
      remediations: [],
    } satisfies Finding;
    const picked = pairsToTrace(ev, [unexplained]);
    assert.equal(picked.length, 3);
    assert.equal(new Set(picked.map((p) => p.to)).size, 3, `distinct destinations: ${JSON.stringify(picked)}`);
    assert.deepEqual(pairsToTrace(ev, []), [], "nothing to trace when every failure is explained");
  });
});

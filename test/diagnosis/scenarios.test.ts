// Each scenario yields exactly its own finding ids, with evidence that quotes
// the real values of that cluster.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CheckEvidence, Finding } from "../../src/model/index.js";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import * as fx from "./fixtures.js";

const ids = (ev: CheckEvidence) =>
  diagnose(ev)
    .map((f) => f.id)
    .sort();

function finding(ev: CheckEvidence, id: Finding["id"]): Finding {
  const found = diagnose(ev).find((f) => f.id === id);
  assert.ok(found, `expected a ${id} finding`);
  return found;
}

function assertEvidence(f: Finding, ...lines: string[]): void {
  for (const line of lines) assert.ok(f.evidence.includes(line), `${f.id} evidence lacks ${JSON.stringify(line)}; has:\n${f.evidence.join("\n")}`);
}

describe("finding ids per scenario", () => {
  const cases: [string, () => CheckEvidence, Finding["id"][]][] = [
    ["seed-virtualbox-nat", fx.seedVirtualboxNat, ["nodeport-unreachable", "vtep-duplicate-public-ip", "vtep-wrong-interface"]],
    ["healthy three nodes", fx.healthyThreeNodes, ["cluster-healthy"]],
    ["udp 8472 dropped on one worker", fx.vxlanPortBlocked, ["udp-vxlan-blocked"]],
    ["FORWARD policy DROP on one node", fx.forwardPolicyDrop, ["forward-policy-drop"]],
    ["ip_forward=0 on one node", fx.ipForwardDisabled, ["ip-forward-disabled"]],
    ["underlay MTU 1400 under flannel.1 1450", fx.mtuMismatch, ["mtu-mismatch"]],
    ["a deleted route", fx.routeMissing, ["route-missing"]],
    ["a stale FDB dst", fx.staleFdb, ["fdb-stale"]],
    ["a node without podCIDR", fx.podCidrMissing, ["pod-cidr-missing"]],
    ["a flannel pod not ready, data plane fine", fx.flannelPodNotReady, ["flannel-pod-not-ready"]],
    ["a NodePort dropped on one node, pods fine", fx.nodePortDropped, ["nodeport-unreachable"]],
    ["three nodes whose VTEP uplinks are isolated", fx.wrongInterfaceBackplane, ["vtep-wrong-interface"]],
    ["NAT on three VMs with different interface names", fx.natWithDifferentInterfaceNames, ["vtep-duplicate-public-ip", "vtep-wrong-interface"]],
    ["an unreachable node (nothing proven, never healthy)", fx.unreachableWorker, ["connectivity-unexplained"]],
    ["probes that failed on some nodes", fx.missingEvidence, ["cluster-healthy"]],
  ];
  for (const [name, build, expected] of cases) {
    test(name, () => assert.deepEqual(ids(build()), [...expected].sort()));
  }
});

describe("evidence quotes the cluster's own values", () => {
  test("seed: the shared 10.0.2.15 on enp0s3, the FDB pointing home, the proof through enp0s8", () => {
    const ev = fx.seedVirtualboxNat();
    const dup = finding(ev, "vtep-duplicate-public-ip");
    assert.equal(dup.severity, "critical");
    assert.deepEqual(dup.nodes, ["k8s-master1", "k8s-node1"]);
    assertEvidence(
      dup,
      "public-ip 10.0.2.15 on k8s-master1 and k8s-node1",
      "k8s-master1 flannel.1: vxlan id 1 local 10.0.2.15 dev enp0s3 dstport 8472",
      "k8s-master1 FDB: a2:6d:0b:f4:18:9e dst 10.0.2.15 (a local address of k8s-master1)",
    );
    assertEvidence(
      finding(ev, "vtep-wrong-interface"),
      "k8s-master1 enp0s3: no address of k8s-node1 on enp0s3's network other than our own",
      "ping 192.168.56.102 from k8s-master1 via enp0s8 (k8s-node1): ok (0.4 ms)",
    );
    const nodeport = finding(ev, "nodeport-unreachable");
    assertEvidence(nodeport, "curl 192.168.56.101:30309 from k8s-node1: timeout (backend on k8s-node1)");
    assert.match(nodeport.explanation, /across the overlay/);
  });

  test("healthy: counts every pair", () => {
    const f = finding(fx.healthyThreeNodes(), "cluster-healthy");
    assert.equal(f.severity, "info");
    assert.deepEqual(f.evidence, ["6/6 pod pairs answered (ICMP and TCP)", "6/6 host-to-pod pings answered"]);
  });

  test("udp 8472: the rule, the failing pairs, the working underlay ping", () => {
    const f = finding(fx.vxlanPortBlocked(), "udp-vxlan-blocked");
    assert.equal(f.severity, "critical");
    assert.deepEqual(f.nodes, ["worker-b"]);
    assertEvidence(
      f,
      "worker-b: -A INPUT -p udp -m udp --dport 8472 -j DROP",
      "master → worker-b: pod ICMP 10.244.2.5 timeout, pod TCP 10.244.2.5:8080 timeout, host ICMP 10.244.2.5 timeout",
      "ping 192.168.100.12 from master via ens160 (worker-b): ok (0.4 ms)",
    );
  });

  test("FORWARD policy DROP without flannel's jump", () => {
    const f = finding(fx.forwardPolicyDrop(), "forward-policy-drop");
    assert.deepEqual(f.nodes, ["worker-1"]);
    assertEvidence(f, "worker-1: filter FORWARD policy DROP and no rule accepts pod traffic (no jump to FLANNEL-FWD, nothing accepting 10.42.0.0/16)");
  });

  test("MTU: the numbers and the expected maximum; a warning while pings pass", () => {
    const f = finding(fx.mtuMismatch(), "mtu-mismatch");
    assert.equal(f.severity, "warning");
    assertEvidence(f, "worker-1: flannel.1 MTU 1450 > eth0 MTU 1400 − 50 = 1350 (the most VXLAN over eth0 carries)");
    assert.deepEqual(f.remediations, []);
    assert.match(f.explanation, /net-conf\.json/);
    assert.match(f.explanation, /recreated/);
  });

  test("route-missing names the node, the peer's podCIDR and where the packets go instead", () => {
    const f = finding(fx.routeMissing(), "route-missing");
    assert.deepEqual(f.nodes, ["cp-0", "worker-0"]);
    assertEvidence(f, "cp-0: no route for 10.42.1.0/24 (it would follow default via 172.31.10.1 dev eth0), worker-0's podCIDR");
  });

  test("fdb-stale: the wrong dst, the right public-ip, and how to make flannel re-program", () => {
    const f = finding(fx.staleFdb(), "fdb-stale");
    assert.deepEqual(f.nodes, ["worker-0", "worker-1"]);
    assertEvidence(f, "worker-0 FDB: d6:58:c3:27:e0:41 dst 172.31.10.254, but worker-1's public-ip is 172.31.10.12; no node holds 172.31.10.254");
    // flannel re-writes every current peer's entries when it starts: the node holding the wrong one is restarted
    assert.deepEqual(
      f.remediations.map((r) => [r.kind, r.restartPods]),
      [["restart-flannel-pod", { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", nodes: ["worker-0"] }]],
    );
    assert.match(f.explanation, /kubectl -n kube-flannel delete pod kube-flannel-ds-m4q9z/);
  });

  test("mtu-mismatch names where this installation keeps net-conf.json: the ConfigMap, k3s's own file, or RKE2's chart", () => {
    assert.match(finding(fx.mtuMismatch(), "mtu-mismatch").explanation, /flannel's ConfigMap in kube-flannel \(kube-flannel-cfg in the upstream manifest\)/);
    const k3s = fx.mtuMismatch();
    k3s.snapshot.flannel.distribution = "k3s";
    delete k3s.snapshot.flannel.daemonSet;
    assert.match(finding(k3s, "mtu-mismatch").explanation, /k3s's own net-conf\.json on each node/);
    assert.doesNotMatch(finding(k3s, "mtu-mismatch").explanation, /ConfigMap/);
    const rke2 = fx.mtuMismatch();
    rke2.snapshot.flannel.distribution = "rke2-canal";
    assert.match(finding(rke2, "mtu-mismatch").explanation, /HelmChartConfig rke2-canal/);
  });

  test("fdb-stale on k3s: no flannel pod to delete, so the advice and the plan restart k3s on the node, with no Approve button", () => {
    const ev = fx.staleFdb();
    ev.snapshot.flannel.distribution = "k3s";
    delete ev.snapshot.flannel.daemonSet;
    ev.snapshot.flannel.pods = [];
    const f = finding(ev, "fdb-stale");
    assert.doesNotMatch(JSON.stringify(f), /kubectl|delete pod|flannel pod/);
    assert.match(f.explanation, /on worker-0: systemctl restart k3s/);
    const [plan] = f.remediations;
    assert.equal(plan?.kind, "restart-flannel-pod");
    assert.equal(plan.approvable, false);
    assert.match(plan.steps?.[0] ?? "", /^On worker-0, restart k3s/);
  });

  test("route-missing's add-routes on k3s says to restart k3s, not a flannel pod, if the entries are missing too", () => {
    const ev = fx.routeMissing();
    ev.snapshot.flannel.distribution = "k3s";
    delete ev.snapshot.flannel.daemonSet;
    ev.snapshot.flannel.pods = [];
    const plan = finding(ev, "route-missing").remediations.find((r) => r.kind === "add-routes");
    assert.ok(plan);
    assert.doesNotMatch(JSON.stringify(plan), /kubectl|flannel pod/);
    assert.ok(plan.risks.some((r) => /restart flannel \(on cp-0: systemctl restart k3s/.test(r)));
  });

  test("pod-cidr-missing explains the crash-looping flannel pod instead of reporting it again", () => {
    const f = finding(fx.podCidrMissing(), "pod-cidr-missing");
    assert.deepEqual(f.nodes, ["worker-1"]);
    assertEvidence(f, "worker-1: spec.podCIDR is empty");
    assert.ok(f.evidence.some((l) => l.startsWith("worker-1: kube-flannel-ds-b8w3n not ready (CrashLoopBackOff, 6 restarts)")));
  });

  test("flannel-pod-not-ready: a warning while the data plane works", () => {
    const f = finding(fx.flannelPodNotReady(), "flannel-pod-not-ready");
    assert.equal(f.severity, "warning");
    assert.deepEqual(f.evidence, ["worker-0: kube-flannel-ds-m4q9z not ready (CrashLoopBackOff, 4 restarts)"]);
  });

  test("nodeport-unreachable cites the rule dropping the port", () => {
    const f = finding(fx.nodePortDropped(), "nodeport-unreachable");
    assertEvidence(
      f,
      "curl 172.31.10.11:30080 from cp-0: timeout (backend on worker-1)",
      "worker-0: -t mangle -A PREROUTING -p tcp -m tcp --dport 30080 -j DROP",
    );
    assert.doesNotMatch(f.explanation, /across the overlay/);
  });

  test("wrong interface with failing pings (not only missing targets)", () => {
    const f = finding(fx.wrongInterfaceBackplane(), "vtep-wrong-interface");
    assert.deepEqual(f.nodes, ["edge-a", "edge-b", "edge-c"]);
    assertEvidence(f, "ping 203.0.113.11 from edge-a via eth0 (edge-b): timeout", "ping 10.77.0.22 from edge-a via eth1 (edge-b): ok (0.4 ms)");
    assert.match(f.explanation, /--iface eth0/);
  });
});

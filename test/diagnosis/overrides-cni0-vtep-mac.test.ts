// public-ip-overwrite-wrong, cni0-address-mismatch and VtepMAC drift (as
// fdb-stale): each found from evidence built the way a real check reports
// it, with its plan, and never on a healthy cluster or one whose overlay works.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CheckEvidence, Finding, MatrixKind } from "../../src/model/index.js";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import { buildEvidence, host, type ClusterSpec } from "./fixture-builder.js";
import { healthySpec } from "./fixtures.js";

const involves = (node: string) => (_kind: MatrixKind, from: string, to: string) => from === node || to === node;

const spec = (fails?: ClusterSpec["fails"]): ClusterSpec => healthySpec(fails ? { fails } : {});

const ids = (ev: CheckEvidence) =>
  diagnose(ev)
    .map((f) => f.id)
    .sort();

function finding(ev: CheckEvidence, id: Finding["id"]): Finding {
  const found = diagnose(ev).find((f) => f.id === id);
  assert.ok(found, `expected ${id}; got ${ids(ev).join(", ")}`);
  return found;
}

/** worker-1 annotated to advertise `address`; its peers' FDB entries follow the annotation, as flannel programs them. */
function overwritten(address: string, fails = true): CheckEvidence {
  const ev = buildEvidence(spec(fails ? involves("worker-1") : undefined));
  Object.assign(ev.snapshot.nodes[2]!.flannel, { publicIP: address, publicIPOverwrite: address });
  for (const name of ["cp-0", "worker-0"]) host(ev, name).fdb!.find((e) => e.dst === "172.31.10.12")!.dst = address;
  return ev;
}

describe("public-ip-overwrite-wrong", () => {
  test("an overwrite no node holds: the cause, with the FDB entries sending there; fdb-stale does not repeat them", () => {
    const ev = overwritten("172.31.10.250");
    assert.deepEqual(ids(ev), ["public-ip-overwrite-wrong"]);
    const f = finding(ev, "public-ip-overwrite-wrong");
    assert.deepEqual(f.nodes, ["worker-1"]);
    for (const line of [
      "worker-1: annotation flannel.alpha.coreos.com/public-ip-overwrite=172.31.10.250",
      "no interface of any node holds 172.31.10.250",
      "worker-1 flannel.1: vxlan id 1 local 172.31.10.12 dev eth0 dstport 8472",
      "cp-0 FDB: d6:58:c3:27:e0:41 dst 172.31.10.250",
    ])
      assert.ok(f.evidence.includes(line), `missing ${line} in\n${f.evidence.join("\n")}`);
    assert.equal(f.trace?.to === "worker-1" || f.trace?.from === "worker-1", true);
  });

  test("its plan removes the annotation with a test of its value, then restarts flannel on that node only", () => {
    const [plan] = finding(overwritten("172.31.10.250"), "public-ip-overwrite-wrong").remediations;
    assert.equal(plan?.kind, "remove-public-ip-overwrite");
    assert.deepEqual(plan.nodePatches, [
      {
        node: "worker-1",
        ops: [
          { op: "test", path: "/metadata/annotations/flannel.alpha.coreos.com~1public-ip-overwrite", value: "172.31.10.250" },
          { op: "remove", path: "/metadata/annotations/flannel.alpha.coreos.com~1public-ip-overwrite" },
        ],
      },
    ]);
    assert.deepEqual(plan.restartPods, { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", nodes: ["worker-1"] });
    assert.deepEqual(plan.expectedPublicIPs, { "worker-1": "172.31.10.12" });
    assert.equal(plan.diff[0], 'Node worker-1: annotation flannel.alpha.coreos.com/public-ip-overwrite: "172.31.10.250" → (unset)');
    assert.equal(plan.steps, undefined);
  });

  test("an overwrite naming another node's address: the cause of the duplicate VTEP address", () => {
    const ev = overwritten("172.31.10.10");
    const f = finding(ev, "public-ip-overwrite-wrong");
    assert.ok(f.evidence.includes("172.31.10.10 is an address of cp-0 (eth0), not of worker-1: packets for worker-1's pods go there"));
    const dup = finding(ev, "vtep-duplicate-public-ip");
    assert.deepEqual(dup.explainedBy, ["public-ip-overwrite-wrong"]);
  });

  test("an overwrite naming worker-1's own address on a network its peers cannot reach: their pings to it failed", () => {
    // every node has a second interface in 10.9.9.0/24, each on its own isolated segment
    const base = spec(involves("worker-1"));
    const isolated = buildEvidence({
      ...base,
      nodes: base.nodes.map((n, i) => ({ ...n, interfaces: [...n.interfaces, { name: "eth1", network: `island-${i}`, address: `10.9.9.${10 + i}/24` }] })),
    });
    Object.assign(isolated.snapshot.nodes[2]!.flannel, { publicIP: "10.9.9.12", publicIPOverwrite: "10.9.9.12" });
    const f = finding(isolated, "public-ip-overwrite-wrong");
    assert.ok(f.evidence.includes("worker-1's peers cannot reach 10.9.9.12 (eth1):"), f.evidence.join("\n"));
    assert.ok(f.evidence.includes("ping 10.9.9.12 from cp-0 via eth1 (worker-1): timeout"), f.evidence.join("\n"));
  });

  test("an overwrite naming a NAT address every node holds: each peer keeps the packets", () => {
    const base = spec(involves("worker-1"));
    const nat = buildEvidence({
      ...base,
      networks: [...base.networks, ...base.nodes.map((_n, i) => ({ name: `nat-${i}` }))],
      nodes: base.nodes.map((n, i) => ({ ...n, interfaces: [...n.interfaces, { name: "enp0s3", network: `nat-${i}`, address: "10.0.2.15/24" }] })),
    });
    Object.assign(nat.snapshot.nodes[2]!.flannel, { publicIP: "10.0.2.15", publicIPOverwrite: "10.0.2.15" });
    const f = finding(nat, "public-ip-overwrite-wrong");
    assert.ok(
      f.evidence.includes("10.0.2.15 is also an address of cp-0 (enp0s3) and worker-0 (enp0s3): they keep the packets they send there for worker-1's pods"),
      f.evidence.join("\n"),
    );
  });

  test("a NAT address nobody holds is accepted while the overlay to that node works", () => {
    assert.deepEqual(ids(overwritten("198.51.100.7", false)), ["cluster-healthy"]);
  });

  test("an overwrite flannel has not applied yet (public-ip still the interface's) is not claimed", () => {
    const ev = buildEvidence(spec(involves("worker-1")));
    ev.snapshot.nodes[2]!.flannel.publicIPOverwrite = "172.31.10.250";
    assert.ok(!ids(ev).includes("public-ip-overwrite-wrong"));
  });

  test("k3s: the annotation still goes through the API, the restart is a step (no flannel pod)", () => {
    const ev = overwritten("172.31.10.250");
    ev.snapshot.flannel.distribution = "k3s";
    delete ev.snapshot.flannel.daemonSet;
    ev.snapshot.flannel.pods = [];
    const [plan] = finding(ev, "public-ip-overwrite-wrong").remediations;
    assert.equal(plan?.restartPods, undefined);
    assert.equal(plan?.nodePatches?.[0]?.node, "worker-1");
    assert.match(plan?.steps?.[0] ?? "", /^On worker-1, restart k3s \(`systemctl restart k3s` on a server, `systemctl restart k3s-agent` on an agent\)/);
  });

  test("node-public-ip naming an address worker-1 lacks: flanneld exits, and the crash-looping pod is its consequence", () => {
    const ev = buildEvidence(spec(involves("worker-1")));
    ev.snapshot.nodes[2]!.flannel.nodePublicIP = "172.31.10.99";
    Object.assign(ev.snapshot.flannel.pods[2]!, { ready: false, restarts: 5, reason: "CrashLoopBackOff" });
    const f = finding(ev, "public-ip-overwrite-wrong");
    assert.ok(f.evidence.includes("worker-1: annotation flannel.alpha.coreos.com/node-public-ip=172.31.10.99"));
    assert.ok(f.evidence.some((l) => l.endsWith("flanneld exits when no interface holds its --public-ip")));
    assert.equal(f.remediations[0]?.nodePatches?.[0]?.ops[1]?.path, "/metadata/annotations/flannel.alpha.coreos.com~1node-public-ip");
    assert.deepEqual(finding(ev, "flannel-pod-not-ready").explainedBy, ["public-ip-overwrite-wrong"]);
  });

  test("node-public-ip naming the node's own address, healthy: nothing", () => {
    const ev = buildEvidence(spec());
    for (const n of ev.snapshot.nodes) n.flannel.nodePublicIP = n.flannel.publicIP;
    assert.deepEqual(ids(ev), ["cluster-healthy"]);
  });
});

/** worker-1's cni0 kept 10.42.9.1/24 from an old podCIDR: the connected route to its pods went with the address. */
function staleCni0(): CheckEvidence {
  const ev = buildEvidence(spec(involves("worker-1")));
  const h = host(ev, "worker-1");
  h.interfaces!.find((i) => i.name === "cni0")!.addresses = [{ address: "10.42.9.1", prefixLength: 24 }];
  h.routes = h.routes!.map((r) => (r.dst === "10.42.2.0/24" ? { ...r, dst: "10.42.9.0/24", prefsrc: "10.42.9.1" } : r));
  return ev;
}

describe("cni0-address-mismatch", () => {
  test("cni0's address outside the podCIDR: the finding alone, with the missing route to the node's own pods", () => {
    const ev = staleCni0();
    assert.deepEqual(ids(ev), ["cni0-address-mismatch"]);
    const f = finding(ev, "cni0-address-mismatch");
    assert.deepEqual(f.nodes, ["worker-1"]);
    assert.deepEqual(f.evidence, [
      "worker-1 cni0: 10.42.9.1/24; 10.42.9.1/24 outside its podCIDR 10.42.2.0/24 (the bridge plugin wants 10.42.2.1/24)",
      "worker-1: no route for 10.42.2.0/24 (it would follow default via 172.31.10.1 dev eth0), its own podCIDR: packets for its pods never reach cni0",
    ]);
    assert.match(f.explanation, /"cni0" already has an IP address different from 10\.42\.2\.1\/24/);
  });

  test("its plan adds the gateway first, then removes the stale address, through the host agent", () => {
    const [plan] = finding(staleCni0(), "cni0-address-mismatch").remediations;
    assert.equal(plan?.kind, "fix-cni0-address");
    assert.deepEqual(plan.commands, [
      { node: "worker-1", argv: ["ip", "addr", "add", "10.42.2.1/24", "dev", "cni0"] },
      { node: "worker-1", argv: ["ip", "addr", "del", "10.42.9.1/24", "dev", "cni0"] },
    ]);
  });

  test("the gateway already there next to a stale address: only the stale one goes", () => {
    const ev = buildEvidence(spec(involves("worker-1")));
    host(ev, "worker-1")
      .interfaces!.find((i) => i.name === "cni0")!
      .addresses.push({ address: "10.42.9.1", prefixLength: 24 });
    const [plan] = finding(ev, "cni0-address-mismatch").remediations;
    assert.deepEqual(plan?.commands, [{ node: "worker-1", argv: ["ip", "addr", "del", "10.42.9.1/24", "dev", "cni0"] }]);
  });

  test("a node without cni0 yet, or without a podCIDR, is no mismatch", () => {
    const ev = buildEvidence(spec());
    const h = host(ev, "worker-1");
    h.interfaces = h.interfaces!.filter((i) => i.name !== "cni0");
    assert.deepEqual(ids(ev), ["cluster-healthy"]);
  });
});

const NEW_MAC = "6a:2f:11:9c:d0:5e";

/** After flannel published worker-1's VtepMAC, flannel.1 got another one; every peer still uses the published one. */
function driftedMac(fails = true): CheckEvidence {
  const ev = buildEvidence(spec(fails ? involves("worker-1") : undefined));
  const h = host(ev, "worker-1");
  h.vxlan![0]!.mac = NEW_MAC;
  h.interfaces!.find((i) => i.name === "flannel.1")!.mac = NEW_MAC;
  return ev;
}

describe("VtepMAC drift (fdb-stale)", () => {
  test("flannel.1's MAC ≠ its VtepMAC annotation = the peers' entries: fdb-stale with all three, and nothing else", () => {
    const ev = driftedMac();
    assert.deepEqual(ids(ev), ["fdb-stale"]);
    const f = finding(ev, "fdb-stale");
    assert.deepEqual(f.nodes, ["worker-1"]);
    const has = `(worker-1's flannel.1 has ${NEW_MAC})`;
    assert.deepEqual(f.evidence, [
      `worker-1 flannel.1: MAC ${NEW_MAC}, but worker-1's VtepMAC (backend-data annotation) is d6:58:c3:27:e0:41`,
      `cp-0 neighbour: 10.42.2.0 lladdr d6:58:c3:27:e0:41 dev flannel.1 PERMANENT ${has}`,
      `cp-0 FDB: d6:58:c3:27:e0:41 dst 172.31.10.12 ${has}`,
      `worker-0 neighbour: 10.42.2.0 lladdr d6:58:c3:27:e0:41 dev flannel.1 PERMANENT ${has}`,
      `worker-0 FDB: d6:58:c3:27:e0:41 dst 172.31.10.12 ${has}`,
    ]);
  });

  test("the fix restarts flannel on the drifted node (it then publishes the MAC flannel.1 has)", () => {
    const [plan] = finding(driftedMac(), "fdb-stale").remediations;
    assert.equal(plan?.kind, "restart-flannel-pod");
    assert.deepEqual(plan.restartPods, { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", nodes: ["worker-1"] });
    assert.equal(plan.approvable, undefined);
  });

  test("on k3s the restart is a step with no Approve button", () => {
    const ev = driftedMac();
    ev.snapshot.flannel.distribution = "k3s";
    delete ev.snapshot.flannel.daemonSet;
    const [plan] = finding(ev, "fdb-stale").remediations;
    assert.equal(plan?.approvable, false);
    assert.equal(plan?.restartPods, undefined);
    assert.equal(plan?.steps?.length, 1);
  });

  test("a MAC mismatch while the overlay to the node works is not claimed; nor is a MAC that differs only in case", () => {
    assert.deepEqual(ids(driftedMac(false)), ["cluster-healthy"]);
    const ev = buildEvidence(spec());
    host(ev, "worker-1").vxlan![0]!.mac = "D6:58:C3:27:E0:41";
    assert.deepEqual(ids(ev), ["cluster-healthy"]);
  });
});

// Missing or partial evidence, and the cases where a rule must stand down or
// speak only of a suspicion.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CheckEvidence, Finding } from "../../src/model/index.js";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import { buildEvidence, host } from "./fixture-builder.js";
import * as fx from "./fixtures.js";
import { cidrCovers } from "../../src/diagnosis/ipv4.js";
import { seededRandom } from "../helpers/seeded-random.js";

const ids = (ev: CheckEvidence) => diagnose(ev).map((f) => f.id);
const only = (ev: CheckEvidence): Finding => {
  const found = diagnose(ev);
  assert.equal(found.length, 1, `expected one finding, got ${found.map((f) => f.id).join(", ")}`);
  return found[0]!;
};

describe("missing evidence", () => {
  test("nothing at all: no finding, and no claim of health", () => {
    const empty: CheckEvidence = {
      snapshot: { cluster: "x", takenAt: "2025-03-04T10:12:00.000Z", nodes: [], flannel: { vxlanPort: 8472, vni: 1, pods: [] }, services: [], warnings: [] },
      hosts: [],
      matrix: [],
      unreachableNodes: [],
    };
    assert.deepEqual(diagnose(empty), []);
  });

  test("only the API's view of the seed: the annotations alone prove the duplicate, nothing else is claimed", () => {
    const ev = fx.seedVirtualboxNat();
    ev.hosts = [];
    ev.matrix = [];
    const f = only(ev);
    assert.equal(f.id, "vtep-duplicate-public-ip");
    assert.deepEqual(f.evidence, ["public-ip 10.0.2.15 on k8s-master1 and k8s-node1"]);
    assert.equal(f.trace, undefined);
  });

  test("an unreachable node blocks cluster-healthy even when every check that ran answered: it is reported, never healthy", () => {
    const ev = fx.unreachableWorker();
    assert.ok(ev.matrix.length > 0 && ev.matrix.every((e) => e.ok));
    const f = only(ev);
    assert.equal(f.id, "connectivity-unexplained");
    assert.equal(f.severity, "critical");
    const [silent] = ev.unreachableNodes;
    assert.ok(silent);
    assert.ok(f.nodes.includes(silent.node));
    assert.ok(
      f.evidence.some((l) => l.startsWith(`${silent.node}: agents did not answer`)),
      f.evidence.join("\n"),
    );
  });
});

describe("udp-vxlan-blocked without a visible rule", () => {
  const firewalledOutside = () => buildEvidence({ ...fx.healthySpec(), fails: (_k, from, to) => from === "worker-1" || to === "worker-1" });

  test("suspected when every failing pair touches one node whose entries are all right", () => {
    const f = only(firewalledOutside());
    assert.equal(f.id, "udp-vxlan-blocked");
    assert.equal(f.severity, "warning");
    assert.deepEqual(f.nodes, ["worker-1"]);
    assert.match(f.explanation, /^Suspected/);
    assert.ok(
      f.evidence.includes("worker-1: routes, neighbour and FDB entries for every peer match the Node annotations; no iptables or nftables rule drops udp 8472"),
    );
    assert.ok(f.evidence.some((l) => l.startsWith("ping 172.31.10.12 from cp-0 via eth0 (worker-1): ok")));
    assert.deepEqual(f.remediations, []);
  });

  test("stands down when another finding explains the failing pairs", () => {
    const ev = firewalledOutside();
    host(ev, "worker-1").sysctls = { ipForward: 0 };
    assert.deepEqual(ids(ev), ["ip-forward-disabled"]);
  });

  test("says nothing when the failing pairs do not share a node", () => {
    const spec = fx.healthySpec();
    spec.nodes.push({ name: "worker-2", podCIDR: "10.42.3.0/24", interfaces: [{ name: "eth0", network: "lan", address: "172.31.10.13/24" }] });
    const broken = ["cp-0,worker-0", "worker-1,worker-2"];
    const ev = buildEvidence({ ...spec, fails: (_k, from, to) => broken.includes([from, to].sort().join()) });
    // no suspect, so no udp-vxlan-blocked; but the failures are never left to read as health
    const f = only(ev);
    assert.equal(f.id, "connectivity-unexplained");
    assert.deepEqual([...f.nodes].sort(), ["cp-0", "worker-0", "worker-1", "worker-2"]);
    assert.ok(
      f.evidence.some((l) => l.startsWith("cp-0 → worker-0: pod-icmp")),
      f.evidence.join("\n"),
    );
    assert.ok(
      f.evidence.some((l) => l.includes("routes, neighbour and FDB entries for every peer match")),
      "what was ruled out",
    );
    assert.ok(f.evidence.includes("no packet capture ran for these pairs: where the packets die is not known"));
  });
});

describe("forward-policy-drop", () => {
  test("a REJECT ahead of flannel's jump wins; the fix is inserted above it", () => {
    const ev = fx.healthyThreeNodes();
    const rules = host(ev, "worker-0").iptablesBackends!.nft!.rules;
    rules.splice(
      rules.findIndex((r) => r.chain === "FORWARD"),
      0,
      { table: "filter", chain: "FORWARD", spec: "-j REJECT --reject-with icmp-host-prohibited" },
    );
    const f = only(ev);
    assert.equal(f.id, "forward-policy-drop");
    assert.deepEqual(f.evidence, ["worker-0: -A FORWARD -j REJECT --reject-with icmp-host-prohibited"]);
    assert.deepEqual(f.remediations[0]?.commands?.[0]?.argv, ["iptables", "-I", "FORWARD", "1", "-s", "10.42.0.0/16", "-j", "ACCEPT"]);
  });

  test("Docker's FORWARD policy DROP with flannel's jump in place is fine", () => {
    assert.ok(!ids(fx.wrongInterfaceBackplane()).includes("forward-policy-drop"));
  });
});

describe("flannel-pod-not-ready", () => {
  test("the DaemonSet not found: said, with the names tried", () => {
    const ev = fx.healthyThreeNodes();
    delete ev.snapshot.flannel.daemonSet;
    ev.snapshot.flannel.pods = [];
    ev.snapshot.warnings = [
      "no flannel DaemonSet found (tried kube-flannel-ds, kube-flannel-ds-amd64 and labels app=flannel, k8s-app=flannel in kube-flannel, kube-system)",
    ];
    const f = only(ev);
    assert.equal(f.id, "flannel-pod-not-ready");
    assert.equal(f.severity, "warning");
    assert.equal(f.evidence[0], ev.snapshot.warnings[0]);
    assert.ok(f.evidence.includes("cp-0: no flannel pod"));
  });
});

describe("pod-cidr-missing", () => {
  test("two nodes sharing one podCIDR", () => {
    const ev = fx.healthyThreeNodes();
    ev.snapshot.nodes[2]!.podCIDR = "10.42.1.0/24";
    const f = diagnose(ev).find((x) => x.id === "pod-cidr-missing");
    assert.deepEqual(f?.evidence, ["podCIDR 10.42.1.0/24 on both worker-0 and worker-1"]);
  });

  test("every overlapping pair named once, in node order, as a comparison of every pair would (random nested and equal CIDRs)", () => {
    const random = seededRandom(7);
    let pairs = 0;
    for (let round = 0; round < 20; round++) {
      const ev = fx.healthyThreeNodes();
      const template = ev.snapshot.nodes[0]!;
      const cidrs = Array.from({ length: 40 }, () => {
        const length = 20 + Math.floor(random() * 6);
        const third = Math.floor(random() * 16);
        return `10.42.${third & ((0xff << (24 - length)) & 0xff)}.0/${length}`;
      });
      ev.snapshot.nodes = cidrs.map((podCIDR, i) => ({ ...structuredClone(template), name: `n-${String(i).padStart(2, "0")}`, podCIDR }));
      const expected = cidrs.flatMap((a, i) =>
        cidrs.slice(i + 1).flatMap((b, k) => {
          if (!(cidrCovers(a, b) || cidrCovers(b, a))) return [];
          const [x, y] = [`n-${String(i).padStart(2, "0")}`, `n-${String(i + 1 + k).padStart(2, "0")}`];
          return [a === b ? `podCIDR ${a} on both ${x} and ${y}` : `podCIDR ${a} of ${x} overlaps ${b} of ${y}`];
        }),
      );
      const f = diagnose(ev).find((x) => x.id === "pod-cidr-missing");
      assert.deepEqual(f?.evidence.filter((l) => l.startsWith("podCIDR ")) ?? [], expected, `round ${round}: ${cidrs.join(" ")}`);
      pairs += expected.length;
    }
    assert.ok(pairs > 100, `only ${pairs} overlapping pairs in 20 rounds`);
  });
});

describe("fdb-stale and public-ip-overwrite", () => {
  /** worker-1 announces an address outside the cluster (a NAT in front of it), and peers send there. */
  const overwritten = (fails: boolean) => {
    const ev = buildEvidence({ ...fx.healthySpec(), fails: (_k, from, to) => fails && (from === "worker-1" || to === "worker-1") });
    Object.assign(ev.snapshot.nodes[2]!.flannel, { publicIP: "198.51.100.7", publicIPOverwrite: "198.51.100.7" });
    for (const name of ["cp-0", "worker-0"]) host(ev, name).fdb!.find((e) => e.dst === "172.31.10.12")!.dst = "198.51.100.7";
    return ev;
  };

  test("accepted while the overlay to that node works", () => {
    assert.deepEqual(ids(overwritten(false)), ["cluster-healthy"]);
  });

  test("reported when traffic to it fails: as the wrong overwrite, which shows the FDB entries (fdb-stale does not repeat them)", () => {
    const found = diagnose(overwritten(true));
    const f = found.find((x) => x.id === "public-ip-overwrite-wrong");
    assert.ok(f?.evidence.includes("cp-0 FDB: d6:58:c3:27:e0:41 dst 198.51.100.7"));
    assert.ok(!found.some((x) => x.id === "fdb-stale"));
  });
});

describe("nodeport-unreachable", () => {
  test("externalTrafficPolicy Local: nodes without a backend never answer, and that is no finding", () => {
    const ev = fx.seedVirtualboxNat();
    ev.snapshot.services[0]!.externalTrafficPolicy = "Local";
    assert.ok(!ids(ev).includes("nodeport-unreachable"));
  });
});

describe("host-gw", () => {
  test("a missing route is put back via the peer's public-ip on the underlay", () => {
    const ev = fx.healthyThreeNodes();
    ev.snapshot.flannel.backendType = "host-gw";
    for (const node of ev.snapshot.nodes) node.flannel = { publicIP: node.flannel.publicIP!, backendType: "host-gw" };
    for (const h of ev.hosts) {
      h.vxlan = [];
      h.fdb = [];
      h.interfaces = h.interfaces!.filter((i) => i.name !== "flannel.1");
      h.routes = h.routes!.flatMap((r) => {
        if (r.dev !== "flannel.1") return [r];
        const peer = ev.snapshot.nodes.find((n) => n.podCIDR === r.dst)!;
        return h.node === "worker-0" && peer.name === "worker-1" ? [] : [{ dst: r.dst, gateway: peer.flannel.publicIP, dev: "eth0", onlink: false }];
      });
    }
    const f = only(ev);
    assert.equal(f.id, "route-missing");
    assert.deepEqual(f.remediations[0]?.commands, [
      { node: "worker-0", argv: ["ip", "route", "replace", "10.42.2.0/24", "via", "172.31.10.12", "dev", "eth0"] },
    ]);
  });
});

describe("connectivity-unexplained covers what the matrix never probed or a consequence hides", () => {
  test("a node whose pod agent never got an address: its pairs were not probed, so never healthy", () => {
    const ev = fx.healthyThreeNodes();
    const node = ev.snapshot.nodes[1]!;
    delete node.podAgent!.podIP;
    ev.matrix = ev.matrix.filter((e) => !(e.kind.startsWith("pod") && (e.from === node.name || e.to === node.name)));
    const f = only(ev);
    assert.equal(f.id, "connectivity-unexplained");
    assert.ok(f.nodes.includes(node.name));
    assert.ok(
      f.evidence.some((l) => l === `${node.name}: agents did not answer (no ready pod agent with an address: its pod pairs were not probed)`),
      f.evidence.join("\n"),
    );
  });

  test("a NodePort finding does not explain pod pairs failing elsewhere", () => {
    const ev = fx.nodePortDropped();
    const [a, b] = ev.snapshot.nodes.map((n) => n.name);
    for (const e of ev.matrix) if (e.kind === "pod-icmp" && e.from === a && e.to === b) Object.assign(e, { ok: false, error: "timeout" });
    const findings = diagnose(ev);
    const found = findings.map((f) => f.id);
    assert.ok(found.includes("nodeport-unreachable"), found.join(", "));
    const others = findings.filter((f) => f.id !== "nodeport-unreachable" && f.id !== "cluster-healthy");
    assert.ok(
      others.some((f) => f.nodes.includes(a!) || f.nodes.includes(b!)),
      `the failing pod pair is explained by something else: ${found.join(", ")}`,
    );
  });
});

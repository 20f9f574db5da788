// Which peers each node probes: everyone in a small cluster; above
// FULL_MESH_MAX_NODES a ring sample in which every node is probed as often as
// it probes, plus the suspects' full rows and columns.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { planReachTargets } from "../../src/check/plan-reach-targets.js";
import { FULL_MESH_MAX_NODES, MAX_SUSPECTS, ringOffsets, samplePeers, SAMPLE_PEERS } from "../../src/check/sample-peers.js";
import type { ClusterSnapshot, HostEvidence } from "../../src/model/index.js";

const names = (n: number) => Array.from({ length: n }, (_, i) => `node-${String(i).padStart(4, "0")}`);

describe("samplePeers", () => {
  it("is the full mesh, in the given order, up to FULL_MESH_MAX_NODES", () => {
    const nodes = ["c", "a", "b"];
    const s = samplePeers(nodes);
    assert.equal(s.fullMesh, true);
    assert.deepEqual(s.peersOf("a"), ["c", "b"]);
    assert.equal(samplePeers(names(FULL_MESH_MAX_NODES)).fullMesh, true);
  });

  it("above it, every node probes SAMPLE_PEERS others and is probed by exactly as many", () => {
    for (const n of [FULL_MESH_MAX_NODES + 1, 1000, 5000]) {
      const all = names(n);
      const s = samplePeers([...all].reverse());
      assert.equal(s.fullMesh, false);
      const inDegree = new Map<string, number>();
      for (const from of all) {
        const peers = s.peersOf(from);
        assert.equal(new Set(peers).size, SAMPLE_PEERS, `${from} in ${n}`);
        assert.ok(!peers.includes(from));
        for (const p of peers) inDegree.set(p, (inDegree.get(p) ?? 0) + 1);
      }
      assert.deepEqual(new Set(inDegree.values()), new Set([SAMPLE_PEERS]), `in ${n} nodes`);
    }
  });

  it("reaches near and far: offsets 1, 2, 4, … then spread over the ring", () => {
    const offsets = ringOffsets(1000, 16);
    assert.deepEqual(offsets.slice(0, 10), [1, 2, 4, 8, 16, 32, 58, 64, 117, 128]);
    assert.equal(new Set(offsets).size, 16);
    assert.ok(offsets.every((o) => o >= 1 && o < 1000));
    assert.deepEqual(ringOffsets(5, 16), [1, 2, 3, 4], "never more than n - 1");
  });

  it("gives a suspect its full row and puts it in every other node's row", () => {
    const all = names(1000);
    const s = samplePeers(all, ["node-0417", "ghost"]);
    assert.equal(s.peersOf("node-0417").length, 999);
    for (const from of all.filter((x) => x !== "node-0417")) assert.ok(s.peersOf(from).includes("node-0417"), from);
    assert.ok(s.peersOf("node-0001").length <= SAMPLE_PEERS + 1);
  });

  it("bounds the suspects it expands", () => {
    const all = names(1000);
    const s = samplePeers(all, all.slice(0, MAX_SUSPECTS + 10));
    assert.equal(s.peersOf(all[MAX_SUSPECTS - 1]!).length, 999);
    assert.ok(s.peersOf(all[MAX_SUSPECTS + 5]!).length <= SAMPLE_PEERS + MAX_SUSPECTS);
  });
});

describe("planReachTargets on 1000 nodes", () => {
  const all = names(1000);
  const snapshot: ClusterSnapshot = {
    cluster: "big",
    takenAt: "2026-12-01T00:00:00Z",
    nodes: all.map((name, i) => ({
      name,
      internalIP: `172.16.${i >> 8}.${i & 255}`,
      podCIDR: `10.${i >> 8}.${i & 255}.0/24`,
      ready: true,
      flannel: {},
      hostAgent: { namespace: "xnode-system", name: `h-${name}` },
      podAgent: { namespace: "xnode-system", name: `p-${name}`, podIP: `10.${i >> 8}.${i & 255}.2` },
    })),
    flannel: { vxlanPort: 8472, vni: 1, pods: [] },
    services: [],
    warnings: [],
  };
  const hosts: HostEvidence[] = snapshot.nodes.map((n) => ({
    node: n.name,
    errors: [],
    interfaces: [{ name: "eth0", index: 2, mtu: 1500, up: true, addresses: [{ address: n.internalIP!, prefixLength: 16 }] }],
  }));

  it("plans O(N) targets: a bounded sample per node, plus the suspect's row and column", () => {
    const plan = planReachTargets(snapshot, hosts, samplePeers(all, ["node-0500"]));
    const podTargets = [...plan.pod.values()].reduce((a, l) => a + l.length, 0);
    // icmp + tcp per peer: (16 + 1) per ordinary node, 999 for the suspect
    assert.ok(podTargets <= 2 * (999 * (SAMPLE_PEERS + 1) + 999), `${podTargets}`);
    assert.equal(plan.pod.get("node-0500")!.length, 2 * 999);
    assert.ok(plan.pod.get("node-0001")!.some((t) => t.entry.to === "node-0500"));
    const hostTargets = plan.host.get("node-0001")!;
    assert.equal(hostTargets.filter((t) => t.entry.kind === "underlay-icmp").length, SAMPLE_PEERS + 1);
  });
});

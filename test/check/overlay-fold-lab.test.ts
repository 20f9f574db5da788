// On real nodes (the lab's network namespaces, real iproute2), the host agent
// folds the flannel entries itself: each node's read comes back with one
// template and only its non-peer entries, and it is exactly what the
// worker's own compaction makes of the same node's tables read in full. An
// agent without the overlay mode (an older image) still gives the tables,
// through a second exec.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { parseScenario } from "@xnode/lab";
import { collectSnapshot } from "../../src/check/collect-snapshot.js";
import { inspectHost } from "../../src/check/inspect-host.js";
import { compactOverlay } from "../../src/diagnosis/overlay-templates.js";
import { createKubeClient, type KubeClient } from "../../src/kube/kube-client.js";
import type { ClusterSnapshot } from "../../src/model/index.js";
import { startLab, type StartedLab } from "../helpers/lab-fixture.js";

let lab: StartedLab;
let kube: KubeClient;
let snapshot: ClusterSnapshot;
before(async () => {
  lab = await startLab("healthy-three-nodes");
  kube = createKubeClient({ cluster: "fold", kubeconfig: lab.kubeconfigPath });
  snapshot = await collectSnapshot(kube);
});
after(() => lab?.stop());

const flannelEntries = (h: { fdb?: { dev: string }[]; routes?: { dev?: string }[] }) =>
  (h.fdb ?? []).filter((e) => e.dev.startsWith("flannel")).length + (h.routes ?? []).filter((r) => r.dev?.startsWith("flannel")).length;

test("every node folds its peers' entries into one template, which is the worker's compaction of its full tables", async () => {
  for (const node of snapshot.nodes) {
    const folded = await inspectHost(kube, node, 15_000, snapshot);
    const full = await inspectHost(kube, node, 15_000);
    assert.deepEqual(folded.errors, [], node.name);
    assert.equal(folded.overlay?.templates.length, 1, `${node.name} folded`);
    const covered = folded.overlay!.templates[0]!.peers.reduce((n, [start, end]) => n + end - start + 1, 0);
    assert.equal(covered, 2, `${node.name}: the template covers both peers`);
    assert.equal(flannelEntries(folded), 0, `${node.name} sent no per-peer entry`);
    assert.ok(flannelEntries(full) >= 4, `${node.name}'s full tables list its peers`);
    const compact = compactOverlay(snapshot, full);
    assert.deepEqual(folded.overlay, compact.overlay, node.name);
    for (const key of ["routes", "neighbours", "fdb"] as const)
      assert.deepEqual(JSON.stringify(folded[key]), JSON.stringify(compact[key]), `${node.name} ${key}`);
  }
});

test("an agent without the overlay mode: the tables come from a second exec, in full", async () => {
  const execs: string[][] = [];
  // the same lab agents, asked for a mode their binary does not have, as an older image would answer
  const older: KubeClient = {
    ...kube,
    exec: (target, argv, timeoutMs, stdin) => {
      const changed = argv.map((w) => (w.startsWith("xnode-agent overlay") ? w.replace("overlay", "no-such-mode") : w));
      execs.push(changed);
      return kube.exec(target, changed, timeoutMs, stdin);
    },
  };
  const node = snapshot.nodes[0]!;
  const ev = await inspectHost(older, node, 15_000, snapshot);
  assert.equal(execs.length, 2);
  assert.deepEqual(ev.errors, []);
  assert.equal(ev.overlay, undefined);
  assert.ok(flannelEntries(ev) >= 4);
  assert.ok(ev.interfaces && ev.sysctls && ev.iptablesBackends, "the other probes came with the first exec");
});

// The synthetic lab answers the overlay read from topology and faults (lab/src/synthetic/overlay-fold.ts): against the
// worker's own expectation, its healthy nodes must fold, its nodes with broken tables must not, and each read must be
// what compacting that node's full tables gives.
describe("a synthetic cluster with broken tables on two nodes", () => {
  let synth: StartedLab;
  let synthKube: KubeClient;
  let synthSnapshot: ClusterSnapshot;
  before(async () => {
    const scenario = parseScenario({
      name: "fold-synth",
      synthetic: { nodes: 12 },
      flannel: { network: "10.244.0.0/16" },
      faults: [
        { kind: "delete-route", node: "node-0003", to: "10.244.7.0/24" },
        { kind: "stale-fdb", node: "node-0005", peer: "node-0001" },
      ],
    });
    synth = await startLab(scenario);
    synthKube = createKubeClient({ cluster: "fold-synth", kubeconfig: synth.kubeconfigPath });
    synthSnapshot = await collectSnapshot(synthKube);
  });
  after(() => synth?.stop());

  test("healthy nodes fold, the two broken ones send their tables, and every read is the compaction of the full one", async () => {
    const folded: string[] = [];
    for (const node of synthSnapshot.nodes) {
      const read = await inspectHost(synthKube, node, 15_000, synthSnapshot);
      const compact = compactOverlay(synthSnapshot, await inspectHost(synthKube, node, 15_000));
      if (read.overlay && flannelEntries(read) === 0) folded.push(node.name);
      const fromFold = read.overlay ? read : compactOverlay(synthSnapshot, read);
      assert.deepEqual(fromFold.overlay, compact.overlay, node.name);
      for (const key of ["routes", "neighbours", "fdb"] as const)
        assert.deepEqual(JSON.stringify(fromFold[key]), JSON.stringify(compact[key]), `${node.name} ${key}`);
    }
    const broken = ["node-0003", "node-0005"];
    assert.deepEqual(
      folded,
      synthSnapshot.nodes.map((n) => n.name).filter((n) => !broken.includes(n)),
    );
  });
});

// Compaction of the per-peer overlay entries must change nothing the rules
// say: over every captured lab run, and over captures with one entry broken
// in the ways flannel's entries go wrong, diagnosing the compacted evidence
// gives exactly the findings of the evidence as read.
import assert from "node:assert/strict";
import { test } from "node:test";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import { compactOverlay, expandOverlay } from "../../src/diagnosis/overlay-templates.js";
import { tracePair } from "../../src/diagnosis/path-trace.js";
import type { CheckEvidence, HostEvidence } from "../../src/model/index.js";
import { seededRandom } from "../helpers/seeded-random.js";
import { capturedEvidence } from "./captured-evidence-files.js";
import { lanCluster, mutations, sharedLookups } from "./overlay-cases.js";

const compacted = (ev: CheckEvidence): CheckEvidence => ({ ...ev, hosts: ev.hosts.map((h) => compactOverlay(ev.snapshot, h)) });
const sorted = (list: readonly object[] | undefined) => (list ?? []).map((e) => JSON.stringify(e)).sort();

function assertSameEntries(a: HostEvidence, b: HostEvidence): void {
  assert.deepEqual(sorted(a.routes), sorted(b.routes), `routes of ${a.node}`);
  assert.deepEqual(sorted(a.neighbours), sorted(b.neighbours), `neighbours of ${a.node}`);
  assert.deepEqual(sorted(a.fdb), sorted(b.fdb), `fdb of ${a.node}`);
}

function assertSameDiagnosis(ev: CheckEvidence, label: string): void {
  const compact = compacted(ev);
  assert.deepEqual(diagnose(compact), diagnose(ev), label);
  const nodes = ev.snapshot.nodes.map((n) => n.name);
  for (const from of nodes.slice(0, 3))
    for (const to of nodes.slice(0, 3)) if (from !== to) assert.deepEqual(tracePair(compact, from, to), tracePair(ev, from, to));
}

const captures = capturedEvidence();

test("every captured run: compaction takes entries out, loses none, and the findings and traces are the same", () => {
  let taken = 0;
  for (const { name, evidence } of captures) {
    for (const host of evidence.hosts) {
      const compact = compactOverlay(evidence.snapshot, host);
      taken += (host.routes?.length ?? 0) - (compact.routes?.length ?? 0);
      assertSameEntries(expandOverlay(evidence.snapshot, compact), host);
    }
    assertSameDiagnosis(evidence, name);
  }
  assert.ok(taken > 0, "the captures have flannel's per-peer entries to take out");
});

test("one entry broken per capture, in each way flannel's entries go wrong: the same findings compacted or not", () => {
  const random = seededRandom(13);
  let tried = 0;
  for (const { name } of captures) {
    for (const [what, mutate] of Object.entries(mutations)) {
      // a fresh copy per mutation: the captures are shared
      const ev = structuredClone(captures.find((c) => c.name === name)!.evidence);
      const withLists = ev.hosts.filter((h) => h.routes && h.fdb && h.neighbours);
      const host = withLists[Math.floor(random() * withLists.length)];
      if (!host || mutate(host, ev) === undefined) continue;
      tried += 1;
      assertSameDiagnosis(ev, `${name}: ${what} on ${host.node}`);
    }
  }
  assert.ok(tried >= Object.keys(mutations).length * 3, `only ${tried} mutated captures`);
});

for (const [what, mutate] of Object.entries(sharedLookups)) {
  test(`lookups that meet across peers: ${what}: the same findings and traces compacted or not`, () => {
    const ev = lanCluster("shared", 4);
    mutate(ev);
    const nodes = ev.snapshot.nodes.map((n) => n.name);
    for (const name of nodes)
      for (const other of nodes) if (name !== other) assert.deepEqual(tracePair(compacted(ev), name, other), tracePair(ev, name, other));
    assertSameDiagnosis(ev, what);
  });
}

test("a 200-node cluster: each host keeps only its non-peer entries and one template, and the evidence shrinks to a small part", () => {
  const ev = lanCluster("compact-200", 200);
  const compact = compacted(ev);
  for (const host of compact.hosts) {
    assert.equal(host.overlay?.templates.length, 1, host.node);
    assert.equal(host.fdb?.length, 0, host.node);
    assert.ok((host.routes?.length ?? 0) < 5, `${host.node} keeps ${host.routes?.length} routes`);
  }
  const size = (x: unknown) => JSON.stringify(x).length;
  assert.ok(size(compact.hosts) * 10 < size(ev.hosts), `${size(compact.hosts)} of ${size(ev.hosts)} bytes`);
  assert.deepEqual(diagnose(compact), diagnose(ev));
});

test("templates read against another snapshot are refused, not misread", () => {
  const { evidence } = captures.find((c) => c.evidence.hosts.some((h) => h.routes?.some((r) => r.dev?.startsWith("flannel"))))!;
  const host = compactOverlay(
    evidence.snapshot,
    evidence.hosts.find((h) => h.routes?.some((r) => r.dev?.startsWith("flannel")))!,
  );
  assert.ok(host.overlay);
  assert.throws(() => expandOverlay({ ...evidence.snapshot, takenAt: "2001-01-01T00:00:00.000Z" }, host), /made with the snapshot of/);
});

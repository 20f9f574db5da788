// The invariant, as a property over generated evidence: take real captured
// evidence (test/fixtures/evidence/), break it at random (failed probes, silent
// agents, unreadable probes, missing pod checks) and diagnose it. Failed probes
// never give an empty or healthy verdict, and every failed probe is named by a
// problem finding (explained by a rule, or connectivity-unexplained).
import assert from "node:assert/strict";
import { test } from "node:test";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import type { CheckEvidence } from "../../src/model/index.js";
import { seededRandom } from "../helpers/seeded-random.js";
import { capturedEvidence } from "./captured-evidence-files.js";

const captured = capturedEvidence();

const HOST_FIELDS = ["interfaces", "routes", "vxlan", "fdb", "neighbours", "sysctls", "iptables"] as const;

function mutate(base: CheckEvidence, random: () => number): CheckEvidence {
  const ev: CheckEvidence = structuredClone(base);
  const nodes = ev.snapshot.nodes.map((n) => n.name);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const failRate = random() < 0.3 ? 1 : random() * 0.5;
  for (const e of ev.matrix)
    if (random() < failRate) Object.assign(e, { ok: false, error: pick(["timeout", "connection refused", "exit 1"]), rttMs: undefined });
  if (random() < 0.2) ev.unreachableNodes.push({ node: pick(nodes), error: "exec timed out after 20 s" });
  if (random() < 0.15) ev.matrix = ev.matrix.filter((e) => e.kind !== "pod-icmp");
  // a pod agent that never got an address: its pairs are simply missing from the matrix
  if (random() < 0.15) {
    const node = pick(ev.snapshot.nodes);
    if (node.podAgent) delete node.podAgent.podIP;
    ev.matrix = ev.matrix.filter((e) => !(e.kind.startsWith("pod") && (e.from === node.name || e.to === node.name)));
  }
  for (const h of ev.hosts) {
    for (const field of HOST_FIELDS) {
      if (random() < 0.1) {
        delete h[field];
        h.errors.push({ probe: field, message: `${field} probe failed` });
      }
    }
  }
  return ev;
}

test("failed probes never read as healthy, and every one is named by a problem finding (2,000 generated cases)", () => {
  let withFailures = 0;
  for (let i = 0; i < 2000; i++) {
    const { name, evidence } = captured[i % captured.length]!;
    const ev = mutate(evidence, seededRandom(i + 1));
    const findings = diagnose(ev);
    const where = `case ${i} (from ${name}): ${findings.map((f) => f.id).join(", ") || "no findings"}`;
    assert.ok(findings.length > 0, `empty verdict in ${where}`);
    const failed = ev.matrix.filter((e) => !e.ok);
    const problems = findings.filter((f) => f.id !== "cluster-healthy");
    if (failed.length > 0 || ev.unreachableNodes.length > 0) {
      withFailures++;
      assert.ok(!findings.some((f) => f.id === "cluster-healthy"), `healthy despite failed probes in ${where}`);
      const named = new Set(problems.flatMap((f) => f.nodes));
      for (const e of failed)
        assert.ok(named.has(e.from) || named.has(e.to), `${e.from} → ${e.to} ${e.kind} failed but no finding names either node in ${where}`);
      for (const u of ev.unreachableNodes) assert.ok(named.has(u.node), `silent ${u.node} not named in ${where}`);
    }
    if (findings.some((f) => f.id === "cluster-healthy")) {
      assert.equal(findings.length, 1, `healthy next to other findings in ${where}`);
      assert.ok(
        ev.snapshot.nodes.every((n) => n.podAgent?.podIP),
        `healthy with a node whose pairs were never probed in ${where}`,
      );
    }
  }
  assert.ok(withFailures > 1500, `only ${withFailures} cases had failures`);
});

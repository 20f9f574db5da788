import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { composeDigest } from "../../src/digest/compose-digest.js";
import type { DigestMemory } from "../../src/model/index.js";
import { bigReport, healthyReport, seedReport } from "../slack-render/report-fixtures.js";

const NOW = new Date("2026-11-27T09:00:00.000Z");
const EARLIER = "2026-11-26T09:00:00.000Z";
const empty: DigestMemory = { findings: {}, failures: {} };
const schedule = { kind: "schedule" } as const;

describe("composeDigest", () => {
  it("first digest: verdicts, reachable pairs and counts; nothing is 'new' without a previous digest", () => {
    const { content, memory } = composeDigest(
      [
        { cluster: "cluster-b", report: healthyReport, threadLink: "https://slack.example/archives/C1/p1" },
        { cluster: "seed", report: seedReport },
        { cluster: "gone", error: { message: "cannot load kubeconfig /x", hint: "Check the file path." } },
      ],
      empty,
      NOW,
      schedule,
    );
    assert.deepEqual(content.counts, { healthy: 1, problems: 1, unchecked: 1 });
    const [b, seed, gone] = content.clusters;
    assert.ok(b?.state === "healthy");
    assert.equal(b.threadLink, "https://slack.example/archives/C1/p1");
    assert.deepEqual(b.reachable, { ok: 6, total: 6 });
    assert.equal(b.lastFailureAt, undefined, "never failed");
    assert.ok(seed?.state === "problems");
    assert.equal(seed.compared, false);
    assert.equal(seed.findings.length, 3);
    assert.ok(seed.findings.every((f) => !f.isNew));
    assert.deepEqual(seed.reachable, { ok: 0, total: 2 });
    assert.equal(seed.failingSince, NOW.toISOString());
    assert.ok(gone?.state === "unchecked");
    assert.equal(gone.error.hint, "Check the file path.");
    assert.equal(gone.lastFailureAt, NOW.toISOString(), "not being checkable is a failure");
    assert.deepEqual(memory.findings, { "cluster-b": [], seed: ["vtep-duplicate-public-ip", "vtep-wrong-interface", "nodeport-unreachable"] });
    assert.deepEqual(memory.failures["cluster-b"], {});
  });

  it("new and resolved findings against the previous digest; failing-since carries over", () => {
    const previous: DigestMemory = {
      findings: { seed: ["vtep-duplicate-public-ip", "route-missing"] },
      failures: { seed: { lastFailureAt: EARLIER, failingSince: EARLIER } },
    };
    const { content, memory } = composeDigest([{ cluster: "seed", report: seedReport }], previous, NOW, schedule);
    const seed = content.clusters[0]!;
    assert.ok(seed.state === "problems");
    assert.deepEqual(
      seed.findings.map((f) => [f.id, f.isNew]),
      [
        ["vtep-duplicate-public-ip", false],
        ["vtep-wrong-interface", true],
        ["nodeport-unreachable", true],
      ],
    );
    assert.deepEqual(seed.resolved, ["route-missing"]);
    assert.equal(seed.failingSince, EARLIER);
    assert.deepEqual(memory.failures.seed, { lastFailureAt: NOW.toISOString(), failingSince: EARLIER });
  });

  it("a healthy cluster reports what was resolved and keeps its last failure time, no longer 'failing since'", () => {
    const previous: DigestMemory = {
      findings: { "cluster-b": ["udp-vxlan-blocked"] },
      failures: { "cluster-b": { lastFailureAt: EARLIER, failingSince: EARLIER } },
    };
    const { content, memory } = composeDigest([{ cluster: "cluster-b", report: healthyReport }], previous, NOW, schedule);
    const b = content.clusters[0]!;
    assert.ok(b.state === "healthy");
    assert.deepEqual(b.resolved, ["udp-vxlan-blocked"]);
    assert.equal(b.lastFailureAt, EARLIER);
    assert.equal(b.failingSince, undefined);
    assert.deepEqual(memory, { findings: { "cluster-b": [] }, failures: { "cluster-b": { lastFailureAt: EARLIER } } });
  });

  it("a cluster that cannot be checked keeps its last findings: nothing is 'resolved' by silence", () => {
    const previous: DigestMemory = { findings: { big: ["flannel-pod-not-ready"] }, failures: {} };
    const down = composeDigest([{ cluster: "big", error: { message: "connect ECONNREFUSED" } }], previous, NOW, schedule);
    assert.deepEqual(down.memory.findings, { big: ["flannel-pod-not-ready"] });
    const back = composeDigest([{ cluster: "big", report: bigReport }], down.memory, new Date(NOW.getTime() + 3600_000), schedule);
    const big = back.content.clusters[0]!;
    assert.ok(big.state === "problems");
    assert.equal(big.findings.find((f) => f.id === "flannel-pod-not-ready")?.isNew, false);
    assert.equal(big.failingSince, NOW.toISOString(), "the failure run started when it could not be checked");
  });

  it("the trigger is carried through", () => {
    const { content } = composeDigest([{ cluster: "cluster-b", report: healthyReport }], empty, NOW, { kind: "manual", requestedBy: "U0ALICE01" });
    assert.deepEqual(content.trigger, { kind: "manual", requestedBy: "U0ALICE01" });
    assert.equal(content.at, NOW.toISOString());
  });
});

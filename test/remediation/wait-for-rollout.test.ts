import assert from "node:assert/strict";
import { test } from "node:test";
import type { KubeClient } from "../../src/kube/kube-client.js";
import type { KubeDaemonSet } from "../../src/kube/types.js";
import { waitForRollout, type RolloutProgress } from "../../src/remediation/wait-for-rollout.js";

function ds(generation: number, observed: number, updated: number, ready: number): KubeDaemonSet {
  return {
    metadata: { name: "f", namespace: "n", generation, resourceVersion: String(10 + updated) },
    status: { observedGeneration: observed, desiredNumberScheduled: 2, updatedNumberScheduled: updated, numberReady: ready },
  };
}

/** A KubeClient that answers getDaemonSet from a script, one entry per call (the last repeats). */
function scripted(states: KubeDaemonSet[]): KubeClient {
  let i = 0;
  return { getDaemonSet: async () => states[Math.min(i++, states.length - 1)] } as unknown as KubeClient;
}

test("waits for the new generation to be observed, updated and ready everywhere; reports each change once", async () => {
  const seen: RolloutProgress[] = [];
  const final = await waitForRollout(scripted([ds(2, 1, 2, 2), ds(2, 2, 0, 2), ds(2, 2, 0, 2), ds(2, 2, 1, 1), ds(2, 2, 2, 2)]), "n", "f", {
    timeoutMs: 10_000,
    sleep: async () => undefined,
    onProgress: (p) => void seen.push(p),
  });
  assert.equal(final.metadata.resourceVersion, "12");
  assert.deepEqual(
    seen.map((p) => `${p.observedGeneration}:${p.updated}/${p.ready}`),
    ["1:2/2", "2:0/2", "2:1/1", "2:2/2"],
  );
});

test("times out with what it saw last", async () => {
  let t = 0;
  await assert.rejects(
    waitForRollout(scripted([ds(3, 3, 1, 1)]), "n", "f", { timeoutMs: 5_000, pollMs: 1_000, now: () => t, sleep: async (ms) => void (t += ms) }),
    (err: { code: string; message: string }) =>
      err.code === "ROLLOUT_TIMEOUT" &&
      err.message === "the rollout of DaemonSet n/f did not finish within 5 s; last seen: generation 3 (observed 3), 1/2 updated, 1/2 ready",
  );
});

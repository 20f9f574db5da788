// Every scenario in the project's lab, checked by the real engine through
// @kubernetes/client-node, must yield exactly its expected finding ids.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, test } from "node:test";
import { findingIdSchema, remediationKindSchema } from "../../src/model/index.js";
import { runCheck } from "../../src/check/run-check.js";
import { createKubeClient } from "../../src/kube/kube-client.js";
import { startLab } from "../helpers/lab-fixture.js";
import { loadScenario, scenariosDir } from "@xnode/lab";

const dir = scenariosDir;
const names = readdirSync(dir)
  .filter((f) => f.endsWith(".yaml"))
  .map((f) => f.slice(0, -5))
  .sort();

test("every lab scenario expects finding ids and a fix kind the product knows", async () => {
  for (const name of names) {
    const { expect } = await loadScenario(`${dir}${name}.yaml`);
    assert.ok(expect, `${name} has no expect`);
    for (const id of expect.findings) assert.ok(findingIdSchema.safeParse(id).success, `${name}: unknown finding id ${id}`);
    if (expect.fixedBy) assert.ok(remediationKindSchema.safeParse(expect.fixedBy).success, `${name}: unknown fix kind ${expect.fixedBy}`);
  }
});

describe("diagnosis of every lab scenario", () => {
  for (const name of names) {
    test(name, async () => {
      const scenario = await loadScenario(`${dir}${name}.yaml`);
      assert.ok(scenario.expect, `${name} has no expect.findings`);
      const lab = await startLab(name);
      try {
        const kube = createKubeClient({ cluster: name, kubeconfig: lab.kubeconfigPath });
        const { report } = await runCheck(kube, { execTimeoutMs: 15_000, pingTimeoutSeconds: 1 });
        const ids = report.findings.map((f) => f.id).sort();
        const detail = report.findings.map((f) => `${f.id}: ${f.evidence.slice(0, 3).join(" | ")}`).join("\n");
        assert.deepEqual(ids, [...scenario.expect.findings].sort(), `findings for ${name}:\n${detail}`);
        for (const f of report.findings) {
          assert.ok(f.evidence.length > 0, `${f.id} cites evidence`);
          assert.ok(f.explanation.length > 20, `${f.id} explains itself`);
        }
        if (scenario.expect.fixedBy) {
          const kinds: string[] = report.findings.flatMap((f) => f.remediations.map((r) => r.kind));
          assert.ok(kinds.includes(scenario.expect.fixedBy), `${name} offers ${scenario.expect.fixedBy}; offered: ${kinds.join(", ")}`);
        }
      } finally {
        await lab.stop();
      }
    });
  }
});

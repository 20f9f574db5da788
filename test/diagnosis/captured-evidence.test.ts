// Evidence captured from real lab runs (test/fixtures/evidence/<scenario>.json,
// a check's CheckEvidence as the engine collected it) must still read with
// today's schemas and still yield the findings its scenario expects
// (lab/scenarios/<scenario>.yaml, `expect`).
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import {
  clusterSnapshotSchema,
  findingIdSchema,
  hostEvidenceSchema,
  matrixEntrySchema,
  remediationKindSchema,
  type CheckEvidence,
} from "../../src/model/index.js";

const evidenceDir = new URL("../fixtures/evidence/", import.meta.url);
const scenariosDir = new URL("../../lab/scenarios/", import.meta.url);

// strict: a field the capture has and the model lost is a stale fixture, not noise
const capturedEvidenceSchema = z
  .object({
    snapshot: clusterSnapshotSchema.strict(),
    hosts: z.array(hostEvidenceSchema.strict()),
    matrix: z.array(matrixEntrySchema.strict()),
    unreachableNodes: z.array(z.object({ node: z.string(), error: z.string() }).strict()),
  })
  .strict();

const scenarioExpectSchema = z.object({
  expect: z.object({ findings: z.array(findingIdSchema).min(1), fixedBy: remediationKindSchema.optional() }),
});

function loadEvidence(name: string): CheckEvidence {
  const parsed = capturedEvidenceSchema.safeParse(JSON.parse(readFileSync(new URL(`${name}.json`, evidenceDir), "utf8")));
  assert.ok(parsed.success, `${name}.json does not match the model: ${parsed.success ? "" : JSON.stringify(parsed.error.issues.slice(0, 3))}`);
  return parsed.data;
}

function loadExpect(name: string): z.infer<typeof scenarioExpectSchema>["expect"] {
  const path = new URL(`${name}.yaml`, scenariosDir);
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    assert.fail(`captured evidence ${name}.json has no scenario at ${path.pathname}: ${String(err)}`);
  }
  return scenarioExpectSchema.parse(parseYaml(text)).expect;
}

const captured = readdirSync(evidenceDir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => f.slice(0, -".json".length))
  .sort();

describe("captured lab evidence", () => {
  test("there is some", () => assert.ok(captured.length > 0, `no *.json in ${evidenceDir.pathname}`));

  for (const name of captured) {
    test(`${name}: its scenario's findings`, () => {
      const evidence = loadEvidence(name);
      const expected = loadExpect(name);
      const findings = diagnose(evidence);
      assert.deepEqual(findings.map((f) => f.id).sort(), [...expected.findings].sort());
      if (expected.fixedBy) {
        const offered = findings.flatMap((f) => f.remediations.map((r) => r.kind));
        assert.ok(offered.includes(expected.fixedBy), `${expected.fixedBy} not offered; offered: ${offered.join(", ") || "nothing"}`);
      }
    });
  }
});

// The evidence captured from real lab runs (test/fixtures/evidence/<scenario>.json),
// read as CheckEvidence for tests that diagnose it, changed or as it is.
import { readdirSync, readFileSync } from "node:fs";
import { z } from "zod";
import { clusterSnapshotSchema, hostEvidenceSchema, matrixEntrySchema, type CheckEvidence } from "../../src/model/index.js";

const evidenceSchema = z.object({
  snapshot: clusterSnapshotSchema,
  hosts: z.array(hostEvidenceSchema),
  matrix: z.array(matrixEntrySchema),
  unreachableNodes: z.array(z.object({ node: z.string(), error: z.string() })),
});
const dir = new URL("../fixtures/evidence/", import.meta.url);

/** Every capture but those of the scenarios named in `except`. */
export function capturedEvidence(except: readonly string[] = []): { name: string; evidence: CheckEvidence }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json") && !except.includes(f.slice(0, -5)))
    .map((f) => ({ name: f.slice(0, -5), evidence: evidenceSchema.parse(JSON.parse(readFileSync(new URL(f, dir), "utf8"))) as CheckEvidence }));
}

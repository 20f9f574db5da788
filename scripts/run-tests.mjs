#!/usr/bin/env node
// Runs the test files with node's test runner through tsx: every
// test/**/*.test.ts and lab/test/**/*.test.ts, or with --unit only the pure
// ones (no root, Redis, network namespaces, servers or child processes), in
// seconds. Further arguments filter by path substring.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { spawnSync } from "node:child_process";

// Pure tests: parsers, rules, renderers, schemas, the import graph. A file
// here must not need anything but the source tree.
const UNIT = [
  "lab/test/install.test.ts",
  "lab/test/scenario.test.ts",
  "test/approvals/",
  "test/architecture/",
  "test/check/inspect-host-iptables.test.ts",
  "test/check/sample-peers.test.ts",
  "test/config.test.ts",
  "test/deploy/manifests.test.ts",
  "test/deploy/slack-manifest.test.ts",
  "test/diagnosis/",
  "test/discovery/",
  "test/digest/compose-digest.test.ts",
  "test/digest/render-digest.test.ts",
  "test/handlers/parse-command.test.ts",
  "test/jobs/node-batch.test.ts",
  "test/kube/semaphore.test.ts",
  "test/ops/slack-connection.test.ts",
  "test/probes/",
  "test/remediation/addr-and-node-patch.test.ts",
  "test/remediation/compare-reports.test.ts",
  "test/remediation/iptables-tools.test.ts",
  "test/remediation/nft-actions.test.ts",
  "test/remediation/plan-hash-and-drift.test.ts",
  "test/remediation/rollback-plan.test.ts",
  "test/remediation/wait-for-rollout.test.ts",
  "test/reliability/",
  "test/slack-render/",
];
// …except these, which run real commands in network namespaces.
const NOT_UNIT = ["test/probes/reachability.test.ts"];

function findTests(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return entry === "node_modules" ? [] : findTests(path);
    return entry.endsWith(".test.ts") ? [path] : [];
  });
}

const args = process.argv.slice(2);
const unitOnly = args.includes("--unit");
const filter = args.filter((a) => a !== "--unit");
const isUnit = (f) => UNIT.some((p) => f.startsWith(p)) && !NOT_UNIT.includes(f);
const files = [...findTests("test"), ...findTests("lab/test")]
  .filter((f) => !unitOnly || isUnit(f))
  .filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)))
  .sort();
if (files.length === 0) {
  console.error("no test files matched");
  process.exit(1);
}
const result = spawnSync(process.execPath, ["--import", "tsx", "--test", "--test-concurrency=2", "--test-reporter=spec", ...files], { stdio: "inherit" });
process.exit(result.status ?? 1);

// The package's bin (`xnode-lab`, also what `npm run lab` runs) starts the CLI
// through tsx from any working directory, without a lab running.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/xnode-lab.mjs", import.meta.url));
const stateDir = mkdtempSync(join(tmpdir(), "xnode-lab-bin-"));
const xnodeLab = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { cwd: tmpdir(), encoding: "utf8", env: { ...process.env, XNODE_LAB_STATE_DIR: stateDir } });

describe("xnode-lab bin", () => {
  after(() => rmSync(stateDir, { recursive: true, force: true }));

  test("--help prints the usage and exits 0", () => {
    const r = xnodeLab("--help");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /npm run lab -- up <scenario\.yaml> --kubeconfig <out-file>/);
  });

  test("list with no labs, and an unknown command exits 2", () => {
    const list = xnodeLab("list");
    assert.equal(list.status, 0, list.stderr);
    assert.equal(list.stdout, "no labs running\n");
    const bad = xnodeLab("nope");
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown command "nope"/);
  });
});

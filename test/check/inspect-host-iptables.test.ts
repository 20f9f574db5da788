// The host probes read each iptables backend on its own: a backend whose tool
// is missing leaves a gap and an error, never an empty ruleset that would read
// as "nothing drops".
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { inspectHost } from "../../src/check/inspect-host.js";
import type { KubeClient } from "../../src/kube/kube-client.js";
import type { ExecResult } from "../../src/kube/types.js";
import type { NodeSnapshot } from "../../src/model/index.js";
import { execOnlyKube } from "../helpers/exec-only-kube.js";

const capture = (name: string) => readFileSync(new URL(`../fixtures/probes/iptables-backends/${name}.txt`, import.meta.url), "utf8");
const node: NodeSnapshot = {
  name: "w2",
  internalIP: "192.168.60.13",
  ready: true,
  flannel: {},
  hostAgent: { namespace: "xnode-system", name: "xnode-host-agent-w2" },
};

/**
 * A host agent answering the iptables probes from `answers` (command → result) and failing every other probe,
 * through the one exec the host probes share (src/probes/host-batch.ts), printed as its script prints it.
 */
function agent(answers: Record<string, Partial<ExecResult>>): KubeClient {
  return execOnlyKube((_t, argv) => {
    const params = argv.slice(4); // sh -c SCRIPT host-batch, then name and command words per probe
    let stdout = "";
    for (let i = 0; i + 1 < params.length; i += 2) {
      const r = { stdout: "", stderr: "not in this test\n", exitCode: 1, ...answers[params[i + 1]!.split(" ")[0]!] };
      stdout += `XNODE-SECTION ${params[i]} ${r.exitCode}\n${r.stdout}\nXNODE-STDERR ${params[i]} ${r.stderr.split("\n")[0]}\n`;
    }
    return Promise.resolve({ stdout, stderr: "", exitCode: 0, durationMs: 1 });
  }, "c");
}

test("both backends read, each on its own; an empty legacy ruleset is kept as empty", async () => {
  const ev = await inspectHost(
    agent({ "iptables-legacy-save": { exitCode: 0, stderr: "" }, "iptables-nft-save": { exitCode: 0, stdout: capture("split.nft"), stderr: "" } }),
    node,
    1000,
  );
  assert.deepEqual(ev.iptablesBackends?.legacy, { policies: [], rules: [] });
  assert.equal(ev.iptablesBackends?.nft?.policies.find((p) => p.table === "filter" && p.chain === "FORWARD")?.policy, "DROP");
  assert.equal(ev.iptables, undefined, "the one-ruleset field is what older checks recorded");
  assert.ok(!ev.errors.some((e) => e.probe.startsWith("iptables")));
});

test("a missing iptables-legacy-save is an error and a gap, not an empty legacy backend", async () => {
  const missing = { exitCode: 127, stderr: 'exec: "iptables-legacy-save": executable file not found in $PATH\n' };
  const ev = await inspectHost(
    agent({ "iptables-legacy-save": missing, "iptables-nft-save": { exitCode: 0, stdout: capture("split.nft"), stderr: "" } }),
    node,
    1000,
  );
  assert.equal(ev.iptablesBackends?.legacy, undefined);
  assert.ok(ev.iptablesBackends?.nft);
  const errors = ev.errors.filter((e) => e.probe.startsWith("iptables"));
  assert.deepEqual(
    errors.map((e) => e.probe),
    ["iptables-legacy"],
  );
  assert.match(errors[0]!.message, /^iptables-legacy failed on host agent on w2: exec: "iptables-legacy-save": executable file not found/);
});

test("neither backend readable: no iptables evidence at all", async () => {
  const ev = await inspectHost(agent({}), node, 1000);
  assert.equal(ev.iptablesBackends, undefined);
  assert.deepEqual(
    ev.errors
      .filter((e) => e.probe.startsWith("iptables"))
      .map((e) => e.probe)
      .sort(),
    ["iptables-legacy", "iptables-nft"],
  );
});

// Fix commands for one iptables backend: `iptables-legacy` / `iptables-nft`
// parse like `iptables`, and everything xnode runs around them (the -C
// verification, the -S listing of a -D, the fingerprint's save, the rollback)
// names the same tool, with the same wait for the xtables lock.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { KubeClient } from "../../src/kube/kube-client.js";
import type { ExecResult } from "../../src/kube/types.js";
import type { RemediationPlan } from "../../src/model/index.js";
import { applyHostCommands } from "../../src/remediation/apply-host-commands.js";
import { takeFingerprint } from "../../src/remediation/fingerprint.js";
import { iptablesHead, parseHostAction } from "../../src/remediation/host-actions.js";
import { rollbackPlanFor } from "../../src/remediation/rollback.js";
import { buildEvidence } from "../diagnosis/fixture-builder.js";
import { execOnlyKube } from "../helpers/exec-only-kube.js";

const snapshot = buildEvidence({
  cluster: "tools",
  networks: [{ name: "lan" }],
  nodes: [{ name: "w2", podCIDR: "10.244.2.0/24", interfaces: [{ name: "eth0", network: "lan", address: "192.168.60.13/24" }] }],
  flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", network: "10.244.0.0/16", args: [] },
}).snapshot;

/** A host agent that records every argv and answers from `answer` (exit 0, no output by default). */
function recordingKube(answer: (argv: string[]) => Partial<ExecResult> = () => ({})): { kube: KubeClient; ran: string[][] } {
  const ran: string[][] = [];
  const kube = execOnlyKube((_target, argv) => {
    ran.push(argv);
    return Promise.resolve({ stdout: "", stderr: "", exitCode: 0, durationMs: 1, ...answer(argv) });
  }, "tools");
  return { kube, ran };
}

const plan = (commands: { node: string; argv: string[] }[]): RemediationPlan => ({
  kind: "set-forward-accept",
  summary: "Accept forwarded traffic",
  commands,
  diff: commands.map((c) => `${c.node}: ${c.argv.join(" ")}`),
  persistent: false,
  risks: [],
});

describe("iptables commands of one backend", () => {
  test("parse: the tool and -w [seconds] are kept; plain iptables parses as before", () => {
    assert.deepEqual(parseHostAction(["iptables-nft", "-I", "FORWARD", "1", "-s", "10.244.0.0/16", "-j", "ACCEPT"]), {
      kind: "iptables",
      tool: "iptables-nft",
      table: "filter",
      op: "-I",
      chain: "FORWARD",
      position: 1,
      spec: ["-s", "10.244.0.0/16", "-j", "ACCEPT"],
    });
    assert.deepEqual(parseHostAction(["iptables-legacy", "-w", "-A", "FORWARD", "-d", "10.244.0.0/16", "-j", "ACCEPT"]), {
      kind: "iptables",
      tool: "iptables-legacy",
      wait: true,
      table: "filter",
      op: "-A",
      chain: "FORWARD",
      spec: ["-d", "10.244.0.0/16", "-j", "ACCEPT"],
    });
    assert.deepEqual(parseHostAction(["iptables-legacy", "-t", "raw", "-w", "5", "-A", "PREROUTING", "-p", "udp", "-j", "ACCEPT"]), {
      kind: "iptables",
      tool: "iptables-legacy",
      wait: 5,
      table: "raw",
      op: "-A",
      chain: "PREROUTING",
      spec: ["-p", "udp", "-j", "ACCEPT"],
    });
    assert.deepEqual(parseHostAction(["iptables", "-A", "FORWARD", "-j", "ACCEPT"]), {
      kind: "iptables",
      table: "filter",
      op: "-A",
      chain: "FORWARD",
      spec: ["-j", "ACCEPT"],
    });
  });

  test("refused: other tools, a second -t or -w, and the commands refused for iptables", () => {
    for (const argv of [
      ["ip6tables", "-A", "FORWARD", "-j", "ACCEPT"],
      ["iptables-nft-restore"],
      ["iptables-legacy", "-F"],
      ["iptables-nft", "-P", "FORWARD", "ACCEPT"],
      ["iptables-nft", "-t", "nat", "-t", "filter", "-A", "FORWARD", "-j", "ACCEPT"],
      ["iptables-legacy", "-w", "-w", "-A", "FORWARD", "-j", "ACCEPT"],
      ["iptables-nft", "-A", "FORWARD", "-j", "ACCEPT", "-X"],
    ]) {
      assert.throws(
        () => parseHostAction(argv),
        (err: { code: string }) => err.code === "FIX_ABORTED",
        argv.join(" "),
      );
    }
  });

  test("iptablesHead names the tool and its wait", () => {
    assert.deepEqual(iptablesHead("filter", "-D", "FORWARD", { tool: "iptables-legacy", wait: true }), ["iptables-legacy", "-w", "-D", "FORWARD"]);
    assert.deepEqual(iptablesHead("nat", "-I", "POSTROUTING", { tool: "iptables-nft", wait: 3 }), [
      "iptables-nft",
      "-w",
      "3",
      "-t",
      "nat",
      "-I",
      "POSTROUTING",
    ]);
    assert.deepEqual(iptablesHead("filter", "-D", "INPUT"), ["iptables", "-D", "INPUT"]);
  });

  test("apply: an -A/-I is verified with -C of the same tool; a -D is listed with -S of the same tool", async () => {
    const listings = [["-P FORWARD DROP", "-A FORWARD -s 10.244.0.0/16 -j ACCEPT"], ["-P FORWARD DROP"]];
    const { kube, ran } = recordingKube((argv) => (argv.includes("-S") ? { stdout: listings.shift()!.join("\n") + "\n" } : {}));
    const result = await applyHostCommands(kube, snapshot, [
      { node: "w2", argv: ["iptables-nft", "-A", "FORWARD", "-s", "10.244.0.0/16", "-j", "ACCEPT"] },
      { node: "w2", argv: ["iptables-legacy", "-w", "-D", "FORWARD", "-s", "10.244.0.0/16", "-j", "ACCEPT"] },
    ]);
    assert.deepEqual(result.failures, []);
    assert.deepEqual(ran, [
      ["iptables-nft", "-A", "FORWARD", "-s", "10.244.0.0/16", "-j", "ACCEPT"],
      ["iptables-nft", "-t", "filter", "-C", "FORWARD", "-s", "10.244.0.0/16", "-j", "ACCEPT"],
      ["iptables-legacy", "-w", "-t", "filter", "-S", "FORWARD"],
      ["iptables-legacy", "-w", "-D", "FORWARD", "-s", "10.244.0.0/16", "-j", "ACCEPT"],
      ["iptables-legacy", "-w", "-t", "filter", "-S", "FORWARD"],
    ]);
    assert.equal(result.applied[0]?.verified, "iptables-nft -C FORWARD: rule present");
    assert.deepEqual(result.applied[1]?.record, { kind: "iptables", deletedAt: 1 });
  });

  test("apply: a rule -C of that backend does not find fails the command, naming the tool", async () => {
    const { kube } = recordingKube((argv) =>
      argv.includes("-C") ? { exitCode: 1, stderr: "iptables: Bad rule (does a matching rule exist in that chain?).\n" } : {},
    );
    const result = await applyHostCommands(kube, snapshot, [{ node: "w2", argv: ["iptables-nft", "-A", "FORWARD", "-s", "10.244.0.0/16", "-j", "ACCEPT"] }]);
    assert.match(result.failures[0]?.error.message ?? "", /iptables-nft -C does not find the rule/);
  });

  test("fingerprint: each edited table of each tool's ruleset, read with that tool's save", async () => {
    const { kube, ran } = recordingKube((argv) => ({ stdout: `*filter\n:FORWARD DROP [3:120]\n# ${argv[0]}\nCOMMIT\n` }));
    const fp = await takeFingerprint(
      kube,
      snapshot,
      plan([
        { node: "w2", argv: ["iptables-nft", "-A", "FORWARD", "-s", "10.244.0.0/16", "-j", "ACCEPT"] },
        { node: "w2", argv: ["iptables-legacy", "-w", "-t", "nat", "-A", "POSTROUTING", "-j", "RETURN"] },
        { node: "w2", argv: ["iptables", "-A", "INPUT", "-j", "ACCEPT"] },
      ]),
    );
    assert.deepEqual(ran.map((a) => a.join(" ")).sort(), ["iptables-legacy-save -t nat", "iptables-nft-save -t filter", "iptables-save -t filter"]);
    assert.ok(fp.iptables?.w2);
  });

  test("rollback: the same tool and wait, -A/-I become -D, a -D is put back where it was", () => {
    const undo = rollbackPlanFor({
      kind: "host-commands",
      plan: { kind: "set-forward-accept", summary: "Accept forwarded traffic" },
      commands: [
        {
          node: "w2",
          argv: ["iptables-nft", "-A", "FORWARD", "-s", "10.244.0.0/16", "-j", "ACCEPT"],
          record: { kind: "iptables" },
          verified: "",
          durationMs: 1,
        },
        {
          node: "w2",
          argv: ["iptables-legacy", "-w", "-I", "FORWARD", "1", "-d", "10.244.0.0/16", "-j", "ACCEPT"],
          record: { kind: "iptables" },
          verified: "",
          durationMs: 1,
        },
        {
          node: "w2",
          argv: ["iptables-legacy", "-w", "-D", "FORWARD", "-j", "REJECT"],
          record: { kind: "iptables", deletedAt: 2 },
          verified: "",
          durationMs: 1,
        },
      ],
    });
    assert.deepEqual(undo.diff, [
      "w2: iptables-legacy -w -I FORWARD 2 -j REJECT",
      "w2: iptables-legacy -w -D FORWARD -d 10.244.0.0/16 -j ACCEPT",
      "w2: iptables-nft -D FORWARD -s 10.244.0.0/16 -j ACCEPT",
    ]);
    assert.match(undo.risks.join(" "), /Removes the rules the fix added/);
    for (const c of undo.commands ?? []) parseHostAction(c.argv);
  });
});

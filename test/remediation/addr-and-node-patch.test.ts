// The pure parts of fix-cni0-address: which `ip addr` commands xnode
// accepts, and how their rollback undoes exactly what they changed.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parseHostAction } from "../../src/remediation/host-actions.js";
import { rollbackPlanFor } from "../../src/remediation/rollback.js";

describe("ip addr commands", () => {
  test("add and del of one IPv4 address on one device are accepted", () => {
    assert.deepEqual(parseHostAction(["ip", "addr", "add", "10.244.1.1/24", "dev", "cni0"]), {
      kind: "addr",
      verb: "add",
      address: "10.244.1.1/24",
      dev: "cni0",
    });
    assert.equal(parseHostAction(["ip", "addr", "del", "10.244.9.1/24", "dev", "cni0"]).kind, "addr");
  });

  for (const argv of [
    ["ip", "addr", "flush", "dev", "cni0"],
    ["ip", "addr", "add", "10.244.1.1", "dev", "cni0"],
    ["ip", "addr", "add", "10.244.1.1/24", "dev", "cni0", "label", "x"],
    ["ip", "addr", "add", "10.244.1.1/24", "dev", "-x"],
    ["ip", "addr", "add", "fe80::1/64", "dev", "cni0"],
  ]) {
    test(`refused before anything runs: ${argv.join(" ")}`, () => {
      assert.throws(() => parseHostAction(argv), (err: Error & { code?: string }) => err.code === "FIX_ABORTED");
    });
  }

  test("the rollback removes the gateway it added and puts back the stale address it removed, last change first", () => {
    const plan = rollbackPlanFor({
      kind: "host-commands",
      plan: { kind: "fix-cni0-address", summary: "fix cni0" },
      commands: [
        { node: "w1", argv: ["ip", "addr", "add", "10.244.1.1/24", "dev", "cni0"], record: { kind: "addr", before: ["10.244.9.1/24"] }, verified: "", durationMs: 3 },
        {
          node: "w1",
          argv: ["ip", "addr", "del", "10.244.9.1/24", "dev", "cni0"],
          record: { kind: "addr", before: ["10.244.1.1/24", "10.244.9.1/24"] },
          verified: "",
          durationMs: 2,
        },
      ],
    });
    assert.deepEqual(plan.commands, [
      { node: "w1", argv: ["ip", "addr", "add", "10.244.9.1/24", "dev", "cni0"] },
      { node: "w1", argv: ["ip", "addr", "del", "10.244.1.1/24", "dev", "cni0"] },
    ]);
    assert.ok(plan.risks.some((r) => r.includes("device's addresses back")));
    assert.ok(!plan.risks.some((r) => r.includes("routes back")));
  });

  test("a command that changed nothing (the address was already there) is not undone", () => {
    const plan = rollbackPlanFor({
      kind: "host-commands",
      plan: { kind: "fix-cni0-address", summary: "s" },
      commands: [{ node: "w1", argv: ["ip", "addr", "add", "10.244.1.1/24", "dev", "cni0"], record: { kind: "addr", before: ["10.244.1.1/24"] }, verified: "", durationMs: 1 }],
    });
    assert.deepEqual(plan.commands, []);
  });
});

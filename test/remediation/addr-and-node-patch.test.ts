// The pure parts of fix-cni0-address and remove-public-ip-overwrite: which
// `ip addr` commands xnode accepts, how their rollback undoes exactly what
// they changed, and how a Node annotation patch is read and undone.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { annotationKeys, nodePatchDiffLines, undoNodePatch } from "../../src/remediation/apply-node-patches.js";
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
      assert.throws(
        () => parseHostAction(argv),
        (err: Error & { code?: string }) => err.code === "FIX_ABORTED",
      );
    });
  }

  test("the rollback removes the gateway it added and puts back the stale address it removed, last change first", () => {
    const plan = rollbackPlanFor({
      kind: "host-commands",
      plan: { kind: "fix-cni0-address", summary: "fix cni0" },
      commands: [
        {
          node: "w1",
          argv: ["ip", "addr", "add", "10.244.1.1/24", "dev", "cni0"],
          record: { kind: "addr", before: ["10.244.9.1/24"] },
          verified: "",
          durationMs: 3,
        },
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
      commands: [
        {
          node: "w1",
          argv: ["ip", "addr", "add", "10.244.1.1/24", "dev", "cni0"],
          record: { kind: "addr", before: ["10.244.1.1/24"] },
          verified: "",
          durationMs: 1,
        },
      ],
    });
    assert.deepEqual(plan.commands, []);
  });
});

describe("Node annotation patches", () => {
  const removal = {
    node: "w1",
    ops: [
      { op: "test", path: "/metadata/annotations/flannel.alpha.coreos.com~1public-ip-overwrite", value: "192.168.70.250" },
      { op: "remove", path: "/metadata/annotations/flannel.alpha.coreos.com~1public-ip-overwrite" },
    ],
  };

  test("the keys come from the JSON pointers, ~1 read as /", () => {
    assert.deepEqual(annotationKeys(removal), ["flannel.alpha.coreos.com/public-ip-overwrite"]);
  });

  test("a removed annotation is put back with its old value; the diff reads like the plan's", () => {
    const applied = { node: "w1", annotations: [{ key: "flannel.alpha.coreos.com/public-ip-overwrite", before: "192.168.70.250" }] };
    assert.deepEqual(nodePatchDiffLines([applied]), ['Node w1: annotation flannel.alpha.coreos.com/public-ip-overwrite: "192.168.70.250" → (unset)']);
    assert.deepEqual(undoNodePatch(applied), {
      node: "w1",
      ops: [{ op: "add", path: "/metadata/annotations/flannel.alpha.coreos.com~1public-ip-overwrite", value: "192.168.70.250" }],
    });
  });

  test("an annotation the patch created is removed again, guarded by a test of the value it set", () => {
    const undo = undoNodePatch({ node: "w1", annotations: [{ key: "a/b", after: "x" }] });
    assert.deepEqual(undo.ops, [
      { op: "test", path: "/metadata/annotations/a~1b", value: "x" },
      { op: "remove", path: "/metadata/annotations/a~1b" },
    ]);
  });
});

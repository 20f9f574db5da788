// `/xnode …` text → a typed command or a reason (pure).
import assert from "node:assert/strict";
import { describe, it, test } from "node:test";
import { parseCommand } from "../../src/handlers/parse-command.js";

const clusters = ["cluster-a", "lab"];

test("valid commands", () => {
  assert.deepEqual(parseCommand("check cluster-a", clusters), { ok: true, command: { kind: "check", cluster: "cluster-a" } });
  assert.deepEqual(parseCommand("  CHECK   lab ", clusters), { ok: true, command: { kind: "check", cluster: "lab" } });
  assert.deepEqual(parseCommand("", clusters), { ok: true, command: { kind: "help" } });
  assert.deepEqual(parseCommand("audit lab", clusters), { ok: true, command: { kind: "audit", cluster: "lab" } });
  assert.deepEqual(parseCommand("digest now", clusters), { ok: true, command: { kind: "digest-now" } });
  for (const k of ["help", "clusters", "status"] as const) assert.deepEqual(parseCommand(k, clusters), { ok: true, command: { kind: k } });
});

test("every malformed input says what is wrong", () => {
  const problem = (text: string) => {
    const r = parseCommand(text, clusters);
    assert.equal(r.ok, false, text);
    return r.ok ? "" : r.problem;
  };
  assert.match(problem("check"), /exactly one cluster name/);
  assert.match(problem("check lab extra"), /exactly one cluster name/);
  assert.match(problem("check nope"), /unknown cluster "nope"; configured: cluster-a, lab/);
  assert.match(problem("check ../etc"), /is not a cluster name/);
  assert.match(problem("check $(reboot)"), /is not a cluster name/);
  assert.match(problem("status now"), /takes no arguments/);
  assert.match(problem("digest later"), /did you mean `digest now`/);
  assert.match(problem("frobnicate"), /unknown command "frobnicate"/);
  assert.match(parseCommand("check a", []).ok ? "" : (parseCommand("check a", []) as { problem: string }).problem, /configured: none/);
});

describe("parseCommand: trace", () => {
  const known = ["lab", "cluster-a"];
  it("takes a cluster and two node names", () => {
    assert.deepEqual(parseCommand("trace lab k8s-master1 k8s-node1.example.com", known), {
      ok: true,
      command: { kind: "trace", cluster: "lab", from: "k8s-master1", to: "k8s-node1.example.com" },
    });
  });
  it("refuses what is not a trace of two known things", () => {
    for (const [text, problem] of [
      ["trace lab k8s-master1", /takes a cluster name, a from-node and a to-node/],
      ["trace nope a b", /unknown cluster "nope"/],
      ["trace lab a a", /two different nodes/],
      ["trace lab $(reboot) b", /"\$\(reboot\)" is not a node name/],
      ["trace lab ../etc b", /is not a node name/],
      ["trace lab A b", /"A" is not a node name/],
    ] as const) {
      const r = parseCommand(text, known);
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.match(r.problem, problem, text);
    }
  });
});

test("an invisible character is refused with its code point, not read as a space", () => {
  for (const [text, code] of [
    ["check lab\u200b", "U+200B"],
    ["trace lab\ufeff n1 n2", "U+FEFF"],
    ["\u202echeck lab", "U+202E"],
  ] as const) {
    const parsed = parseCommand(text, ["lab"]);
    assert.equal(parsed.ok, false, JSON.stringify(text));
    assert.match(parsed.ok ? "" : parsed.problem, new RegExp(code.replace("+", "\\+")));
  }
});

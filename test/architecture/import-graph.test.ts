// src/'s dependencies point one way: no cycles between its top-level folders
// (nor between files), src/model imports nothing else of ours, nothing in src/
// imports the lab or the tests, and the bot process does not load the check
// engine. Each failure names the files to look at.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, test } from "node:test";
import { findCycles, importEdges, runtimeClosure, unitOf, type ImportEdge } from "./import-graph.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const edges = importEdges(root, `${root}src`);
const ours = edges.filter((e) => e.to.startsWith("src/"));

function describeCycle(cycle: string[], all: readonly ImportEdge[], unit: (p: string) => string): string {
  const steps = cycle.slice(1).map((to, i) => {
    const from = cycle[i]!;
    const files = all.filter((e) => unit(e.from) === from && unit(e.to) === to).map((e) => `${e.from} → ${e.to}`);
    return `  ${from} → ${to}: ${files.slice(0, 3).join("; ")}${files.length > 3 ? ` (+${files.length - 3} more)` : ""}`;
  });
  return steps.join("\n");
}

describe("import graph of src/", () => {
  test("reads the imports (sanity: the graph is not empty and sees type-only imports)", () => {
    assert.ok(ours.length > 200, `only ${ours.length} edges`);
    assert.ok(ours.some((e) => e.typeOnly) && ours.some((e) => !e.typeOnly));
  });

  test("no cycle between src/'s top-level folders", () => {
    const unitEdges = ours.map((e) => ({ from: unitOf(e.from), to: unitOf(e.to) })).filter((e) => e.from !== e.to);
    const cycles = findCycles(unitEdges);
    assert.deepEqual(cycles, [], cycles.map((c) => `cycle ${c.join(" → ")}\n${describeCycle(c, ours, unitOf)}`).join("\n"));
  });

  test("no cycle between files", () => {
    const cycles = findCycles(ours);
    assert.deepEqual(cycles, [], cycles.map((c) => `cycle ${c.join(" → ")}`).join("\n"));
  });

  test("src/model/ imports nothing else of ours", () => {
    const bad = ours.filter((e) => e.from.startsWith("src/model/") && !e.to.startsWith("src/model/"));
    assert.deepEqual(
      bad.map((e) => `${e.from} → ${e.to}`),
      [],
    );
  });

  test("src/ never imports the lab, the tests or the scripts", () => {
    const bad = edges.filter((e) => /^(lab|test|scripts)\//.test(e.to) || e.to === "@xnode/lab" || e.to.startsWith("@xnode/lab/"));
    assert.deepEqual(
      bad.map((e) => `${e.from} → ${e.to}`),
      [],
    );
  });

  test("the bot process does not load the check engine (checks run on workers)", () => {
    const loaded = [...runtimeClosure(ours, "src/processes/bot-process.ts")];
    const engine = loaded.filter((f) => /^src\/(check|diagnosis|probes|remediation)\//.test(f));
    assert.deepEqual(engine, [], "bot-process.ts loads these at run time");
  });
});

describe("the cycle finder itself", () => {
  test("finds a cycle between folders and names its path", () => {
    const cycles = findCycles([
      { from: "src/check/", to: "src/diagnosis/" },
      { from: "src/diagnosis/", to: "src/model/" },
      { from: "src/diagnosis/", to: "src/check/" },
    ]);
    assert.deepEqual(cycles, [["src/check/", "src/diagnosis/", "src/check/"]]);
  });

  test("finds a longer cycle and a self-loop; a DAG has none", () => {
    assert.deepEqual(
      findCycles([
        { from: "a", to: "b" },
        { from: "b", to: "c" },
        { from: "c", to: "a" },
      ]),
      [["a", "b", "c", "a"]],
    );
    assert.deepEqual(findCycles([{ from: "a", to: "a" }]), [["a", "a"]]);
    assert.deepEqual(
      findCycles([
        { from: "a", to: "b" },
        { from: "a", to: "c" },
        { from: "b", to: "c" },
      ]),
      [],
    );
  });

  test("type-only imports do not count as loaded at run time", () => {
    const closure = runtimeClosure(
      [
        { from: "bot", to: "types", typeOnly: true },
        { from: "bot", to: "render", typeOnly: false },
        { from: "render", to: "engine", typeOnly: false },
      ],
      "bot",
    );
    assert.deepEqual([...closure].sort(), ["bot", "engine", "render"]);
  });
});

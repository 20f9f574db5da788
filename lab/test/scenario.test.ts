// Bad scenario files are rejected with an error that names the field.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { loadScenario, parseScenario, ScenarioError } from "../src/scenario.js";

const base = () => ({
  name: "t",
  networks: [{ name: "lan", cidr: "192.168.1.0/24", gateway: "192.168.1.1" }],
  nodes: [{ name: "a", podCIDR: "10.244.0.0/24", interfaces: [{ name: "eth0", network: "lan", address: "192.168.1.2/24", defaultRoute: true }] }],
  flannel: { network: "10.244.0.0/16" },
});

function problemsOf(data: unknown): string[] {
  try {
    parseScenario(data, "t.yaml");
  } catch (err) {
    assert.ok(err instanceof ScenarioError);
    assert.match(err.message, /^invalid scenario t\.yaml:/);
    return err.problems;
  }
  assert.fail("expected the scenario to be rejected");
}

describe("scenario validation", () => {
  test("every scenario in the project parses", async () => {
    const dir = fileURLToPath(new URL("../scenarios/", import.meta.url));
    for (const f of readdirSync(dir).filter((x) => x.endsWith(".yaml"))) await loadScenario(`${dir}${f}`);
  });

  test("defaults: worker role, flannel namespace, VNI 1, port 8472, no faults", () => {
    const s = parseScenario(base());
    assert.equal(s.nodes[0]!.role, "worker");
    assert.deepEqual(
      [s.flannel.namespace, s.flannel.daemonSet, s.flannel.vni, s.flannel.port, s.flannel.backend],
      ["kube-flannel", "kube-flannel-ds", 1, 8472, "vxlan"],
    );
    assert.deepEqual(s.faults, []);
  });

  test("unknown fields are named, at any depth", () => {
    assert.deepEqual(problemsOf({ ...base(), colour: "red" }), ['(top level): unknown field(s) "colour"']);
    const s = base();
    (s.nodes[0]!.interfaces[0] as Record<string, unknown>).speed = 1000;
    assert.deepEqual(problemsOf(s), ['nodes.0.interfaces.0: unknown field(s) "speed"']);
  });

  test("bad values name their field, all of them at once", () => {
    const s = base();
    (s.nodes[0] as Record<string, unknown>).podCIDR = "10.244.0.0";
    const problems = problemsOf({
      ...s,
      name: "Bad Name",
      faults: [
        { kind: "drop-udp", node: "ghost", port: 8472 },
        { kind: "meteor", node: "a" },
      ],
    });
    assert.ok(
      problems.some((p) => p.startsWith("name: must match")),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => p.startsWith("nodes.0.podCIDR: must be an IPv4 CIDR")),
      problems.join("\n"),
    );
    assert.ok(
      problems.some((p) => p.startsWith("faults.1.kind")),
      problems.join("\n"),
    );
  });

  test("references are checked once the shapes are right", () => {
    const s = base();
    s.nodes[0]!.interfaces[0]!.network = "wan";
    const problems = problemsOf({ ...s, faults: [{ kind: "drop-udp", node: "ghost", port: 8472 }] });
    assert.deepEqual(problems, ['nodes.0.interfaces.0.network: unknown network "wan"', 'faults.0.node: unknown node "ghost"']);
  });

  test("version-2 faults: nft-drop defaults to the input hook; values and references name their field", () => {
    const ok = parseScenario({
      ...base(),
      faults: [
        { kind: "nft-drop", node: "a", proto: "udp", port: 8472 },
        { kind: "underlay-drop", network: "lan", proto: "tcp", port: 30080 },
        { kind: "iptables-backend-split", node: "a" },
      ],
    });
    assert.deepEqual(ok.faults[0], { kind: "nft-drop", node: "a", proto: "udp", port: 8472, hook: "input" });
    assert.deepEqual(
      problemsOf({
        ...base(),
        faults: [
          { kind: "underlay-drop", network: "wan", proto: "udp", port: 8472 },
          { kind: "iptables-backend-split", node: "ghost" },
        ],
      }),
      ['faults.0.network: unknown network "wan"', 'faults.1.node: unknown node "ghost"'],
    );
    const bad = problemsOf({
      ...base(),
      faults: [
        { kind: "nft-drop", node: "a", proto: "sctp", port: 8472, hook: "output" },
        { kind: "underlay-drop", node: "a", network: "lan", proto: "udp", port: 70000 },
      ],
    });
    for (const field of ["faults.0.proto", "faults.0.hook", "faults.1.port"])
      assert.ok(
        bad.some((p) => p.startsWith(`${field}:`)),
        `${field}\n${bad.join("\n")}`,
      );
    assert.ok(bad.includes('faults.1: unknown field(s) "node"'), bad.join("\n"));
  });

  test("a file that is not YAML says so", async () => {
    await assert.rejects(loadScenario("/nonexistent/scenario.yaml"), /cannot read YAML/);
  });
});

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

  test("version 2 installation fields: defaults keep version 1, each installation fills its own names and flags", () => {
    const v1 = parseScenario(base()).flannel;
    assert.deepEqual(
      [v1.distribution, v1.updateStrategy, v1.env, v1.netConfKeyCase, v1.persistentMac, v1.readyBeforeProgrammed, v1.managedBy, v1.revertAfterSeconds, v1.args],
      ["manifest", "RollingUpdate", {}, "upstream", true, false, "none", 0, ["--ip-masq", "--kube-subnet-mgr"]],
    );
    const withFlannel = (f: Record<string, unknown>) => parseScenario({ ...base(), flannel: { network: "10.244.0.0/16", ...f } }).flannel;
    const canal = withFlannel({ distribution: "rke2-canal" });
    assert.deepEqual([canal.namespace, canal.daemonSet, canal.revertAfterSeconds], ["kube-system", "rke2-canal", 2]);
    assert.ok(canal.args.includes("--iptables-forward-rules=false"), canal.args.join(" "));
    const spray = withFlannel({ distribution: "kubespray" });
    assert.deepEqual([spray.namespace, spray.daemonSet], ["kube-system", "kube-flannel"]);
    assert.deepEqual(withFlannel({ distribution: "k3s" }).args, []);
    const helm = withFlannel({ distribution: "helm", namespace: "net", managedBy: "argocd", revertAfterSeconds: 5 });
    assert.deepEqual([helm.namespace, helm.daemonSet, helm.managedBy, helm.revertAfterSeconds], ["net", "kube-flannel-ds", "argocd", 5]);
  });

  test("version 2 installation fields: impossible combinations and bad values name their field", () => {
    const problems = (f: Record<string, unknown>) => problemsOf({ ...base(), flannel: { network: "10.244.0.0/16", ...f } });
    assert.deepEqual(problems({ distribution: "k3s", daemonSet: "x", env: { FLANNELD_IFACE: "eth1" } }), [
      "flannel.daemonSet: k3s runs flannel inside k3s: there is no flannel DaemonSet",
      "flannel.env: k3s has no flannel container; give k3s flags in args",
    ]);
    assert.deepEqual(problems({ distribution: "rke2-canal", namespace: "kube-flannel", managedBy: "helm" }), [
      "flannel.namespace: rke2-canal always installs flannel in kube-system",
      "flannel.managedBy: rke2-canal is managed by RKE2's helm controller itself",
    ]);
    assert.deepEqual(problems({ revertAfterSeconds: 3 }), ["flannel.revertAfterSeconds: only a manager reverts a DaemonSet: set managedBy to helm or argocd"]);
    assert.deepEqual(problems({ distribution: "k3s", args: ["--flannel-backend=host-gw"] }), [
      'flannel.args: --flannel-backend=host-gw disagrees with backend "vxlan"',
    ]);
    const bad = problems({
      distribution: "flatcar",
      updateStrategy: "Recreate",
      netConfKeyCase: "UPPER",
      managedBy: "flux",
      env: { "bad name": "x" },
      persistentMac: "no",
    });
    for (const field of [
      "flannel.distribution",
      "flannel.updateStrategy",
      "flannel.netConfKeyCase",
      "flannel.managedBy",
      "flannel.env",
      "flannel.persistentMac",
    ]) {
      assert.ok(
        bad.some((p) => p.startsWith(`${field}`)),
        `${field}\n${bad.join("\n")}`,
      );
    }
  });

  test("version 2 node fields and faults: annotations, extraAddresses, cni0-address, vtep-mac-change", () => {
    const s = base();
    Object.assign(s.nodes[0]!, { annotations: { "flannel.alpha.coreos.com/public-ip-overwrite": "203.0.113.50" } });
    Object.assign(s.nodes[0]!.interfaces[0]!, { extraAddresses: ["192.168.1.100/24"] });
    const ok = parseScenario({
      ...s,
      faults: [
        { kind: "cni0-address", node: "a", address: "10.244.9.1/24" },
        { kind: "vtep-mac-change", node: "a" },
      ],
    });
    assert.deepEqual(ok.nodes[0]!.annotations, { "flannel.alpha.coreos.com/public-ip-overwrite": "203.0.113.50" });
    assert.deepEqual(parseScenario(base()).nodes[0]!.annotations, {});
    const bad = structuredClone(s);
    Object.assign(bad.nodes[0]!, { annotations: { "not a key!": "x" } });
    Object.assign(bad.nodes[0]!.interfaces[0]!, { extraAddresses: ["192.168.1.300"] });
    const shapes = problemsOf(bad);
    assert.ok(
      shapes.some((p) => p.startsWith("nodes.0.annotations")),
      shapes.join("\n"),
    );
    assert.ok(
      shapes.some((p) => p.startsWith("nodes.0.interfaces.0.extraAddresses.0: must be an IPv4 CIDR")),
      shapes.join("\n"),
    );
    const dupe = structuredClone(s);
    Object.assign(dupe.nodes[0]!.interfaces[0]!, { extraAddresses: ["192.168.1.2/24"] });
    assert.deepEqual(problemsOf(dupe), ["nodes.0.interfaces.0.extraAddresses: address 192.168.1.2 is given twice"]);
    assert.deepEqual(
      problemsOf({
        ...base(),
        flannel: { network: "10.244.0.0/16", backend: "host-gw" },
        faults: [
          { kind: "cni0-address", node: "a", address: "10.244.0.7/24" },
          { kind: "vtep-mac-change", node: "a" },
        ],
      }),
      [
        "faults.0.address: 10.244.0.7/24 lies in the node's own podCIDR 10.244.0.0/24: pick one from an old podCIDR",
        "faults.1.kind: vtep-mac-change needs the vxlan backend (flannel.1)",
      ],
    );
  });

  test("a file that is not YAML says so", async () => {
    await assert.rejects(loadScenario("/nonexistent/scenario.yaml"), /cannot read YAML/);
  });
});

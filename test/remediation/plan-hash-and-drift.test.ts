import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { RemediationPlan } from "../../src/model/index.js";
import { canonicalJson } from "../../src/remediation/canonical.js";
import { assertSameDiff } from "../../src/remediation/dry-run.js";
import { describeDrift } from "../../src/remediation/fingerprint.js";
import { planHash } from "../../src/remediation/plan-hash.js";

const patchPlan: RemediationPlan = {
  kind: "patch-flannel-iface",
  summary: "Make flannel use enp0s8",
  patch: {
    namespace: "kube-system",
    name: "kube-flannel-ds-amd64",
    ops: [
      { op: "test", path: "/metadata/resourceVersion", value: "18" },
      { op: "replace", path: "/spec/template/spec/containers/0/args", value: ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"] },
    ],
  },
  diff: ["args: [--ip-masq, --kube-subnet-mgr] → [--ip-masq, --kube-subnet-mgr, --iface=enp0s8]"],
  persistent: true,
  risks: ["restarts flannel"],
};

describe("planHash", () => {
  test("is a sha256 hex that does not depend on key order", () => {
    const reordered = JSON.parse(
      JSON.stringify({
        risks: patchPlan.risks,
        persistent: true,
        diff: patchPlan.diff,
        patch: { ops: patchPlan.patch!.ops.map((o) => ({ value: o.value, path: o.path, op: o.op })), name: "kube-flannel-ds-amd64", namespace: "kube-system" },
        summary: patchPlan.summary,
        kind: patchPlan.kind,
      }),
    ) as RemediationPlan;
    assert.match(planHash(patchPlan), /^[0-9a-f]{64}$/);
    assert.equal(planHash(reordered), planHash(patchPlan));
  });

  test("ignores wording, follows what runs", () => {
    assert.equal(planHash({ ...patchPlan, summary: "other words", risks: [], diff: [] }), planHash(patchPlan));
    const otherRv = structuredClone(patchPlan);
    otherRv.patch!.ops[0]!.value = "19";
    assert.notEqual(planHash(otherRv), planHash(patchPlan));
    const cmd = (argv: string[]): RemediationPlan => ({
      kind: "add-routes",
      summary: "",
      commands: [{ node: "a", argv }],
      diff: [],
      persistent: false,
      risks: [],
    });
    assert.notEqual(
      planHash(cmd(["ip", "route", "replace", "10.244.1.0/24", "via", "1.1.1.1"])),
      planHash(cmd(["ip", "route", "replace", "10.244.1.0/24", "via", "1.1.1.2"])),
    );
    assert.notEqual(planHash({ ...patchPlan, kind: "add-routes" }), planHash(patchPlan));
  });

  test("follows the custom object written and the pods restarted", () => {
    const restart = { ...patchPlan, restartPods: { namespace: "kube-system", daemonSet: "kube-flannel-ds-amd64", nodes: ["a", "b"] } };
    assert.notEqual(planHash(restart), planHash(patchPlan));
    assert.notEqual(planHash({ ...restart, restartPods: { ...restart.restartPods, nodes: ["b", "a"] } }), planHash(restart));
    const hcc = (valuesContent: string): RemediationPlan => ({
      ...patchPlan,
      patch: undefined,
      customObject: {
        group: "helm.cattle.io",
        version: "v1",
        plural: "helmchartconfigs",
        namespace: "kube-system",
        name: "rke2-canal",
        create: { spec: { valuesContent } },
      },
    });
    assert.notEqual(planHash(hcc("flannel:\n  iface: eth1\n")), planHash(hcc("flannel:\n  iface: eth2\n")));
    assert.equal(
      planHash({ ...hcc("x"), expectedPublicIPs: { a: "1.2.3.4" }, steps: ["words"] }),
      planHash(hcc("x")),
      "what is awaited or said is not what runs",
    );
  });

  test("canonicalJson sorts keys at every depth and keeps array order", () => {
    assert.equal(canonicalJson({ b: [2, { d: 1, c: 2 }], a: undefined, A: null }), '{"A":null,"b":[2,{"c":2,"d":1}]}');
  });
});

describe("describeDrift", () => {
  const ds = { namespace: "kube-system", name: "kube-flannel-ds-amd64", found: true, generation: 3 };

  test("nothing moved → undefined", () => {
    const fp = { daemonSet: ds, routes: { a: "h1" }, iptables: { a: "i1" }, sysctls: { a: { "net.ipv4.ip_forward": "0" } } };
    assert.equal(describeDrift(fp, structuredClone(fp)), undefined);
  });

  test("names the DaemonSet and both generations; status writes (no generation change) are no drift", () => {
    assert.equal(
      describeDrift({ daemonSet: ds }, { daemonSet: { ...ds, generation: 4 } }),
      "DaemonSet kube-system/kube-flannel-ds-amd64 changed: generation 3 → 4",
    );
    assert.equal(
      describeDrift({ daemonSet: ds }, { daemonSet: { namespace: ds.namespace, name: ds.name, found: false } }),
      "DaemonSet kube-system/kube-flannel-ds-amd64 no longer exists",
    );
  });

  test("a custom object: created meanwhile, gone, or its valuesContent changed", () => {
    const object = "HelmChartConfig kube-system/rke2-canal";
    assert.equal(
      describeDrift({ customObject: { object, found: false } }, { customObject: { object, found: true, valuesHash: "a" } }),
      `${object} was created since the plan was made`,
    );
    assert.equal(
      describeDrift({ customObject: { object, found: true, valuesHash: "a" } }, { customObject: { object, found: false } }),
      `${object} no longer exists`,
    );
    assert.equal(
      describeDrift({ customObject: { object, found: true, valuesHash: "a" } }, { customObject: { object, found: true, valuesHash: "b" } }),
      `${object}'s valuesContent changed since the plan was made`,
    );
    assert.equal(
      describeDrift({ customObject: { object, found: true, valuesHash: "a" } }, { customObject: { object, found: true, valuesHash: "a" } }),
      undefined,
    );
  });

  test("names each node whose state moved, joined in one line", () => {
    const before = { routes: { "k8s-master1": "r1", "k8s-node1": "r2" }, iptables: { w2: "x" }, sysctls: { w1: { "net.ipv4.ip_forward": "0" } } };
    const now = { routes: { "k8s-master1": "r1", "k8s-node1": "r3" }, iptables: { w2: "y" }, sysctls: { w1: { "net.ipv4.ip_forward": "1" } } };
    assert.equal(
      describeDrift(before, now),
      "routes on k8s-node1 changed since the plan was made; iptables rules on w2 changed since the plan was made; net.ipv4.ip_forward on w1 changed: 0 → 1",
    );
  });
});

describe("assertSameDiff", () => {
  test("passes identical diffs, names the first differing line otherwise", () => {
    assertSameDiff(["a", "b"], ["a", "b"]);
    assert.throws(
      () => assertSameDiff(["a", "b"], ["a", "c"]),
      (err: { code: string; message: string }) => err.code === "FIX_ABORTED" && /line 2 approved "b", dry run "c"/.test(err.message),
    );
    assert.throws(() => assertSameDiff(["a"], ["a", "c"]), /line 2 approved \(no line\), dry run "c"/);
  });
});

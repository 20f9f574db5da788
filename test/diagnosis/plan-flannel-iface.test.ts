// patch-flannel-iface on every installation: where the setting goes (args,
// FLANNELD_* env, RKE2's HelmChartConfig, k3s's node config), what guards it
// (the fields it replaces, never the resourceVersion), the pods restarted
// under OnDelete, the revert a manager will make and the values to commit.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { parse, parseAllDocuments } from "yaml";
import type { CheckEvidence, ClusterSnapshot, RemediationPlan } from "../../src/model/index.js";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import { mergeFlannelValue } from "../../src/diagnosis/remediation/plan-iface-rke2.js";
import * as fx from "./fixtures.js";

type Flannel = ClusterSnapshot["flannel"];
const C0 = "/spec/template/spec/containers/0";

/** The seed's evidence, installed differently. */
function seed(install: (f: Flannel) => void): CheckEvidence {
  const ev = fx.seedVirtualboxNat();
  install(ev.snapshot.flannel);
  return ev;
}

function plans(ev: CheckEvidence): RemediationPlan[] {
  const f = diagnose(ev).find((x) => x.id === "vtep-wrong-interface");
  assert.ok(f, "the seed's cause is found");
  return f.remediations;
}

function ifacePlan(ev: CheckEvidence): RemediationPlan {
  const p = plans(ev).find((r) => r.kind === "patch-flannel-iface");
  assert.ok(p, "a patch-flannel-iface plan");
  return p;
}

const SEED_ADDRESSES = { "k8s-master1": "192.168.56.101", "k8s-node1": "192.168.56.102" };
const argsFlags = (source: "args" | "command") => [
  { name: "ip-masq", values: [], source, from: source },
  { name: "kube-subnet-mgr", values: [], source, from: source },
];

describe("patch-flannel-iface: upstream manifest and kubespray", () => {
  test("manifest: the flannel container's args, guarded by its name and current args; the re-check waits for the new addresses", () => {
    const p = ifacePlan(
      seed((f) => {
        f.distribution = "manifest";
        f.flags = argsFlags("args");
      }),
    );
    assert.deepEqual(p.patch?.ops, [
      { op: "test", path: `${C0}/name`, value: "kube-flannel" },
      { op: "test", path: `${C0}/args`, value: ["--ip-masq", "--kube-subnet-mgr"] },
      { op: "add", path: `${C0}/args`, value: ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"] },
    ]);
    assert.deepEqual(p.expectedPublicIPs, SEED_ADDRESSES);
    assert.equal(p.restartPods, undefined);
    assert.equal(p.revertedBy, undefined);
    assert.notEqual(p.approvable, false);
    assert.doesNotMatch(JSON.stringify(p), /resourceVersion"/);
  });

  test("the flannel container by name: canal-like second container gets the patch at its index", () => {
    const p = ifacePlan(
      seed((f) => {
        f.daemonSet = { ...f.daemonSet!, container: "kube-flannel", containerIndex: 1 };
      }),
    );
    assert.ok(p.patch?.ops.every((o) => o.path.startsWith("/spec/template/spec/containers/1/")));
    assert.deepEqual(p.patch?.ops[0], { op: "test", path: "/spec/template/spec/containers/1/name", value: "kube-flannel" });
  });

  test("FLANNELD_IFACE from the env wins (no --iface on the command line): its env entry is replaced, args untouched", () => {
    const ev = seed((f) => {
      f.daemonSet = {
        ...f.daemonSet!,
        env: [
          { name: "POD_NAME", index: 0 },
          { name: "FLANNELD_IFACE", value: "enp0s3", index: 1 },
        ],
      };
      f.flags = [...argsFlags("args"), { name: "iface", values: ["enp0s3"], source: "env", from: "env FLANNELD_IFACE" }];
    });
    const p = ifacePlan(ev);
    assert.deepEqual(p.patch?.ops, [
      { op: "test", path: `${C0}/name`, value: "kube-flannel" },
      { op: "test", path: `${C0}/env/1/name`, value: "FLANNELD_IFACE" },
      { op: "test", path: `${C0}/env/1/value`, value: "enp0s3" },
      { op: "replace", path: `${C0}/env/1`, value: { name: "FLANNELD_IFACE", value: "enp0s8" } },
    ]);
    assert.deepEqual(p.diff, ['env FLANNELD_IFACE: "enp0s3" → "enp0s8"']);
    assert.match(p.summary, /FLANNELD_IFACE env/);
  });

  test("FLANNELD_IFACE from a ConfigMap: the entry becomes a literal, guarded by its ConfigMap reference, and the risk says the key stops counting", () => {
    const p = ifacePlan(
      seed((f) => {
        f.daemonSet = { ...f.daemonSet!, env: [{ name: "FLANNELD_IFACE", value: "enp0s3", configMapKey: { name: "flannel-cfg", key: "iface" }, index: 0 }] };
        f.flags = [{ name: "iface", values: ["enp0s3"], source: "env", from: "env FLANNELD_IFACE ← ConfigMap flannel-cfg key iface" }];
      }),
    );
    assert.deepEqual(p.patch?.ops.slice(1), [
      { op: "test", path: `${C0}/env/0/name`, value: "FLANNELD_IFACE" },
      { op: "test", path: `${C0}/env/0/valueFrom/configMapKeyRef/name`, value: "flannel-cfg" },
      { op: "test", path: `${C0}/env/0/valueFrom/configMapKeyRef/key`, value: "iface" },
      { op: "replace", path: `${C0}/env/0`, value: { name: "FLANNELD_IFACE", value: "enp0s8" } },
    ]);
    assert.deepEqual(p.diff, ['env FLANNELD_IFACE: (ConfigMap flannel-cfg key iface) → "enp0s8"']);
    assert.ok(p.risks.some((r) => /FLANNELD_IFACE came from ConfigMap flannel-cfg key iface/.test(r)));
  });

  test("an env FLANNELD_IFACE that --iface on the command line overrides is left alone: args are patched", () => {
    const p = ifacePlan(
      seed((f) => {
        f.daemonSet = { ...f.daemonSet!, args: ["--ip-masq", "--iface=enp0s3"], env: [{ name: "FLANNELD_IFACE", value: "eth9", index: 0 }] };
        f.flags = [{ name: "iface", values: ["enp0s3"], source: "args", from: "args" }];
      }),
    );
    assert.deepEqual(p.diff, ["args: [--ip-masq, --iface=enp0s3] → [--ip-masq, --iface=enp0s8]"]);
    assert.ok(!p.patch!.ops.some((o) => o.path.includes("/env")));
  });

  test("a FLANNELD_IFACE_REGEX read from the env would still be tried: it is removed, and --iface goes on the command line", () => {
    const p = ifacePlan(
      seed((f) => {
        f.daemonSet = { ...f.daemonSet!, env: [{ name: "FLANNELD_IFACE_REGEX", value: "^10\\.0\\.2\\.", index: 2 }] };
        f.flags = [...argsFlags("args"), { name: "iface-regex", values: ["^10\\.0\\.2\\."], source: "env", from: "env FLANNELD_IFACE_REGEX" }];
      }),
    );
    assert.deepEqual(p.patch?.ops.slice(-3), [
      { op: "test", path: `${C0}/env/2/name`, value: "FLANNELD_IFACE_REGEX" },
      { op: "test", path: `${C0}/env/2/value`, value: "^10\\.0\\.2\\." },
      { op: "remove", path: `${C0}/env/2` },
    ]);
    assert.deepEqual(p.diff, [
      "args: [--ip-masq, --kube-subnet-mgr] → [--ip-masq, --kube-subnet-mgr, --iface=enp0s8]",
      'env FLANNELD_IFACE_REGEX: "^10\\\\.0\\\\.2\\\\." → (unset)',
    ]);
  });

  test("old manifest: flags in command move to args, both guarded", () => {
    const p = ifacePlan(
      seed((f) => {
        f.daemonSet = { ...f.daemonSet!, command: ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"], args: ["--ip-masq", "--kube-subnet-mgr"] };
        f.flags = argsFlags("command");
      }),
    );
    assert.deepEqual(p.patch?.ops, [
      { op: "test", path: `${C0}/name`, value: "kube-flannel" },
      { op: "test", path: `${C0}/command`, value: ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"] },
      { op: "replace", path: `${C0}/command`, value: ["/opt/bin/flanneld"] },
      { op: "add", path: `${C0}/args`, value: ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"] },
    ]);
  });

  test("OnDelete: the patch, then flannel's pods deleted node by node, said in the diff and the risks", () => {
    const p = ifacePlan(
      seed((f) => {
        f.daemonSet = { ...f.daemonSet!, updateStrategy: "OnDelete" };
      }),
    );
    assert.deepEqual(p.restartPods, { namespace: "kube-system", daemonSet: "kube-flannel-ds-amd64", nodes: ["k8s-master1", "k8s-node1"] });
    assert.deepEqual(p.diff, [
      "args: [--ip-masq, --kube-subnet-mgr] → [--ip-masq, --kube-subnet-mgr, --iface=enp0s8]",
      "then restart the pods of kube-flannel-ds-amd64 one node at a time (k8s-master1, k8s-node1), each Ready and programmed before the next",
    ]);
    assert.ok(p.risks.some((r) => /OnDelete/.test(r) && /Ready and has programmed the node before the next/.test(r)));
  });

  test("kubespray: the patch says kubespray's next run reverts it, and gives the inventory variable", () => {
    const p = ifacePlan(
      seed((f) => {
        f.distribution = "kubespray";
        f.daemonSet = { ...f.daemonSet!, name: "kube-flannel" };
      }),
    );
    assert.equal(p.revertedBy?.manager, "kubespray");
    assert.equal(p.revertedBy?.values, "flannel_interface: enp0s8\n");
    assert.match(p.revertedBy!.commitTo, /group_vars\/k8s_cluster\/k8s-net-flannel\.yml/);
    assert.match(p.summary, /temporary: the next kubespray run \(cluster\.yml\) reverts it/);
  });
});

describe("patch-flannel-iface: Helm, Argo CD, Flux", () => {
  test("flannel's chart under Helm: patch now, say the next helm upgrade reverts it, give flannel.args as exact YAML", () => {
    const p = ifacePlan(
      seed((f) => {
        f.distribution = "helm";
        f.manager = { kind: "helm", evidence: "label app.kubernetes.io/managed-by=Helm", release: "flannel" };
        f.daemonSet = { ...f.daemonSet!, namespace: "kube-flannel", name: "kube-flannel-ds" };
      }),
    );
    assert.ok(p.patch, "the patch is still made now");
    assert.equal(p.revertedBy?.manager, "helm");
    assert.equal(p.revertedBy?.values, "flannel:\n  args:\n    - --ip-masq\n    - --kube-subnet-mgr\n    - --iface=enp0s8\n");
    assert.deepEqual(parse(p.revertedBy!.values), { flannel: { args: ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"] } });
    assert.match(p.revertedBy!.commitTo, /Helm release flannel \(chart value flannel\.args\)/);
    assert.match(p.summary, /temporary: the next helm upgrade reverts it/);
    assert.match(p.risks[0]!, /^The next helm upgrade reverts this patch \(label app\.kubernetes\.io\/managed-by=Helm\)/);
  });

  test("the chart synced by Argo CD: the revert is Argo CD's, the values still flannel.args", () => {
    const p = ifacePlan(
      seed((f) => {
        f.distribution = "helm";
        f.manager = { kind: "argocd", evidence: "label argocd.argoproj.io/instance=flannel", release: "flannel" };
      }),
    );
    assert.match(p.summary, /the next Argo CD sync reverts it/);
    assert.match(p.revertedBy!.commitTo, /Argo CD application flannel/);
    assert.deepEqual(parse(p.revertedBy!.values), { flannel: { args: ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"] } });
  });

  test("a plain manifest synced by Flux: the values are the DaemonSet's container as it must be committed", () => {
    const p = ifacePlan(
      seed((f) => {
        f.distribution = "manifest";
        f.manager = { kind: "flux", evidence: "label kustomize.toolkit.fluxcd.io/name=infra", release: "infra" };
      }),
    );
    assert.match(p.summary, /the next Flux reconciliation reverts it/);
    // the DaemonSet does not show whether Flux renders the chart or applies the manifest: both, as two documents
    assert.deepEqual(
      parseAllDocuments(p.revertedBy!.values).map((d) => d.toJS()),
      [
        { flannel: { args: ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"] } },
        { spec: { template: { spec: { containers: [{ name: "kube-flannel", args: ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"] }] } } } },
      ],
    );
    assert.match(
      p.revertedBy!.commitTo,
      /chart value flannel\.args if it renders flannel's Helm chart \(first document\), else the DaemonSet kube-system\/kube-flannel-ds-amd64/,
    );
  });
});

describe("patch-flannel-iface: RKE2 canal", () => {
  const rke2 = (hcc?: Flannel["helmChartConfig"]) =>
    seed((f) => {
      f.distribution = "rke2-canal";
      f.manager = { kind: "rke2-helm-controller", evidence: "annotation meta.helm.sh/release-name=rke2-canal", release: "rke2-canal" };
      f.daemonSet = {
        ...f.daemonSet!,
        name: "rke2-canal",
        container: "kube-flannel",
        containerIndex: 1,
        env: [
          { name: "POD_NAME", index: 0 },
          { name: "FLANNELD_IFACE", configMapKey: { name: "rke2-canal-config", key: "canal_iface" }, value: "", index: 2 },
        ],
      };
      if (hcc) f.helmChartConfig = hcc;
    });

  test("no HelmChartConfig yet: one is created with flannel.iface; no DaemonSet patch (RKE2 would revert it); pods restarted once the controller applied it", () => {
    const p = ifacePlan(rke2());
    assert.equal(p.patch, undefined);
    assert.deepEqual(p.customObject, {
      group: "helm.cattle.io",
      version: "v1",
      plural: "helmchartconfigs",
      namespace: "kube-system",
      name: "rke2-canal",
      create: {
        apiVersion: "helm.cattle.io/v1",
        kind: "HelmChartConfig",
        metadata: { namespace: "kube-system", name: "rke2-canal" },
        spec: { valuesContent: "flannel:\n  iface: enp0s8\n" },
      },
      reconciledWhen: { namespace: "kube-system", name: "rke2-canal-config", key: "canal_iface", value: "enp0s8" },
    });
    assert.deepEqual(p.restartPods, { namespace: "kube-system", daemonSet: "rke2-canal", nodes: ["k8s-master1", "k8s-node1"] });
    assert.deepEqual(p.diff, [
      'HelmChartConfig kube-system/rke2-canal (new): flannel.iface: (unset) → "enp0s8"',
      "then restart the pods of rke2-canal one node at a time (k8s-master1, k8s-node1), each Ready and programmed before the next",
    ]);
    assert.deepEqual(p.expectedPublicIPs, SEED_ADDRESSES);
    assert.equal(p.revertedBy, undefined, "the HelmChartConfig is what RKE2 keeps");
  });

  test("an existing HelmChartConfig: its valuesContent merged (other values and comments kept), guarded by a test of the old text", () => {
    const old = "# site settings\ncalico:\n  vethuMTU: 1400\nflannel:\n  backend: vxlan\n";
    const p = ifacePlan(rke2({ namespace: "kube-system", name: "rke2-canal", exists: true, valuesContent: old, resourceVersion: "88" }));
    const merged = "# site settings\ncalico:\n  vethuMTU: 1400\nflannel:\n  backend: vxlan\n  iface: enp0s8\n";
    assert.deepEqual(p.customObject?.ops, [
      { op: "test", path: "/spec/valuesContent", value: old },
      { op: "add", path: "/spec/valuesContent", value: merged },
    ]);
    assert.equal(p.customObject?.create, undefined);
    assert.equal(p.diff[0], 'HelmChartConfig kube-system/rke2-canal: flannel.iface: (unset) → "enp0s8"');
  });

  test("mergeFlannelValue: an iface already set is replaced; a regex clears iface (flanneld tries iface first); YAML it cannot merge into is refused", () => {
    assert.deepEqual(parse(mergeFlannelValue("flannel:\n  iface: enp0s3\n", "iface", "enp0s8")!), { flannel: { iface: "enp0s8" } });
    assert.deepEqual(parse(mergeFlannelValue("flannel:\n  iface: enp0s3\n", "regexIface", "^192\\.168\\.")!), {
      flannel: { iface: "", regexIface: "^192\\.168\\." },
    });
    assert.equal(mergeFlannelValue("flannel: [1, 2]\n", "iface", "x"), undefined);
    assert.equal(mergeFlannelValue("just text", "iface", "x"), undefined);
    assert.equal(mergeFlannelValue("a: [", "iface", "x"), undefined);
  });

  test("unmergeable valuesContent: steps for a person, no button", () => {
    const p = ifacePlan(rke2({ namespace: "kube-system", name: "rke2-canal", exists: true, valuesContent: "flannel: 3\n" }));
    assert.equal(p.approvable, false);
    assert.equal(p.customObject, undefined);
    assert.match(p.steps![0]!, /kubectl -n kube-system edit helmchartconfig rke2-canal/);
  });
});

describe("patch-flannel-iface: k3s", () => {
  const k3s = (ev: CheckEvidence) => {
    ev.snapshot.flannel.distribution = "k3s";
    delete ev.snapshot.flannel.daemonSet;
    ev.snapshot.flannel.pods = [];
    return ev;
  };

  test("steps for each node's k3s config, no Approve button; the add-routes stopgap beside it stays approvable", () => {
    const ev = k3s(fx.seedVirtualboxNat());
    ev.snapshot.nodes[1]!.flannel.flags = [{ name: "flannel-iface", values: ["enp0s3"], source: "k3s-node-args", from: "k3s.io/node-args" }];
    const all = plans(ev);
    const p = all.find((r) => r.kind === "patch-flannel-iface")!;
    assert.equal(p.approvable, false);
    assert.equal(p.patch, undefined);
    assert.equal(p.customObject, undefined);
    assert.deepEqual(p.diff, ["k8s-master1: flannel-iface (unset) → enp0s8", "k8s-node1: flannel-iface enp0s3 → enp0s8"]);
    assert.match(p.steps![0]!, /^On k8s-master1: in \/etc\/rancher\/k3s\/config\.yaml add `flannel-iface: enp0s8`, then restart k3s/);
    assert.match(p.steps![1]!, /^On k8s-node1: in \/etc\/rancher\/k3s\/config\.yaml change `flannel-iface: enp0s3` to `flannel-iface: enp0s8`/);
    assert.ok(p.steps!.some((s) => /systemctl restart k3s-agent/.test(s)));
    const routes = all.find((r) => r.kind === "add-routes");
    assert.ok(routes?.commands?.length, "the approvable stopgap");
    assert.notEqual(routes.approvable, false);
  });

  test("each node gets its own interface name (per-node config), where a DaemonSet would need a regex", () => {
    const p = ifacePlan(k3s(fx.natWithDifferentInterfaceNames()));
    assert.equal(p.approvable, false);
    const names = p.diff.map((d) => d.split(" → ")[1]);
    assert.ok(new Set(names).size > 1, `per-node names: ${p.diff.join("; ")}`);
    assert.ok(!p.diff.some((d) => d.includes("regex")));
  });
});

// The installation renderers and flanneld's flag resolution, pure: what each
// distribution puts into the cluster, and which flags flanneld ends up with
// from command, args and FLANNELD_* env (coreos/pkg flagutil's precedence).
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { effectiveFlannelArgs } from "../src/install/flanneld-flags.js";
import { flannelArgsFor, installationObjects } from "../src/install/installation.js";
import { flannelArgsFromK3s, parseK3sNodeArgs } from "../src/install/k3s.js";
import { netConfJson } from "../src/install/net-conf.js";
import { baseCanalValues, canalValuesWith } from "../src/install/rke2-canal.js";
import { parseScenario, type Scenario } from "../src/scenario.js";

const scenario = (flannel: Record<string, unknown>): Scenario =>
  parseScenario({
    name: "t",
    networks: [{ name: "lan", cidr: "192.168.1.0/24" }],
    nodes: [{ name: "a", podCIDR: "10.244.0.0/24", interfaces: [{ name: "eth0", network: "lan", address: "192.168.1.2/24", defaultRoute: true }] }],
    flannel: { network: "10.244.0.0/16", ...flannel },
  });
const noConfigMaps = () => undefined;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const spec = (s: Scenario): any => installationObjects(s).daemonSet!.spec;

describe("flanneld's flags from command, args and env", () => {
  test("FLANNELD_<FLAG> fills a flag only when the command line does not set it; empty values count as unset", () => {
    const c = (argv: string[], env: Record<string, string>) => ({
      command: ["/opt/bin/flanneld", ...argv],
      env: Object.entries(env).map(([name, value]) => ({ name, value })),
    });
    assert.deepEqual(effectiveFlannelArgs(c(["--ip-masq"], { FLANNELD_IFACE: "eth1" }), noConfigMaps), ["--ip-masq", "--iface=eth1"]);
    assert.deepEqual(effectiveFlannelArgs(c(["--iface", "eth0"], { FLANNELD_IFACE: "eth1" }), noConfigMaps), ["--iface", "eth0"]);
    assert.deepEqual(effectiveFlannelArgs(c([], { FLANNELD_IFACE: "", FLANNELD_IFACE_REGEX: "^10\\." }), noConfigMaps), ["--iface-regex=^10\\."]);
    // an env var flanneld has no flag for is not a flag
    assert.deepEqual(effectiveFlannelArgs(c([], { FLANNELD_COLOUR: "red" }), noConfigMaps), []);
  });

  test("configMapKeyRef values are read from the ConfigMap (rke2-canal's canal_iface)", () => {
    const s = scenario({ distribution: "rke2-canal" });
    const configMaps = installationObjects(s).configMaps;
    const key = (name: string, k: string) => (configMaps.find((c) => c.metadata.name === name)?.data as Record<string, string> | undefined)?.[k];
    // canal_iface "" (chart default): no --iface; masquerade "true" fills --ip-masq only if absent (it is on the command line)
    assert.deepEqual(flannelArgsFor(s, { podSpec: spec(s).template.spec, configMapKey: key }), [
      "--ip-masq",
      "--kube-subnet-mgr",
      "--iptables-forward-rules=false",
      "--ip-blackhole-route",
      "--healthz-port=8081",
    ]);
    const withIface = canalValuesWith(baseCanalValues(s), "flannel:\n  iface: eth1\n");
    assert.ok(withIface.ok);
    const rendered = installationObjects(s, withIface.values);
    const key2 = (name: string, k: string) => (rendered.configMaps.find((c) => c.metadata.name === name)?.data as Record<string, string>)[k];
    assert.equal(key2("rke2-canal-config", "canal_iface"), "eth1");
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    assert.ok(flannelArgsFor(s, { podSpec: (rendered.daemonSet!.spec as any).template.spec, configMapKey: key2 }).includes("--iface=eth1"));
  });

  test("k3s: --flannel-iface from k3s.io/node-args, both spellings, last one wins", () => {
    assert.deepEqual(flannelArgsFromK3s(parseK3sNodeArgs('["server","--flannel-iface","eth1"]')), ["--ip-masq", "--kube-subnet-mgr", "--iface=eth1"]);
    assert.deepEqual(flannelArgsFromK3s(parseK3sNodeArgs('["agent","--flannel-iface=eth0","--flannel-iface=eth2"]')), [
      "--ip-masq",
      "--kube-subnet-mgr",
      "--iface=eth2",
    ]);
    assert.deepEqual(flannelArgsFromK3s(parseK3sNodeArgs("not json")), ["--ip-masq", "--kube-subnet-mgr"]);
  });

  test("valuesContent that Helm cannot use fails the upgrade with a reason", () => {
    const base = baseCanalValues(scenario({ distribution: "rke2-canal" }));
    assert.equal(canalValuesWith(base, "flannel: [1").ok, false);
    assert.deepEqual(canalValuesWith(base, "flannel:\n  iface: 7\n"), {
      ok: false,
      error: "flannel.iface and flannel.regexIface must be strings, flannel.args a list of strings",
    });
    assert.deepEqual(canalValuesWith(base, ""), { ok: true, values: base });
  });
});

describe("what each distribution renders", () => {
  test("manifest: kube-flannel-ds, flags in args, env after the pod fields, RollingUpdate unless OnDelete", () => {
    const s = scenario({ env: { FLANNELD_IFACE: "eth1" } });
    const c = spec(s).template.spec.containers[0];
    assert.deepEqual([c.name, c.command, c.args], ["kube-flannel", ["/opt/bin/flanneld"], ["--ip-masq", "--kube-subnet-mgr"]]);
    assert.deepEqual(c.env.at(-1), { name: "FLANNELD_IFACE", value: "eth1" });
    assert.equal(spec(s).updateStrategy.type, "RollingUpdate");
    assert.deepEqual(spec(scenario({ updateStrategy: "OnDelete" })).updateStrategy, { type: "OnDelete" });
  });

  test("helm: the chart's labels, flags in command with --healthz-port; managedBy helm / argocd leave their marks", () => {
    const helm = installationObjects(scenario({ distribution: "helm", namespace: "cni", managedBy: "helm" })).daemonSet!;
    assert.deepEqual(helm.metadata.labels, { tier: "node", app: "flannel", "app.kubernetes.io/managed-by": "Helm" });
    assert.deepEqual(helm.metadata.annotations, { "meta.helm.sh/release-name": "flannel", "meta.helm.sh/release-namespace": "cni" });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    assert.deepEqual((helm.spec as any).template.spec.containers[0].command, ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr", "--healthz-port=8081"]);
    const argo = installationObjects(scenario({ distribution: "helm", managedBy: "argocd", revertAfterSeconds: 9 })).daemonSet!;
    assert.equal(argo.metadata.labels!["app.kubernetes.io/instance"], "flannel");
    assert.equal(argo.metadata.annotations!["argocd.argoproj.io/tracking-id"], "flannel:apps/DaemonSet:kube-flannel/kube-flannel-ds");
  });

  test("kubespray: kube-flannel in kube-system, k8s-app=flannel, install-cni as an ordinary second container", () => {
    const ds = installationObjects(scenario({ distribution: "kubespray" })).daemonSet!;
    assert.deepEqual([ds.metadata.namespace, ds.metadata.name], ["kube-system", "kube-flannel"]);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const podSpec = (ds.spec as any).template.spec;
    assert.deepEqual(
      podSpec.containers.map((c: { name: string }) => c.name),
      ["kube-flannel", "install-cni"],
    );
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    assert.deepEqual((ds.spec as any).selector.matchLabels, { tier: "node", "k8s-app": "flannel" });
    assert.deepEqual(podSpec.containers[0].command, ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr"]);
  });

  test("rke2-canal: calico-node then kube-flannel, FLANNELD_IFACE from rke2-canal-config canal_iface, Helm's marks, a HelmChart", () => {
    const objs = installationObjects(scenario({ distribution: "rke2-canal", env: { FLANNELD_IFACE: "ens19" } }));
    const ds = objs.daemonSet!;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const containers = (ds.spec as any).template.spec.containers;
    assert.deepEqual(
      containers.map((c: { name: string }) => c.name),
      ["calico-node", "kube-flannel"],
    );
    assert.deepEqual(
      containers[1].env.find((e: { name: string }) => e.name === "FLANNELD_IFACE"),
      { name: "FLANNELD_IFACE", valueFrom: { configMapKeyRef: { name: "rke2-canal-config", key: "canal_iface" } } },
    );
    assert.equal((objs.configMaps[0]!.data as Record<string, string>).canal_iface, "ens19");
    assert.equal(ds.metadata.labels!["app.kubernetes.io/managed-by"], "Helm");
    assert.deepEqual(
      objs.others.map((o) => `${o.kind} ${o.metadata.namespace}/${o.metadata.name}`),
      ["HelmChart kube-system/rke2-canal"],
    );
  });

  test("k3s: nothing at all", () => {
    assert.deepEqual(installationObjects(scenario({ distribution: "k3s" })), { configMaps: [], others: [] });
  });

  test("net-conf.json: lower-case keys on request, same values", () => {
    assert.deepEqual(JSON.parse(netConfJson(scenario({ netConfKeyCase: "lower", vni: 4096, port: 4789 }))), {
      network: "10.244.0.0/16",
      backend: { type: "vxlan", vni: 4096, port: 4789 },
    });
    assert.deepEqual(JSON.parse(netConfJson(scenario({}))), { Network: "10.244.0.0/16", Backend: { Type: "vxlan", VNI: 1, Port: 8472 } });
  });
});

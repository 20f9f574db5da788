// Discovery over real installations (test/fixtures/installations/, each file
// names its source): which distribution, the flannel container, its effective
// flags, net-conf.json, the manager, pods by selector, and RBAC refusals.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { discoverFlannel } from "../../src/discovery/discover-flannel.js";
import type { KubeNode, KubePod } from "../../src/kube/types.js";
import { objectsKube, readFixtureObjects } from "../helpers/objects-kube.js";

const node = (name: string): KubeNode => ({ metadata: { name, annotations: {} }, spec: { podCIDR: "10.244.0.0/24" } });
const nodes = [node("n1"), node("n2")];

function pod(name: string, namespace: string, nodeName: string, labels: Record<string, string>, statuses: [string, boolean][]): KubePod {
  const ready = statuses.every(([, r]) => r);
  return {
    metadata: { name, namespace, labels },
    spec: { nodeName, containers: statuses.map(([n]) => ({ name: n })) },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: ready ? "True" : "False" }],
      // the kubelet sorts them by container name
      containerStatuses: statuses
        .map(([n, r]) => ({ name: n, ready: r, restartCount: r ? 0 : 7, state: r ? { running: {} } : { waiting: { reason: "CrashLoopBackOff" } } }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    },
  };
}

const flagsOf = (d: Awaited<ReturnType<typeof discoverFlannel>>) => Object.fromEntries((d.flannel.flags ?? []).map((f) => [f.name, f.values]));

describe("discovery of real installations", () => {
  test("kube-flannel.yml v0.11.0: kube-system/kube-flannel-ds-amd64, flags in args, OnDelete, selector from the template", async () => {
    const kube = objectsKube(readFixtureObjects("kube-flannel-v0.11.0.yml"));
    const d = await discoverFlannel(kube, nodes, []);
    assert.equal(d.flannel.distribution, "manifest");
    assert.equal(d.flannel.daemonSet?.namespace, "kube-system");
    assert.equal(d.flannel.daemonSet?.name, "kube-flannel-ds-amd64");
    assert.equal(d.flannel.daemonSet?.updateStrategy, "OnDelete");
    assert.deepEqual(d.flannel.daemonSet?.selector, { tier: "node", app: "flannel" });
    assert.deepEqual(d.flannel.daemonSet?.args, ["--ip-masq", "--kube-subnet-mgr"]);
    assert.deepEqual(flagsOf(d), { "ip-masq": [], "kube-subnet-mgr": [] });
    assert.equal(d.flannel.network, "10.244.0.0/16");
    assert.equal(d.flannel.backendType, "vxlan");
    assert.equal(d.flannel.manager, undefined);
    assert.deepEqual(d.warnings, []);
  });

  test("kube-flannel.yml v0.28.9: kube-flannel/kube-flannel-ds, RollingUpdate, EnableNFTables read", async () => {
    const kube = objectsKube(readFixtureObjects("kube-flannel-v0.28.9.yml"));
    const d = await discoverFlannel(kube, nodes, []);
    assert.equal(d.flannel.distribution, "manifest");
    assert.equal(`${d.flannel.daemonSet?.namespace}/${d.flannel.daemonSet?.name}`, "kube-flannel/kube-flannel-ds");
    assert.equal(d.flannel.daemonSet?.updateStrategy, undefined);
    assert.deepEqual(flagsOf(d), { "ip-masq": [], "kube-subnet-mgr": [], "healthz-port": ["8081"] });
    assert.equal(d.flannel.enableNFTables, false);
    assert.equal(kube.requests[0], "get daemonsets kube-flannel-ds in kube-flannel", "the newest era is tried first");
  });

  test("kubespray: kube-system/kube-flannel, --iface from command, install-cni ignored", async () => {
    const kube = objectsKube(readFixtureObjects("kubespray-cni-flannel.yml"));
    const d = await discoverFlannel(kube, nodes, []);
    assert.equal(d.flannel.distribution, "kubespray");
    assert.equal(d.flannel.daemonSet?.container, "kube-flannel");
    assert.deepEqual(d.flannel.daemonSet?.command, ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr", "--iface=eth1"]);
    const iface = d.flannel.flags?.find((f) => f.name === "iface");
    assert.deepEqual(iface, { name: "iface", values: ["eth1"], source: "command", from: "command --iface=eth1" });
    assert.equal(d.flannel.network, "10.233.64.0/18");
    assert.equal(d.flannel.enableIPv4, true);
  });

  test("flannel's Helm chart in a namespace of its own: found by label cluster-wide, managed by Helm", async () => {
    const kube = objectsKube(readFixtureObjects("flannel-chart-v0.28.9.yml"));
    const d = await discoverFlannel(kube, nodes, []);
    assert.equal(d.flannel.distribution, "helm");
    assert.equal(`${d.flannel.daemonSet?.namespace}/${d.flannel.daemonSet?.name}`, "cni-flannel/kube-flannel-ds");
    assert.deepEqual(d.flannel.manager, { kind: "helm", evidence: "annotation meta.helm.sh/release-name=flannel", release: "cni-flannel/flannel" });
    assert.ok(kube.requests.includes("list daemonsets cluster-wide"));
    assert.ok(kube.requests.includes("get configmaps kube-flannel-cfg in cni-flannel"));
  });

  test("RKE2 canal: the second container, FLANNELD_IFACE from rke2-canal-config, the HelmChartConfig, RKE2's controller", async () => {
    const objects = readFixtureObjects("rke2-canal-v3.32.1.yml");
    const cm = objects.find((o) => o.kind === "ConfigMap")!;
    (cm.data as Record<string, string>).canal_iface = "eth1";
    const pods = [
      pod("rke2-canal-aaaaa", "kube-system", "n1", { "k8s-app": "canal" }, [
        ["calico-node", false],
        ["kube-flannel", true],
      ]),
      pod("rke2-canal-bbbbb", "kube-system", "n2", { "k8s-app": "canal" }, [
        ["calico-node", true],
        ["kube-flannel", false],
      ]),
    ];
    const d = await discoverFlannel(objectsKube(objects), nodes, pods);
    assert.equal(d.flannel.distribution, "rke2-canal");
    assert.equal(d.flannel.daemonSet?.container, "kube-flannel");
    assert.equal(d.flannel.daemonSet?.containerIndex, 1);
    assert.deepEqual(
      d.flannel.flags?.find((f) => f.name === "iface"),
      {
        name: "iface",
        values: ["eth1"],
        source: "env",
        from: "env FLANNELD_IFACE ← ConfigMap kube-system/rke2-canal-config key canal_iface",
      },
    );
    // empty canal_iface_regex sets nothing (flagutil skips empty values); --ip-masq on the command line wins over FLANNELD_IP_MASQ
    assert.equal(
      d.flannel.flags?.find((f) => f.name === "iface-regex"),
      undefined,
    );
    assert.equal(d.flannel.flags?.find((f) => f.name === "ip-masq")?.source, "command");
    assert.deepEqual(
      d.flannel.daemonSet?.env?.map((e) => [e.name, e.value, e.index]),
      [
        ["FLANNELD_IFACE", "eth1", 2],
        ["FLANNELD_IFACE_REGEX", "", 3],
        ["FLANNELD_IP_MASQ", "true", 4],
      ],
    );
    assert.equal(d.flannel.manager?.kind, "rke2-helm-controller");
    assert.deepEqual(d.flannel.helmChartConfig, {
      namespace: "kube-system",
      name: "rke2-canal",
      exists: true,
      valuesContent: 'flannel:\n  iface: "eth1"',
      resourceVersion: "4711",
    });
    assert.equal(d.flannel.network, "10.42.0.0/16");
    // statuses by container name: n1's calico-node is down but flannel runs; n2's flannel is down
    assert.deepEqual(
      d.flannel.pods.map((p) => [p.node, p.ready, p.restarts, p.reason]),
      [
        ["n1", true, 0, undefined],
        ["n2", false, 7, "CrashLoopBackOff"],
      ],
    );
  });

  test("RKE2 canal: a ConfigMap key FLANNELD_IFACE names is missing, or the ConfigMap is refused: said, and no --iface assumed", async () => {
    const objects = readFixtureObjects("rke2-canal-v3.32.1.yml");
    delete (objects.find((o) => o.kind === "ConfigMap")!.data as Record<string, string>).canal_iface;
    const missing = await discoverFlannel(objectsKube(objects), nodes, []);
    assert.equal(
      missing.flannel.flags?.find((f) => f.name === "iface"),
      undefined,
    );
    assert.ok(
      missing.warnings.includes(
        "ConfigMap kube-system/rke2-canal-config has no key canal_iface: the kubelet cannot start flannel's container (env FLANNELD_IFACE)",
      ),
    );

    const refusedKube = objectsKube(readFixtureObjects("rke2-canal-v3.32.1.yml"), { refuse: (r) => r.startsWith("get configmaps") });
    const refused = await discoverFlannel(refusedKube, nodes, []);
    assert.equal(refused.flannel.distribution, "rke2-canal");
    assert.deepEqual(refused.flannel.forbidden, ['get configmaps "rke2-canal-config" in kube-system (granted by deploy/components/flannel-rke2-canal)']);
    assert.equal(refusedKube.requests.filter((r) => r.startsWith("get configmaps")).length, 1, "one read per ConfigMap");
    assert.ok(refused.warnings.some((w) => /rke2-canal-config \(env FLANNELD_IFACE\) is not readable/.test(w)));
  });

  test("RKE2 canal without a HelmChartConfig yet: exists false, nothing refused", async () => {
    const objects = readFixtureObjects("rke2-canal-v3.32.1.yml").filter((o) => o.kind !== "HelmChartConfig");
    const d = await discoverFlannel(objectsKube(objects), nodes, []);
    assert.deepEqual(d.flannel.helmChartConfig, { namespace: "kube-system", name: "rke2-canal", exists: false });
    assert.equal(d.flannel.forbidden, undefined);
  });

  test("k3s: no DaemonSet looked up; --flannel-iface per node from k3s.io/node-args; --flannel-backend=none is not k3s's flannel", async () => {
    const k3sNodes = readFixtureObjects("k3s-nodes.yml") as unknown as KubeNode[];
    const kube = objectsKube([]);
    const d = await discoverFlannel(kube, k3sNodes, []);
    assert.equal(d.flannel.distribution, "k3s");
    assert.deepEqual(kube.requests, [], "k3s is recognised from the Nodes alone");
    assert.deepEqual([...d.nodeFlags.keys()], ["ip-172-31-1-111.us-east-2.compute.internal"]);
    assert.deepEqual(d.nodeFlags.get("ip-172-31-1-111.us-east-2.compute.internal"), [
      { name: "iface", values: ["enp0s8"], source: "k3s-node-args", from: "k3s flag --flannel-iface enp0s8 (Node annotation k3s.io/node-args)" },
    ]);
    assert.deepEqual(d.flannel.pods, []);

    const withoutFlannel = await discoverFlannel(objectsKube(readFixtureObjects("kube-flannel-v0.28.9.yml")), [k3sNodes[0]!], []);
    assert.equal(withoutFlannel.flannel.distribution, "manifest", "k3s with --flannel-backend=none and flannel's manifest applied");
  });

  test("XNODE_CONFIG's location wins, with its container name; nothing else is searched", async () => {
    const objects = readFixtureObjects("kube-flannel-v0.28.9.yml").map((o) =>
      o.kind === "DaemonSet"
        ? { ...o, metadata: { ...o.metadata, name: "overlay", namespace: "net" } }
        : o.kind === "ConfigMap"
          ? { ...o, metadata: { ...o.metadata, namespace: "net" } }
          : o,
    );
    const kube = objectsKube(objects);
    const d = await discoverFlannel(kube, nodes, [], { namespace: "net", daemonSet: "overlay", container: "kube-flannel" });
    assert.equal(d.flannel.distribution, "configured");
    assert.equal(d.flannel.daemonSet?.name, "overlay");
    assert.deepEqual(kube.requests, ["get daemonsets overlay in net", "get configmaps kube-flannel-cfg in net"]);
  });

  test("XNODE_CONFIG's configMap wins over the one the pod template mounts", async () => {
    const objects = readFixtureObjects("kube-flannel-v0.28.9.yml").flatMap((o) =>
      o.kind === "ConfigMap"
        ? [
            o,
            {
              ...o,
              metadata: { ...o.metadata, name: "overlay-cfg" },
              data: { "net-conf.json": '{"network":"10.99.0.0/16","backend":{"type":"vxlan","vni":9}}' },
            },
          ]
        : [o],
    );
    const kube = objectsKube(objects);
    const d = await discoverFlannel(kube, nodes, [], { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", configMap: "overlay-cfg" });
    assert.equal(d.flannel.network, "10.99.0.0/16");
    assert.equal(d.flannel.vni, 9);
    assert.ok(!kube.requests.includes("get configmaps kube-flannel-cfg in kube-flannel"));
  });

  test("refused by RBAC: the refusals are reported with what grants them, never 'not found'", async () => {
    const kube = objectsKube(readFixtureObjects("kubespray-cni-flannel.yml"), {
      refuse: (r) => r.includes("kube-flannel in kube-system") || r.startsWith("list"),
    });
    const d = await discoverFlannel(kube, nodes, []);
    assert.equal(d.flannel.daemonSet, undefined);
    assert.deepEqual(d.flannel.forbidden, [
      'get daemonsets "kube-flannel" in kube-system (granted by deploy/components/flannel-kubespray)',
      "list daemonsets cluster-wide (label app=flannel) (granted by deploy/components/flannel-helm)",
      "list daemonsets cluster-wide (label k8s-app=flannel) (granted by deploy/components/flannel-helm)",
    ]);
    assert.equal(d.warnings.length, 1);
    assert.match(d.warnings[0]!, /^xnode was not allowed to look for flannel: get daemonsets "kube-flannel" in kube-system/);
    assert.doesNotMatch(d.warnings[0]!, /no flannel/);
  });

  test("nothing there and nothing refused: 'no flannel installation found' with what was tried", async () => {
    const d = await discoverFlannel(objectsKube([]), nodes, []);
    assert.equal(d.flannel.forbidden, undefined);
    assert.match(d.warnings[0]!, /^no flannel installation found \(tried DaemonSets kube-flannel\/kube-flannel-ds, .*kube-system\/rke2-canal, and labels/);
  });
});

// Each flannel installation in a running lab, read with kubectl as an
// independent client: the objects the distribution creates (or, for k3s, does
// not), container order and status order, where flanneld's flags come from,
// and the data plane that follows (which pod pairs answer). Needs root.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { kubectl, requireLabPrerequisites, type StartedLab, withLab } from "../src/testing.js";
import { assertMatrix, out, podMatrix } from "./net-probes.js";

const ANN = "flannel.alpha.coreos.com/";

async function kjson<T = unknown>(l: StartedLab, ...args: string[]): Promise<T> {
  const r = await kubectl(l.kubeconfigPath, ...args, "-o", "json");
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as T;
}

interface Item {
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { [k: string]: unknown; containers?: { name: string }[] };
  status?: { containerStatuses?: { name: string; ready: boolean }[] };
  data?: Record<string, string>;
}

const publicIPs = async (l: StartedLab) =>
  Object.fromEntries((await kjson<{ items: Item[] }>(l, "get", "nodes")).items.map((n) => [n.metadata.name, n.metadata.annotations?.[`${ANN}public-ip`]]));

async function vxlanDev(netns: string, dev = "flannel.1"): Promise<{ id: number; local: string; link: string; port: number }> {
  const [link] = JSON.parse(await out(netns, ["ip", "-j", "-d", "link", "show", dev])) as {
    linkinfo: { info_data: { id: number; local: string; link: string; port: number } };
  }[];
  return link!.linkinfo.info_data;
}

describe("flannel installations in a running lab (kubectl as second client, needs root)", () => {
  before(() => requireLabPrerequisites());

  test("healthy-k3s: no DaemonSet, pods or kube-flannel-cfg; k3s.io/node-args carries --flannel-iface and flannel uses it", async () => {
    await withLab("healthy-k3s", async (l) => {
      const ds = await kjson<{ items: Item[] }>(l, "get", "daemonsets", "-A");
      assert.deepEqual(ds.items, []);
      const cms = await kjson<{ items: Item[] }>(l, "get", "configmaps", "-A");
      assert.deepEqual(
        cms.items.filter((c) => c.metadata.name === "kube-flannel-cfg"),
        [],
      );
      const pods = await kjson<{ items: Item[] }>(l, "get", "pods", "-A");
      assert.deepEqual(
        pods.items.map((p) => p.metadata.namespace).filter((ns) => ns !== "xnode-system"),
        [],
      );
      const nodes = (await kjson<{ items: Item[] }>(l, "get", "nodes")).items;
      const server = nodes.find((n) => n.metadata.name === "k3s-server")!;
      assert.deepEqual(JSON.parse(server.metadata.annotations!["k3s.io/node-args"]!), ["server", "--flannel-iface=enp0s8", "--write-kubeconfig-mode=644"]);
      assert.deepEqual(JSON.parse(nodes.find((n) => n.metadata.name === "k3s-agent1")!.metadata.annotations!["k3s.io/node-args"]!)[0], "agent");
      // a node's own k3s.io/node-args (scenario annotation) is what k3s on that node runs with
      assert.deepEqual(JSON.parse(nodes.find((n) => n.metadata.name === "k3s-agent2")!.metadata.annotations!["k3s.io/node-args"]!).slice(1, 3), [
        "--flannel-iface",
        "enp0s8",
      ]);
      assert.deepEqual(await publicIPs(l), { "k3s-server": "192.168.56.11", "k3s-agent1": "192.168.56.12", "k3s-agent2": "192.168.56.13" });
      assert.equal((await vxlanDev(l.lab.topology.nodes["k3s-agent1"]!.netns)).link, "enp0s8");
      assertMatrix(await podMatrix(l.lab.topology), () => true);
    });
  });

  test("seed-nat-k3s: without --flannel-iface every node advertises 10.0.2.15 and no pod pair answers", async () => {
    await withLab("seed-nat-k3s", async (l) => {
      assert.deepEqual(await publicIPs(l), { "k3s-server": "10.0.2.15", "k3s-agent1": "10.0.2.15" });
      assertMatrix(await podMatrix(l.lab.topology), () => false);
    });
  });

  test("healthy-kubespray: kube-flannel in kube-system; statuses sorted by name put install-cni first", async () => {
    await withLab("healthy-kubespray", async (l) => {
      const ds = await kjson<Item>(l, "-n", "kube-system", "get", "daemonset", "kube-flannel");
      assert.equal(ds.metadata.labels!["k8s-app"], "flannel");
      const pods = (await kjson<{ items: Item[] }>(l, "-n", "kube-system", "get", "pods", "-l", "k8s-app=flannel")).items;
      assert.equal(pods.length, 3);
      for (const p of pods) {
        assert.deepEqual(
          p.spec!.containers!.map((c) => c.name),
          ["kube-flannel", "install-cni"],
        );
        assert.deepEqual(
          p.status!.containerStatuses!.map((c) => [c.name, c.ready]),
          [
            ["install-cni", true],
            ["kube-flannel", true],
          ],
        );
      }
      assert.equal((await vxlanDev(l.lab.topology.nodes["k8s-wk1"]!.netns)).link, "ens192");
      assertMatrix(await podMatrix(l.lab.topology), () => true);
    });
  });

  test("healthy-helm: the chart's DaemonSet in the release namespace, Helm's label and annotations, flags in command", async () => {
    await withLab("healthy-helm", async (l) => {
      const ds = await kjson<Item & { spec: { template: { spec: { containers: { command: string[] }[] } } } }>(l, "-n", "cni", "get", "ds", "kube-flannel-ds");
      assert.equal(ds.metadata.labels!["app.kubernetes.io/managed-by"], "Helm");
      assert.equal(ds.metadata.annotations!["meta.helm.sh/release-namespace"], "cni");
      assert.deepEqual(ds.spec.template.spec.containers[0]!.command, ["/opt/bin/flanneld", "--ip-masq", "--kube-subnet-mgr", "--healthz-port=8081"]);
      assertMatrix(await podMatrix(l.lab.topology), () => true);
    });
  });

  test("env-iface-healthy: FLANNELD_IFACE=eth1 in the env wins over the default route", async () => {
    await withLab("env-iface-healthy", async (l) => {
      assert.deepEqual(await publicIPs(l), { alpha: "172.16.40.11", beta: "172.16.40.12", gamma: "172.16.40.13" });
      assert.equal((await vxlanDev(l.lab.topology.nodes.beta!.netns)).link, "eth1");
      assertMatrix(await podMatrix(l.lab.topology), () => true);
    });
  });

  test("net-conf-lower-case: lower-case keys in kube-flannel-cfg, VXLAN on 4789 with VNI 4096; a drop of 4789 cuts lc-w2 off", async () => {
    await withLab("net-conf-lower-case-healthy", async (l) => {
      const cm = await kjson<Item>(l, "-n", "kube-flannel", "get", "configmap", "kube-flannel-cfg");
      assert.deepEqual(JSON.parse(cm.data!["net-conf.json"]!), { network: "10.244.0.0/16", backend: { type: "vxlan", vni: 4096, port: 4789 } });
      const dev = await vxlanDev(l.lab.topology.nodes["lc-w1"]!.netns, "flannel.4096");
      assert.deepEqual([dev.id, dev.port], [4096, 4789]);
      assertMatrix(await podMatrix(l.lab.topology), () => true);
    });
    await withLab("net-conf-lower-case-port-blocked", async (l) => {
      assertMatrix(await podMatrix(l.lab.topology), (a, b) => a !== "lc-w2" && b !== "lc-w2");
    });
  });
});

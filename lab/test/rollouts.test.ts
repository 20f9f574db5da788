// How flannel pods are replaced, in a running lab, with kubectl as the client:
// OnDelete replaces nothing until a pod is deleted; a deleted pod comes back
// from the current template (and reprograms its node); pods without a
// readinessProbe are Ready before they program; an old flannel makes a new
// VTEP MAC when flannel.1 is recreated, a new one keeps it; a GitOps manager
// reverts a direct DaemonSet change; a removed public-ip-overwrite takes effect
// when the node's flannel pod restarts. Needs root.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Lab } from "../src/lab.js";
import { loadScenario } from "../src/scenario.js";
import { kubectlStdout, podOn, requireLabPrerequisites, scenarioPath, type StartedLab, withLab } from "../src/testing.js";
import { assertMatrix, podMatrix } from "./net-probes.js";

const ANN = "flannel.alpha.coreos.com/";

const annotation = (l: StartedLab, node: string, key: string) => l.lab.store.get("Node", undefined, node)!.metadata.annotations?.[`${ANN}${key}`];
const vtepMac = (l: StartedLab, node: string) => (JSON.parse(annotation(l, node, "backend-data")!) as { VtepMAC: string }).VtepMAC;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ds = (l: StartedLab): any => l.lab.store.get("DaemonSet", l.lab.scenario.flannel.namespace, l.lab.scenario.flannel.daemonSet)!;
const flannelPods = (l: StartedLab) =>
  l.lab.store
    .list("Pod", l.lab.scenario.flannel.namespace)
    .filter((p) => p.metadata.ownerReferences !== undefined)
    .map((p) => p.metadata.name)
    .sort();

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What xnode's fix does to both scenarios' kube-flannel-ds-amd64: --iface=enp0s8 appended to the flannel container's args. */
const addIfaceFlag = (l: StartedLab) =>
  kubectlStdout(
    l,
    "-n",
    "kube-system",
    "patch",
    "ds",
    "kube-flannel-ds-amd64",
    "--type=json",
    "-p",
    JSON.stringify([{ op: "add", path: "/spec/template/spec/containers/0/args/-", value: "--iface=enp0s8" }]),
  );

describe("flannel pod replacement and managers in a running lab (kubectl, needs root)", () => {
  before(() => requireLabPrerequisites());

  test("seed-nat-ondelete: a patched template replaces no pod; each deleted pod returns Ready, programs ~2 s later, with a new VTEP MAC", async () => {
    await withLab("seed-nat-ondelete", async (l) => {
      const podsBefore = flannelPods(l);
      const macBefore = vtepMac(l, "old-node1");
      await addIfaceFlag(l);
      await sleep(1000);
      await l.lab.settled();
      assert.equal(ds(l).metadata.generation, 2);
      assert.deepEqual([ds(l).status.observedGeneration, ds(l).status.updatedNumberScheduled, ds(l).status.numberReady], [2, 0, 3]);
      assert.deepEqual(flannelPods(l), podsBefore, "OnDelete replaced a pod on its own");
      assert.equal(annotation(l, "old-node1", "public-ip"), "10.0.2.15");

      const victim = await podOn(l.kubeconfigPath, "kube-system", "app=flannel", "old-node1");
      await kubectlStdout(l, "-n", "kube-system", "delete", "pod", victim);
      // no readinessProbe: the replacement is Ready before its flanneld programmed the node
      await waitFor("a Ready replacement on old-node1", () =>
        l.lab.store
          .list("Pod", "kube-system")
          .some(
            (p) =>
              p.spec.nodeName === "old-node1" &&
              p.metadata.name !== victim &&
              p.status.conditions.some((c: { type: string; status: string }) => c.type === "Ready" && c.status === "True"),
          ),
      );
      assert.equal(annotation(l, "old-node1", "public-ip"), "10.0.2.15", "programmed before the ~2 s delay");
      const replacement = await podOn(l.kubeconfigPath, "kube-system", "app=flannel", "old-node1");
      assert.equal(
        JSON.parse(await kubectlStdout(l, "-n", "kube-system", "get", "pod", replacement, "-o", "json")).metadata.labels["pod-template-generation"],
        "2",
      );
      await l.lab.settled();
      assert.equal(annotation(l, "old-node1", "public-ip"), "192.168.61.12");
      assert.notEqual(vtepMac(l, "old-node1"), macBefore, "flannel before v0.24.1 makes a new MAC when flannel.1 is recreated");
      assert.equal(ds(l).status.updatedNumberScheduled, 1);

      for (const node of ["old-master", "old-node2"])
        await kubectlStdout(l, "-n", "kube-system", "delete", "pod", await podOn(l.kubeconfigPath, "kube-system", "app=flannel", node));
      await l.lab.settled();
      assert.deepEqual([ds(l).status.updatedNumberScheduled, ds(l).status.numberReady], [3, 3]);
      assertMatrix(await podMatrix(l.lab.topology), () => true);
    });
  });

  test("seed-virtualbox-nat: a RollingUpdate that recreates flannel.1 keeps each node's VTEP MAC (persistentMac)", async () => {
    await withLab("seed-virtualbox-nat", async (l) => {
      const macs = ["k8s-master1", "k8s-node1"].map((n) => vtepMac(l, n));
      await addIfaceFlag(l);
      await sleep(200);
      await l.lab.settled();
      assert.deepEqual(
        ["k8s-master1", "k8s-node1"].map((n) => annotation(l, n, "public-ip")),
        ["192.168.56.101", "192.168.56.102"],
      );
      assert.deepEqual(
        ["k8s-master1", "k8s-node1"].map((n) => vtepMac(l, n)),
        macs,
      );
      assert.equal(ds(l).status.updatedNumberScheduled, 2);
    });
  });

  test("healthy-kubespray: a pod deleted under RollingUpdate is replaced on its node from the template", async () => {
    await withLab("healthy-kubespray", async (l) => {
      const victim = await podOn(l.kubeconfigPath, "kube-system", "k8s-app=flannel", "k8s-wk2");
      await kubectlStdout(l, "-n", "kube-system", "delete", "pod", victim);
      await sleep(100);
      await l.lab.settled();
      const replacement = await podOn(l.kubeconfigPath, "kube-system", "k8s-app=flannel", "k8s-wk2");
      assert.notEqual(replacement, victim);
      assert.deepEqual([flannelPods(l).length, ds(l).status.numberReady], [3, 3]);
      assertMatrix(await podMatrix(l.lab.topology), () => true);
    });
  });

  test("seed-nat-helm-argocd: Argo CD's marks; a direct patch fixes the data plane until the sync puts the chart back", async () => {
    const s = await loadScenario(scenarioPath("seed-nat-helm-argocd"));
    s.flannel.revertAfterSeconds = 2; // the bundled scenario waits 30 s
    const lab = await Lab.start(s, { name: `argocd-${process.pid}` });
    try {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const get = (): any => lab.store.get("DaemonSet", "kube-flannel", "kube-flannel-ds")!;
      assert.equal(get().metadata.annotations["argocd.argoproj.io/tracking-id"], "flannel:apps/DaemonSet:kube-flannel/kube-flannel-ds");
      const original = structuredClone(get().spec);
      lab.store.update("DaemonSet", "kube-flannel", "kube-flannel-ds", (d) => {
        d.spec.template.spec.containers[0].command.push("--iface=enp0s8");
      });
      await sleep(100);
      await lab.settled();
      assert.equal(lab.store.get("Node", undefined, "node-1")!.metadata.annotations![`${ANN}public-ip`], "192.168.59.12");
      assertMatrix(await podMatrix(lab.topology), () => true);
      await waitFor("Argo CD's sync to revert the patch", () => get().metadata.generation === 3, 5000);
      assert.deepEqual(get().spec, original);
      await sleep(100);
      await lab.settled();
      assert.equal(lab.store.get("Node", undefined, "node-1")!.metadata.annotations![`${ANN}public-ip`], "10.0.2.15");
      assertMatrix(await podMatrix(lab.topology), () => false);
    } finally {
      await lab.stop();
    }
  });

  test("public-ip-overwrite-wrong: removing the annotation (JSON patch) changes nothing until w1's flannel pod restarts", async () => {
    await withLab("public-ip-overwrite-wrong", async (l) => {
      await kubectlStdout(
        l,
        "patch",
        "node",
        "w1",
        "--type=json",
        "-p",
        '[{"op":"remove","path":"/metadata/annotations/flannel.alpha.coreos.com~1public-ip-overwrite"}]',
      );
      assert.equal(annotation(l, "w1", "public-ip-overwrite"), undefined);
      await sleep(300);
      assert.equal(annotation(l, "w1", "public-ip"), "192.168.70.250");
      await kubectlStdout(l, "-n", "kube-flannel", "delete", "pod", await podOn(l.kubeconfigPath, "kube-flannel", "app=flannel", "w1"));
      await sleep(100);
      await l.lab.settled();
      assert.equal(annotation(l, "w1", "public-ip"), "192.168.70.11");
      assertMatrix(await podMatrix(l.lab.topology), () => true);
    });
  });
});

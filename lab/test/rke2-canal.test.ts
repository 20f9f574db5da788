// RKE2's canal in a running lab: the helm.cattle.io kinds exist only there,
// kubectl reads and writes HelmChartConfig like any resource, the helm
// controller's imitation reverts a direct DaemonSet edit and renders a
// HelmChartConfig's flannel.iface into rke2-canal-config and a rollout that
// stays. kubectl is the client throughout. Needs root.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { kubectl, kubectlStdout, podOn, requireLabPrerequisites, type StartedLab, withLab } from "../src/testing.js";
import { assertMatrix, podMatrix } from "./net-probes.js";

const ANN = "flannel.alpha.coreos.com/";

async function apply(l: StartedLab, yaml: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "xnode-rke2-"));
  try {
    await writeFile(join(dir, "hcc.yaml"), yaml);
    return await kubectlStdout(l, "apply", "-f", join(dir, "hcc.yaml"));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const publicIP = (l: StartedLab, node: string) => l.lab.store.get("Node", undefined, node)!.metadata.annotations?.[`${ANN}public-ip`];
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const canal = (l: StartedLab): any => l.lab.store.get("DaemonSet", "kube-system", "rke2-canal")!;

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const HCC = (iface: string) => `apiVersion: helm.cattle.io/v1
kind: HelmChartConfig
metadata:
  name: rke2-canal
  namespace: kube-system
spec:
  valuesContent: |-
    flannel:
      iface: ${iface}
`;

describe("RKE2 canal and its helm controller in a running lab (kubectl, needs root)", () => {
  before(() => requireLabPrerequisites());

  test("healthy-rke2-canal: helm.cattle.io served with discovery; calico-node's status comes first; every pair answers", async () => {
    await withLab("healthy-rke2-canal", async (l) => {
      const resources = await kubectlStdout(l, "api-resources", "--api-group=helm.cattle.io", "-o", "name");
      assert.deepEqual(resources.trim().split("\n").sort(), ["helmchartconfigs.helm.cattle.io", "helmcharts.helm.cattle.io"]);
      const none = await kubectl(l.kubeconfigPath, "get", "helmchartconfig", "-n", "kube-system");
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stderr, /No resources found in kube-system namespace/);
      assert.match(await kubectlStdout(l, "get", "helmcharts", "-n", "kube-system"), /^NAME\s+AGE\nrke2-canal\s+/);
      const pod = JSON.parse(
        await kubectlStdout(l, "-n", "kube-system", "get", "pod", await podOn(l.kubeconfigPath, "kube-system", "k8s-app=canal", "rke2-agent1"), "-o", "json"),
      );
      assert.deepEqual(
        pod.status.containerStatuses.map((c: { name: string }) => c.name),
        ["calico-node", "kube-flannel"],
      );
      assertMatrix(await podMatrix(l.lab.topology), () => true);
    });
  });

  test("a cluster without RKE2 has no helm.cattle.io resources", async () => {
    await withLab("healthy-kubespray", async (l) => {
      const r = await kubectl(l.kubeconfigPath, "get", "helmchartconfig", "-n", "kube-system");
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /the server doesn't have a resource type "helmchartconfig"/);
    });
  });

  test("seed-nat-rke2-canal: a direct DaemonSet patch is reverted within 2 s; a HelmChartConfig flannel.iface is rendered, rolled out and stays", async () => {
    await withLab("seed-nat-rke2-canal", async (l) => {
      assert.equal(publicIP(l, "rke2-agent1"), "10.0.2.15");
      const original = structuredClone(canal(l).spec);
      // kube-flannel is containers/1 (calico-node is 0)
      await kubectlStdout(
        l,
        "-n",
        "kube-system",
        "patch",
        "ds",
        "rke2-canal",
        "--type=json",
        "-p",
        '[{"op":"add","path":"/spec/template/spec/containers/1/command/-","value":"--iface=enp0s8"}]',
      );
      await sleep(100);
      await l.lab.settled();
      assert.equal(publicIP(l, "rke2-agent1"), "192.168.58.12");
      await waitFor("the helm controller to revert the patch", () => canal(l).metadata.generation === 3, 5000);
      assert.deepEqual(canal(l).spec, original);
      await sleep(100);
      await l.lab.settled();
      assert.equal(publicIP(l, "rke2-agent1"), "10.0.2.15");

      assert.match(await apply(l, HCC("enp0s8")), /helmchartconfig.helm.cattle.io\/rke2-canal created/);
      await waitFor("the controller's upgrade", () => canal(l).metadata.generation === 4, 5000);
      const cm = JSON.parse(await kubectlStdout(l, "-n", "kube-system", "get", "configmap", "rke2-canal-config", "-o", "json"));
      assert.equal(cm.data.canal_iface, "enp0s8");
      await sleep(100);
      await l.lab.settled();
      assert.deepEqual(
        ["rke2-server", "rke2-agent1"].map((n) => publicIP(l, n)),
        ["192.168.58.11", "192.168.58.12"],
      );
      assert.equal(canal(l).status.updatedNumberScheduled, 2);
      await sleep(2500); // longer than the revert delay: the controller's own rendering is not reverted
      assert.equal(canal(l).metadata.generation, 4);
      assertMatrix(await podMatrix(l.lab.topology), () => true);
      assert.match(
        await kubectlStdout(l, "get", "helmchartconfig", "rke2-canal", "-n", "kube-system", "-o", "jsonpath={.spec.valuesContent}"),
        /iface: enp0s8/,
      );

      // deleting the HelmChartConfig renders the chart's defaults again
      await kubectlStdout(l, "delete", "helmchartconfig", "rke2-canal", "-n", "kube-system");
      await waitFor("the controller's upgrade back to the defaults", () => canal(l).metadata.generation === 5, 5000);
      await sleep(100);
      await l.lab.settled();
      assert.equal(publicIP(l, "rke2-agent1"), "10.0.2.15");
    });
  });
});

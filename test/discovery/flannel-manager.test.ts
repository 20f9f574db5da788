// Who reverts a direct DaemonSet edit, from the marks each manager writes:
// Helm 3's release annotations and label, Argo CD's tracking annotation
// (3.0+) or instance label (its default before 3.0), Flux's kustomize and
// helm controller labels, RKE2's helm controller for rke2-canal.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { detectManager } from "../../src/discovery/flannel-manager.js";
import { flannelContainer } from "../../src/discovery/flannel-pods.js";
import type { KubeDaemonSet, ObjectMeta } from "../../src/kube/types.js";
import { asStored, readFixtureObjects } from "../helpers/objects-kube.js";

const meta = (labels: Record<string, string> = {}, annotations: Record<string, string> = {}): ObjectMeta => ({
  name: "kube-flannel-ds",
  namespace: "kube-flannel",
  labels,
  annotations,
});

describe("the manager of flannel's DaemonSet", () => {
  test("Helm: the release from its annotations (as in the chart fixture)", () => {
    const ds = readFixtureObjects("flannel-chart-v0.28.9.yml").find((o) => o.kind === "DaemonSet")!;
    assert.deepEqual(detectManager(asStored(ds).metadata as ObjectMeta, "helm"), {
      kind: "helm",
      evidence: "annotation meta.helm.sh/release-name=flannel",
      release: "cni-flannel/flannel",
    });
  });

  test("Argo CD: the tracking-id annotation names the Application; the instance label without Helm's annotations too", () => {
    assert.deepEqual(detectManager(meta({}, { "argocd.argoproj.io/tracking-id": "net:apps/DaemonSet:kube-flannel/kube-flannel-ds" }), "manifest"), {
      kind: "argocd",
      evidence: "annotation argocd.argoproj.io/tracking-id=net:apps/DaemonSet:kube-flannel/kube-flannel-ds",
      release: "Application net",
    });
    // a chart rendered by Argo CD keeps the chart's managed-by label but has no release annotations
    assert.equal(detectManager(meta({ "app.kubernetes.io/instance": "net", "app.kubernetes.io/managed-by": "Helm" }), "manifest")?.kind, "argocd");
    // installed by Helm itself: the instance label is the chart's, Helm is the manager
    assert.equal(detectManager(meta({ "app.kubernetes.io/instance": "flannel" }, { "meta.helm.sh/release-name": "flannel" }), "helm")?.kind, "helm");
  });

  test("Flux: a Kustomization or a HelmRelease, named from its labels", () => {
    assert.deepEqual(detectManager(meta({ "kustomize.toolkit.fluxcd.io/name": "infra", "kustomize.toolkit.fluxcd.io/namespace": "flux-system" }), "manifest"), {
      kind: "flux",
      evidence: "label kustomize.toolkit.fluxcd.io/name=infra",
      release: "Kustomization flux-system/infra",
    });
    assert.equal(
      detectManager(
        meta({ "helm.toolkit.fluxcd.io/name": "flannel", "app.kubernetes.io/managed-by": "Helm" }, { "meta.helm.sh/release-name": "flannel" }),
        "helm",
      )?.kind,
      "flux",
      "Flux's helm-controller runs Helm: Flux is what reverts",
    );
  });

  test("RKE2 canal: RKE2's helm controller; an unmarked manifest: none", () => {
    const ds = readFixtureObjects("rke2-canal-v3.32.1.yml").find((o) => o.kind === "DaemonSet")!;
    assert.equal(detectManager(ds.metadata as ObjectMeta, "rke2-canal")?.kind, "rke2-helm-controller");
    const old = readFixtureObjects("kube-flannel-v0.11.0.yml").find((o) => o.kind === "DaemonSet")!;
    assert.equal(detectManager(old.metadata as ObjectMeta, "manifest"), undefined);
  });
});

describe("the flannel container", () => {
  test("by name, wherever it is; a configured name only; a lone container running flanneld under another name", () => {
    const canal = asStored(readFixtureObjects("rke2-canal-v3.32.1.yml").find((o) => o.kind === "DaemonSet")!) as unknown as KubeDaemonSet;
    assert.deepEqual([flannelContainer(canal)?.container.name, flannelContainer(canal)?.index], ["kube-flannel", 1]);
    assert.equal(flannelContainer(canal, "calico-node")?.index, 0);
    assert.equal(flannelContainer(canal, "flanneld"), undefined);
    const lone: KubeDaemonSet = {
      metadata: { name: "overlay" },
      spec: { template: { spec: { containers: [{ name: "net", command: ["/usr/bin/flanneld", "--kube-subnet-mgr"] }] } } },
    };
    assert.equal(flannelContainer(lone)?.container.name, "net");
    const other: KubeDaemonSet = { metadata: { name: "x" }, spec: { template: { spec: { containers: [{ name: "net", command: ["/bin/agent"] }] } } } };
    assert.equal(flannelContainer(other), undefined);
  });
});

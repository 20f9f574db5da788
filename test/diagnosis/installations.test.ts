// Rules read flannel as discovery found it: k3s has no flannel pods (never
// "not ready" for that), an RBAC refusal is reported as one, and the
// interface flags come from the effective flags (env, k3s), not from args.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import type { CheckEvidence, Finding } from "../../src/model/index.js";
import * as fx from "./fixtures.js";

const ids = (ev: CheckEvidence) => diagnose(ev).map((f) => f.id);
function finding(ev: CheckEvidence, id: Finding["id"]): Finding {
  const f = diagnose(ev).find((x) => x.id === id);
  assert.ok(f, `no ${id} in ${ids(ev).join(", ")}`);
  return f;
}

/** The same cluster as k3s shows it: no DaemonSet, no flannel pods. */
function asK3s(ev: CheckEvidence, iface?: string): CheckEvidence {
  const { daemonSet: _daemonSet, ...flannel } = ev.snapshot.flannel;
  const nodeFlags = iface
    ? [{ name: "iface", values: [iface], source: "k3s-node-args" as const, from: `k3s flag --flannel-iface ${iface} (Node annotation k3s.io/node-args)` }]
    : [];
  return {
    ...ev,
    snapshot: {
      ...ev.snapshot,
      flannel: { ...flannel, distribution: "k3s", flags: [], pods: [] },
      nodes: ev.snapshot.nodes.map((n) => ({ ...n, flannel: { ...n.flannel, flags: nodeFlags } })),
    },
  };
}

describe("rules over each installation", () => {
  test("a healthy k3s cluster (no flannel pods) is cluster-healthy, not flannel-pod-not-ready", () => {
    const healthy = fx.flannelPodNotReady();
    const k3s = asK3s({ ...healthy, snapshot: { ...healthy.snapshot, flannel: { ...healthy.snapshot.flannel, pods: [] } } });
    assert.deepEqual(ids(k3s), ["cluster-healthy"]);
  });

  test("discovery refused by RBAC: the refusal and what to grant, never 'no flannel pod'", () => {
    const ev = fx.flannelPodNotReady();
    const { daemonSet: _daemonSet, ...rest } = ev.snapshot.flannel;
    const refused: CheckEvidence = {
      ...ev,
      snapshot: {
        ...ev.snapshot,
        flannel: { ...rest, pods: [], forbidden: ['get daemonsets "kube-flannel" in kube-system (granted by deploy/components/flannel-kubespray)'] },
      },
    };
    const f = finding(refused, "flannel-pod-not-ready");
    assert.equal(f.evidence[0], 'refused: get daemonsets "kube-flannel" in kube-system (granted by deploy/components/flannel-kubespray)');
    assert.ok(f.evidence.slice(1).every((l) => /flannel's pod unknown \(not allowed to look\)/.test(l)));
    assert.doesNotMatch(f.evidence.join("\n"), /no flannel pod|not found/);
    assert.match(f.explanation, /refused the requests/);
    assert.match(f.explanation, /Grant xnode's ServiceAccount/);
  });

  test("the seed on k3s: --flannel-iface from the node's k3s flags is named as the reason", () => {
    const f = finding(asK3s(fx.seedVirtualboxNat(), "enp0s3"), "vtep-wrong-interface");
    assert.match(f.explanation, /flannel's flags select that interface: --iface=enp0s3 \(k3s flag --flannel-iface enp0s3/);
    assert.match(f.explanation, /flannel's own rule picks it: --iface=enp0s3/);
  });

  test("the seed with no interface flag: flannel's own rule, the default route's interface, is named", () => {
    const f = finding(fx.seedVirtualboxNat(), "vtep-wrong-interface");
    assert.match(f.explanation, /flannel's own rule picks it: the default route's interface enp0s3 \(k8s-master1 and k8s-node1\)/);
  });

  test("an interface chosen by FLANNELD_IFACE (RKE2 canal's ConfigMap) is named with where it came from", () => {
    const ev = fx.seedVirtualboxNat();
    const from = "env FLANNELD_IFACE ← ConfigMap kube-system/rke2-canal-config key canal_iface";
    ev.snapshot.flannel.flags = [...(ev.snapshot.flannel.flags ?? []), { name: "iface", values: ["enp0s3"], source: "env", from }];
    const f = finding(ev, "vtep-wrong-interface");
    assert.ok(f.explanation.includes(`--iface=enp0s3 (${from})`), f.explanation);
  });
});

// `xnode trace` on real lab clusters: captures on every hop of the path while
// one pod agent pings another. Healthy: every point sees the probe. The seed
// (both VTEPs on 10.0.2.15): it leaves k8s-master1's pod and never reaches
// k8s-node1's underlay. The network between the nodes dropping VXLAN: it
// leaves the sender's NIC and never reaches the receiver's.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { runCheck } from "../../src/check/run-check.js";
import { runCli, type CliIo } from "../../src/cli.js";
import { createKubeClient } from "../../src/kube/kube-client.js";
import type { PacketTrace } from "../../src/model/index.js";
import { startLab, type StartedLab } from "../helpers/lab-fixture.js";

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {} };
}

async function trace(lab: StartedLab, from: string, to: string): Promise<{ code: number; trace: PacketTrace }> {
  const c = io();
  const code = await runCli(["trace", "lab", from, to, "--kubeconfig", lab.kubeconfigPath, "--json"], c);
  assert.notEqual(code, 2, c.err.join(""));
  return { code, trace: JSON.parse(c.out.join("")) as PacketTrace };
}

const seen = (t: PacketTrace) => t.observed.filter((p) => p.seen).map((p) => p.point);

describe("xnode trace on a healthy cluster", () => {
  let lab: StartedLab;
  before(async () => (lab = await startLab("healthy-three-nodes")));
  after(async () => lab?.stop());

  test("every capture point on the path sees the probe, exit 0", async () => {
    const { code, trace: t } = await trace(lab, "cp-0", "worker-1");
    assert.equal(code, 0);
    assert.deepEqual(
      t.observed.map((p) => p.point),
      ["cp-0/cni0", "cp-0/flannel.1", "cp-0/eth0", "worker-1/eth0", "worker-1/flannel.1", "worker-1/cni0"],
    );
    assert.deepEqual(
      seen(t),
      t.observed.map((p) => p.point),
    );
    assert.equal(t.lostAfter, "worker-1/cni0");
  });

  test("the text form names every point; unknown nodes exit 2 naming the nodes there are", async () => {
    const c = io();
    assert.equal(await runCli(["trace", "lab", "worker-0", "cp-0", "--kubeconfig", lab.kubeconfigPath], c), 0, c.err.join(""));
    assert.match(c.out.join(""), /seen {2}worker-0\/eth0/);
    assert.match(c.out.join(""), /every point saw the probe/);
    const bad = io();
    assert.equal(await runCli(["trace", "lab", "cp-0", "nope", "--kubeconfig", lab.kubeconfigPath], bad), 2);
    assert.match(bad.err.join(""), /no node named nope.*Nodes in lab: cp-0, worker-0, worker-1/);
  });
});

describe("xnode trace on the seed (VTEPs on the NAT interface)", () => {
  let lab: StartedLab;
  before(async () => (lab = await startLab("seed-virtualbox-nat")));
  after(async () => lab?.stop());

  test("the probe leaves k8s-master1's pod and never reaches k8s-node1's underlay, exit 1", async () => {
    const { code, trace: t } = await trace(lab, "k8s-master1", "k8s-node1");
    assert.equal(code, 1);
    assert.ok(seen(t).includes("k8s-master1/cni0"), JSON.stringify(t.observed));
    const arrival = t.observed.find((p) => p.point === "k8s-node1/enp0s3");
    assert.ok(arrival, "k8s-node1's VTEP underlay is a capture point");
    assert.equal(arrival.seen, false);
    assert.equal(arrival.detail, "no probe packet", "captured, and nothing arrived");
    assert.ok(!seen(t).some((p) => p.startsWith("k8s-node1/")));
    assert.ok(t.lostAfter?.startsWith("k8s-master1/"), `lost on the sender: ${t.lostAfter}`);
  });
});

describe("xnode trace when the network between the nodes drops VXLAN", () => {
  let lab: StartedLab;
  before(async () => (lab = await startLab("underlay-drop-vxlan")));
  after(async () => lab?.stop());

  test("the check proves udp-vxlan-blocked from its captures: lost after the sender's underlay, no node-side fix", async () => {
    const kube = createKubeClient({ cluster: "lab", kubeconfig: lab.kubeconfigPath });
    const { report, evidence } = await runCheck(kube, { execTimeoutMs: 15_000, pingTimeoutSeconds: 1 });
    assert.deepEqual(
      report.findings.map((f) => f.id),
      ["udp-vxlan-blocked"],
    );
    const [f] = report.findings;
    assert.equal(f!.severity, "critical");
    assert.deepEqual(f!.remediations, []);
    assert.ok(f!.trace?.lostAfter && f!.trace.lostAfter === `${f!.trace.from}/ens5`, JSON.stringify(f!.trace));
    assert.ok(
      f!.evidence.some((l) => /left \S+\/ens5 and never arrived at \S+\/ens5/.test(l)),
      f!.evidence.join("\n"),
    );
    assert.match(f!.explanation, /security group/);
    assert.ok((evidence.traces?.length ?? 0) >= 1 && (evidence.traces?.length ?? 0) <= 3, "a bounded sample of pairs traced");
  });

  test("lostAfter is the sender's underlay interface", async () => {
    const { code, trace: t } = await trace(lab, "az1-cp", "az2-w");
    assert.equal(code, 1);
    assert.equal(t.lostAfter, "az1-cp/ens5");
    assert.equal(t.observed.find((p) => p.point === "az2-w/ens5")?.detail, "no probe packet");
  });
});

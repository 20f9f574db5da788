// Each way of installing flannel, in the lab, checked by the real engine
// through @kubernetes/client-node: discovery finds it (distribution, the
// flannel container, the effective flags and where they came from, net-conf,
// the manager) and a healthy cluster is cluster-healthy, exit 0 through the CLI.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { collectSnapshot } from "../../src/check/collect-snapshot.js";
import { runCheck } from "../../src/check/run-check.js";
import { createKubeClient } from "../../src/kube/kube-client.js";
import type { ClusterSnapshot } from "../../src/model/index.js";
import { openCluster } from "../../src/cli/open-cluster.js";
import { labAdmin, withLab } from "../helpers/lab-fixture.js";
import { runCli } from "../../src/cli.js";

const flag = (s: ClusterSnapshot, name: string, node?: string) =>
  (node ? s.nodes.find((n) => n.name === node)?.flannel.flags : s.flannel.flags)?.find((f) => f.name === name);

/** `xnode check <args> --json` as a person runs it: the exit status and the finding ids. */
async function checkThroughCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; ids: string[]; detail: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["check", ...args, "--json"], { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env });
  const findings = code === 2 ? [] : (JSON.parse(out.join("")) as { findings: { id: string; evidence: string[] }[] }).findings;
  const detail = [err.join(""), ...findings.map((f) => `${f.id}: ${f.evidence.slice(0, 3).join(" | ")}`)].join("\n");
  return { code, ids: findings.map((f) => f.id), detail };
}

const HEALTHY: { scenario: string; see: (s: ClusterSnapshot) => void }[] = [
  {
    scenario: "healthy-three-nodes",
    see: (s) => {
      assert.equal(s.flannel.distribution, "manifest");
      assert.equal(`${s.flannel.daemonSet?.namespace}/${s.flannel.daemonSet?.name}`, "kube-flannel/kube-flannel-ds");
      assert.equal(s.flannel.daemonSet?.updateStrategy, undefined, "RollingUpdate");
    },
  },
  {
    scenario: "healthy-k3s",
    see: (s) => {
      assert.equal(s.flannel.distribution, "k3s");
      assert.equal(s.flannel.daemonSet, undefined);
      assert.deepEqual(s.flannel.pods, []);
      for (const n of s.nodes) assert.deepEqual(flag(s, "iface", n.name)?.values, ["enp0s8"], n.name);
    },
  },
  {
    scenario: "healthy-kubespray",
    see: (s) => {
      assert.equal(s.flannel.distribution, "kubespray");
      assert.equal(`${s.flannel.daemonSet?.namespace}/${s.flannel.daemonSet?.name}`, "kube-system/kube-flannel");
    },
  },
  {
    scenario: "healthy-helm",
    see: (s) => {
      assert.equal(s.flannel.distribution, "helm");
      assert.equal(s.flannel.manager?.kind, "helm");
    },
  },
  {
    scenario: "healthy-rke2-canal",
    see: (s) => {
      assert.equal(s.flannel.distribution, "rke2-canal");
      assert.equal(s.flannel.daemonSet?.container, "kube-flannel");
      assert.equal(s.flannel.manager?.kind, "rke2-helm-controller");
      assert.ok(s.flannel.helmChartConfig, "the HelmChartConfig was looked up");
      assert.equal(s.flannel.pods.length, s.nodes.length, "canal's pods, found by its selector k8s-app=canal");
    },
  },
  {
    scenario: "healthy-old-manifest-ondelete",
    see: (s) => {
      assert.equal(s.flannel.distribution, "manifest");
      assert.equal(s.flannel.daemonSet?.updateStrategy, "OnDelete");
    },
  },
  {
    scenario: "env-iface-healthy",
    see: (s) => assert.equal(flag(s, "iface")?.source, "env", JSON.stringify(s.flannel.flags)),
  },
  {
    scenario: "net-conf-lower-case-healthy",
    see: (s) => assert.ok(s.flannel.vxlanPort !== 8472 || s.flannel.vni !== 1, `lower-case keys read: port ${s.flannel.vxlanPort}, VNI ${s.flannel.vni}`),
  },
];

describe("every installation of flannel, healthy, in the lab", () => {
  for (const { scenario, see } of HEALTHY) {
    test(`${scenario}: discovered, and through the CLI cluster-healthy with exit 0`, async () => {
      await withLab(scenario, async ({ kubeconfigPath: kubeconfig }) => {
        see(await collectSnapshot(createKubeClient({ cluster: scenario, kubeconfig })));
        const { code, ids, detail } = await checkThroughCli([scenario, "--kubeconfig", kubeconfig]);
        assert.deepEqual(ids, ["cluster-healthy"], detail);
        assert.equal(code, 0, detail);
      });
    });
  }

  test("net-conf-lower-case-port-blocked: port 4789 and VNI 4096 read from lower-case keys, and the drop of 4789 found", async () => {
    await withLab("net-conf-lower-case-port-blocked", async ({ kubeconfigPath: kubeconfig }) => {
      const kube = createKubeClient({ cluster: "lc", kubeconfig });
      const { report, evidence } = await runCheck(kube, { execTimeoutMs: 15_000, pingTimeoutSeconds: 1 });
      assert.equal(evidence.snapshot.flannel.vxlanPort, 4789);
      assert.equal(evidence.snapshot.flannel.vni, 4096);
      const blocked = report.findings.find((f) => f.id === "udp-vxlan-blocked");
      assert.ok(blocked, report.findings.map((f) => f.id).join(", "));
      assert.match(blocked.evidence.join("\n"), /4789/);
      assert.ok(blocked.remediations.some((r) => r.kind === "open-vxlan-port"));
    });
  });

  test("XNODE_CONFIG's `flannel:` location: discovery reads that DaemonSet only, with its container, and the CLI's check is cluster-healthy with exit 0", async () => {
    await withLab("healthy-kubespray", async ({ kubeconfigPath: kubeconfig, lab }) => {
      const dir = await mkdtemp(join(tmpdir(), "xnode-cfg-"));
      try {
        const file = join(dir, "config.yaml");
        await writeFile(
          file,
          `clusters:\n  - name: lab\n    kubeconfig: ${kubeconfig}\n    flannel: { namespace: kube-system, daemonSet: kube-flannel, container: kube-flannel }\n`,
        );
        const { kube } = openCluster(["lab", "--config", file], {});
        await labAdmin(lab, "DELETE", "/_lab/requests");
        const s = await collectSnapshot(kube);
        assert.equal(s.flannel.distribution, "configured");
        assert.equal(`${s.flannel.daemonSet?.namespace}/${s.flannel.daemonSet?.name}`, "kube-system/kube-flannel");
        const log = (await labAdmin(lab, "GET", "/_lab/requests")).json as { resource?: string; verb: string; name?: string }[];
        assert.deepEqual(
          log.filter((r) => r.resource === "daemonsets").map((r) => `${r.verb} ${r.name}`),
          ["get kube-flannel"],
        );
        // a Redis nobody listens on: the check is not recorded (nothing left behind) and still exits by its verdict
        const { code, ids, detail } = await checkThroughCli(["lab", "--config", file], { REDIS_URL: "redis://127.0.0.1:1" });
        assert.deepEqual(ids, ["cluster-healthy"], detail);
        assert.equal(code, 0, detail);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});

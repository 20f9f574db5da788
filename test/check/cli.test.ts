// `xnode check` end to end on the seed lab: text report, --json shape and exit
// codes, and a node whose agent hangs.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { runCheck } from "../../src/check/run-check.js";
import type { CheckReport } from "../../src/model/index.js";
import { runCli, type CliIo } from "../../src/cli.js";
import { createKubeClient } from "../../src/kube/kube-client.js";
import { CheckStore } from "../../src/store/check-store.js";
import { createRedis } from "../../src/store/redis-connection.js";
import { deleteKeys, REDIS_URL } from "../helpers/xnode-fixture.js";
import { kubectl, labAdmin, podOn, run, startLab, type StartedLab } from "../helpers/lab-fixture.js";

function captureIo(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: {} };
}

describe("xnode check on the seed scenario", () => {
  let lab: StartedLab;
  before(async () => (lab = await startLab("seed-virtualbox-nat")));
  after(async () => lab?.stop());

  test("--json prints the fixed shape and exits 1 with the seed's findings", async () => {
    const io = captureIo();
    const code = await runCli(["check", "lab", "--kubeconfig", lab.kubeconfigPath, "--json"], io);
    assert.equal(code, 1, io.err.join(""));
    const report = JSON.parse(io.out.join("")) as CheckReport;
    assert.equal(report.cluster, "lab");
    assert.equal(typeof report.startedAt, "string");
    assert.equal(typeof report.durationMs, "number");
    assert.equal(report.nodes.length, 2);
    const pods = report.matrix.filter((m) => m.kind === "pod-icmp");
    assert.equal(pods.length, 2);
    assert.ok(pods.every((m) => m.ok === false && typeof m.error === "string"));
    const dup = report.findings.find((f) => f.id === "vtep-duplicate-public-ip");
    assert.ok(dup, "duplicate public-ip found");
    assert.ok(
      dup.evidence.some((e) => e.includes("10.0.2.15")),
      dup.evidence.join("\n"),
    );
    const wrong = report.findings.find((f) => f.id === "vtep-wrong-interface");
    assert.ok(wrong, "wrong interface found");
    assert.ok(
      wrong.evidence.some((e) => e.includes("enp0s3")),
      wrong.evidence.join("\n"),
    );
    const patch = wrong.remediations.find((r) => r.kind === "patch-flannel-iface");
    assert.ok(patch, "patch-flannel-iface offered");
    assert.ok(
      patch.diff.some((d) => d.includes("--iface=enp0s8")),
      patch.diff.join("\n"),
    );
    assert.match(io.err.join(""), /inspected k8s-/, "progress on stderr");
  });

  test("npm run --silent xnode -- check … --json prints nothing but the JSON on stdout", async () => {
    const r = await run(["npm", "run", "--silent", "xnode", "--", "check", "lab", "--kubeconfig", lab.kubeconfigPath, "--json"], 60_000);
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout) as CheckReport;
    assert.equal(report.cluster, "lab");
    assert.match(r.stderr, /inspected k8s-/, "progress goes to stderr");
  });

  test("text report names the finding, the evidence and the fix", async () => {
    const io = captureIo();
    const code = await runCli(["check", "lab", "--kubeconfig", lab.kubeconfigPath], io);
    assert.equal(code, 1);
    const text = io.out.join("");
    assert.match(text, /vtep-duplicate-public-ip/);
    assert.match(text, /--iface=enp0s8/);
    assert.match(text, /FAIL/);
  });

  test("an unknown context and a missing kubeconfig exit 2 with a hint", async () => {
    const io = captureIo();
    assert.equal(await runCli(["check", "lab", "--kubeconfig", lab.kubeconfigPath, "--context", "nope"], io), 2);
    assert.match(io.err.join(""), /no context "nope"/);
    const io2 = captureIo();
    assert.equal(await runCli(["check", "lab", "--kubeconfig", "/nonexistent/kubeconfig"], io2), 2);
    assert.match(io2.err.join(""), /cannot load kubeconfig/);
    const io3 = captureIo();
    assert.equal(await runCli(["check"], io3), 2);
    assert.match(io3.err.join(""), /usage/);
  });

  test("a node whose host agent hangs is named; the other node is still reported", async () => {
    const pod = await podOn(lab.kubeconfigPath, "xnode-system", "app.kubernetes.io/name=xnode-host-agent", "k8s-node1");
    const res = await labAdmin(lab.lab, "POST", "/_lab/exec-hang", { namespace: "xnode-system", pod, hang: true });
    assert.equal(res.status, 200);
    try {
      const kube = createKubeClient({ cluster: "lab", kubeconfig: lab.kubeconfigPath });
      const started = Date.now();
      const { report, evidence } = await runCheck(kube, { execTimeoutMs: 2_000, pingTimeoutSeconds: 1 });
      assert.ok(Date.now() - started < 20_000, "bounded by the exec timeout");
      const node1 = report.nodes.find((n) => n.name === "k8s-node1")!;
      assert.equal(node1.probed, false);
      assert.match(node1.error ?? "", /host agent on k8s-node1.*did not answer/);
      assert.ok(evidence.hosts.find((h) => h.node === "k8s-master1")?.interfaces, "master1 was inspected");
      assert.ok(
        report.matrix.some((m) => m.from === "k8s-master1"),
        "master1's probes are in the matrix",
      );
      assert.ok(!report.findings.some((f) => f.id === "cluster-healthy"));
    } finally {
      await labAdmin(lab.lab, "POST", "/_lab/exec-hang", { namespace: "xnode-system", pod, hang: false });
    }
    assert.equal((await kubectl(lab.kubeconfigPath, "get", "nodes")).code, 0);
  });

  test("a configured cluster's check is recorded like the bot's; with Redis down it is still reported, not recorded", async () => {
    const dir = await mkdtemp(join(tmpdir(), "xnode-cli-"));
    const config = join(dir, "config.yaml");
    await writeFile(config, `clusters:\n  - { name: lab-a, kubeconfig: ${lab.kubeconfigPath} }\n`);
    const prefix = `xnode-test-cli-${process.pid}`;
    const redis = createRedis(REDIS_URL);
    try {
      const io = captureIo();
      io.env = { XNODE_CONFIG: config, XNODE_REDIS_PREFIX: prefix, REDIS_URL };
      assert.equal(await runCli(["check", "lab-a"], io), 1, io.err.join(""));
      const id = /recorded as ([0-9a-f-]{36})/.exec(io.err.join(""))?.[1];
      assert.ok(id, io.err.join(""));
      const store = new CheckStore(redis, `${prefix}:`);
      const last = await store.getLast("lab-a");
      assert.equal(last?.checkId, id);
      assert.equal(last?.verdict, "3 problems");
      assert.equal((await store.getReport(id))?.findings.length, 3);

      const down = captureIo();
      down.env = { XNODE_CONFIG: config, XNODE_REDIS_PREFIX: prefix, REDIS_URL: "redis://127.0.0.1:1" };
      const started = Date.now();
      assert.equal(await runCli(["check", "lab-a", "--json"], down), 1, down.err.join(""));
      assert.ok(Date.now() - started < 30_000);
      assert.match(down.err.join(""), /not recorded: Redis at redis:\/\/127\.0\.0\.1:1 is unreachable/);
      assert.equal((JSON.parse(down.out.join("")) as CheckReport).findings.length, 3, "the report is printed all the same");
    } finally {
      await deleteKeys(redis, prefix);
      redis.disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

// The lab against the acceptance list: kubectl works against it, the
// seed scenario is broken the way the real one is and both known fixes repair
// it, the healthy and blocked-port scenarios behave, and `down` cleans up.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { kubectl, podOn, requireLabPrerequisites, run, scenarioPath, startLab, type StartedLab } from "../src/testing.js";
import { readRecord } from "../src/state.js";

const POD_AGENT = "app.kubernetes.io/name=xnode-pod-agent";
const HOST_AGENT = "app.kubernetes.io/name=xnode-host-agent";
const labCli = ["node", "--import", "tsx", fileURLToPath(new URL("../src/cli.ts", import.meta.url))];

async function podIP(kc: string, pod: string): Promise<string> {
  return (await kubectl(kc, "-n", "xnode-system", "get", "pod", pod, "-o", "jsonpath={.status.podIP}")).stdout;
}

/** Real ping from the pod agent on `from` to the pod agent on `to`. */
async function podPing(kc: string, from: string, to: string): Promise<boolean> {
  const src = await podOn(kc, "xnode-system", POD_AGENT, from);
  const dst = await podIP(kc, await podOn(kc, "xnode-system", POD_AGENT, to));
  return (await kubectl(kc, "-n", "xnode-system", "exec", src, "--", "ping", "-c", "1", "-W", "1", dst)).code === 0;
}

async function hostCurl(kc: string, from: string, url: string): Promise<boolean> {
  const pod = await podOn(kc, "xnode-system", HOST_AGENT, from);
  return (await kubectl(kc, "-n", "xnode-system", "exec", pod, "--", "curl", "-s", "-m", "2", "-o", "/dev/null", url)).code === 0;
}

async function hostExec(kc: string, node: string, ...argv: string[]): Promise<void> {
  const pod = await podOn(kc, "xnode-system", HOST_AGENT, node);
  const r = await kubectl(kc, "-n", "xnode-system", "exec", pod, "--", ...argv);
  assert.equal(r.code, 0, `${argv.join(" ")} on ${node}: ${r.stderr}`);
}

async function waitForRollout(kc: string, ns: string, ds: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const r = await kubectl(kc, "-n", ns, "get", "ds", ds, "-o", "json");
    const o = JSON.parse(r.stdout) as { metadata: { generation: number }; status: Record<string, number> };
    const s = o.status;
    if (s.observedGeneration === o.metadata.generation && s.updatedNumberScheduled === s.desiredNumberScheduled && s.numberReady === s.desiredNumberScheduled)
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`rollout of ${ns}/${ds} did not finish in 30 s`);
}

/** lab CLI confined to its own namespace family and records, so `down --all` spares other tests' labs */
function isolatedCli(stateDir: string): string[] {
  return ["env", `XNODE_LAB_PREFIX=xk-`, `XNODE_LAB_STATE_DIR=${stateDir}`, ...labCli];
}

async function netnsWithPrefix(prefix: string): Promise<string[]> {
  const out = (await run(["ip", "netns", "list"])).stdout;
  return out
    .split("\n")
    .map((l) => l.split(" ")[0]!)
    .filter((n) => n.startsWith(`${prefix}-`));
}

describe("lab CLI with the seed scenario (kubectl as the client)", () => {
  const name = `seed-cli-${randomBytes(3).toString("hex")}`;
  let dir: string;
  let kc: string;

  before(async () => {
    requireLabPrerequisites();
    dir = await mkdtemp(join(tmpdir(), "xnode-labcli-"));
    kc = join(dir, "kubeconfig");
    const up = await run([...labCli, "up", scenarioPath("seed-virtualbox-nat"), "--kubeconfig", kc, "--name", name], 90_000);
    assert.equal(up.code, 0, `lab up failed: ${up.stderr}${up.stdout}`);
    assert.match(up.stdout, /ready in \d+ ms/);
  });

  after(async () => {
    await run([...labCli, "down", name]);
    await rm(dir, { recursive: true, force: true });
  });

  test("kubectl get nodes -o wide shows both nodes with their InternalIP", async () => {
    const r = await kubectl(kc, "get", "nodes", "-o", "wide");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /k8s-master1\s+Ready/);
    assert.match(r.stdout, /k8s-node1\s+Ready/);
    assert.match(r.stdout, /10\.0\.2\.15/);
  });

  test("kubectl -n kube-system get ds lists the old-manifest flannel DaemonSet", async () => {
    const r = await kubectl(kc, "-n", "kube-system", "get", "ds");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kube-flannel-ds-amd64\s+2\s+2\s+2/);
  });

  test("kubectl exec into a pod agent runs ip route in the pod's namespace", async () => {
    const pod = await podOn(kc, "xnode-system", POD_AGENT, "k8s-master1");
    const r = await kubectl(kc, "-n", "xnode-system", "exec", pod, "--", "ip", "route");
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /default via 10\.244\.0\.1 dev eth0/);
  });

  test("seed is broken: cross-node pod ping and NodePort via the other node fail; same-node works", async () => {
    assert.equal(await podPing(kc, "k8s-master1", "k8s-node1"), false, "pod ping master1 -> node1 should fail");
    assert.equal(await podPing(kc, "k8s-node1", "k8s-master1"), false, "pod ping node1 -> master1 should fail");
    assert.equal(await hostCurl(kc, "k8s-node1", "http://192.168.56.101:30309/"), false, "NodePort on master1 from node1 should fail");
    assert.equal(await hostCurl(kc, "k8s-master1", "http://192.168.56.102:30309/"), true, "NodePort on the backend's own node answers");
  });

  test("kubectl patch adding --iface=enp0s8 rolls flannel out and repairs both", async () => {
    const patch = JSON.stringify([{ op: "add", path: "/spec/template/spec/containers/0/args/-", value: "--iface=enp0s8" }]);
    const r = await kubectl(kc, "-n", "kube-system", "patch", "ds", "kube-flannel-ds-amd64", "--type=json", "-p", patch);
    assert.equal(r.code, 0, r.stderr);
    await waitForRollout(kc, "kube-system", "kube-flannel-ds-amd64");
    const ann = await kubectl(kc, "get", "node", "k8s-node1", "-o", "jsonpath={.metadata.annotations.flannel\\.alpha\\.coreos\\.com/public-ip}");
    assert.equal(ann.stdout, "192.168.56.102");
    assert.equal(await podPing(kc, "k8s-master1", "k8s-node1"), true);
    assert.equal(await podPing(kc, "k8s-node1", "k8s-master1"), true);
    assert.equal(await hostCurl(kc, "k8s-node1", "http://192.168.56.101:30309/"), true);
  });

  test("lab down removes every namespace and the daemon", async () => {
    const rec = await readRecord(name);
    assert.ok(rec?.prefix, "the running lab has a record with its namespace prefix");
    assert.ok((await netnsWithPrefix(rec.prefix)).length > 0);
    const down = await run([...labCli, "down", name]);
    assert.equal(down.code, 0, down.stderr);
    assert.deepEqual(await netnsWithPrefix(rec.prefix), []);
    assert.throws(() => process.kill(rec.pid, 0), "daemon process is gone");
  });
});

describe("seed scenario repaired with host-only routes instead of the patch", () => {
  let started: StartedLab;
  before(async () => (started = await startLab("seed-virtualbox-nat")));
  after(async () => started?.stop());

  test("routes through enp0s8 on both nodes make the pods reach each other", async () => {
    const kc = started.kubeconfigPath;
    assert.equal(await podPing(kc, "k8s-master1", "k8s-node1"), false);
    await hostExec(kc, "k8s-master1", "ip", "route", "replace", "10.244.1.0/24", "via", "192.168.56.102", "dev", "enp0s8");
    await hostExec(kc, "k8s-node1", "ip", "route", "replace", "10.244.0.0/24", "via", "192.168.56.101", "dev", "enp0s8");
    assert.equal(await podPing(kc, "k8s-master1", "k8s-node1"), true);
    assert.equal(await podPing(kc, "k8s-node1", "k8s-master1"), true);
  });
});

async function pairMatrix(kc: string, nodes: string[]): Promise<Map<string, boolean>> {
  const pairs = nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => [a, b] as const));
  const results = await Promise.all(pairs.map(async ([a, b]) => [`${a}->${b}`, await podPing(kc, a, b)] as const));
  return new Map(results);
}

describe("healthy and blocked-port scenarios", () => {
  test("healthy-three-nodes: every pod pair answers", async () => {
    const s = await startLab("healthy-three-nodes");
    try {
      const m = await pairMatrix(s.kubeconfigPath, ["cp-0", "worker-0", "worker-1"]);
      assert.equal(m.size, 6);
      for (const [pair, ok] of m) assert.equal(ok, true, `${pair} should answer`);
    } finally {
      await s.stop();
    }
  });

  test("vxlan-port-blocked: exactly the pairs involving worker-b fail", async () => {
    const s = await startLab("vxlan-port-blocked");
    try {
      const m = await pairMatrix(s.kubeconfigPath, ["master", "worker-a", "worker-b"]);
      for (const [pair, ok] of m) assert.equal(ok, !pair.includes("worker-b"), `${pair}: ${ok ? "answered" : "failed"}`);
    } finally {
      await s.stop();
    }
  });
});

describe("lab down --all after a crash", () => {
  test("leaves no namespace, link or process behind", async () => {
    requireLabPrerequisites();
    const dir = await mkdtemp(join(tmpdir(), "xnode-labcrash-"));
    const name = `crash-${randomBytes(3).toString("hex")}`;
    try {
      const cli = isolatedCli(join(dir, "state"));
      const up = await run([...cli, "up", scenarioPath("healthy-three-nodes"), "--kubeconfig", join(dir, "kc"), "--name", name], 90_000);
      assert.equal(up.code, 0, up.stderr);
      const rec = await readRecord(name, join(dir, "state"));
      assert.ok(rec?.prefix);
      process.kill(rec.pid, "SIGKILL"); // the daemon dies without cleaning up
      await new Promise((r) => setTimeout(r, 200));
      const namespaces = await netnsWithPrefix(rec.prefix);
      assert.ok(namespaces.length > 0, "a crashed lab leaves its namespaces");
      const pids = (
        await Promise.all(namespaces.map(async (ns) => (await run(["ip", "netns", "pids", ns])).stdout.split(/\s+/).filter(Boolean).map(Number)))
      ).flat();
      assert.ok(pids.length > 0, "the crashed lab's pod processes are still running");
      const down = await run([...cli, "down", "--all"]);
      assert.equal(down.code, 0, down.stderr);
      assert.deepEqual(await netnsWithPrefix(rec.prefix), []);
      assert.equal(await readRecord(name, join(dir, "state")), undefined);
      // SIGKILLed orphans may linger a moment as zombies until init reaps them: those are dead.
      const running = (pid: number) => {
        try {
          return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
        } catch {
          return false;
        }
      };
      assert.deepEqual(pids.filter(running), [], "no process of the lab survives");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

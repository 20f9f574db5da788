// Synthetic clusters: N generated nodes behind the emulated API, every exec
// answered by the simulated data plane. Real kubectl as the client; the
// outputs must follow from the topology and the scenario's faults.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Lab } from "../src/lab.js";
import { loadScenario, parseScenario, ScenarioError } from "../src/scenario.js";
import { kubectl, podOn, scenarioPath } from "../src/testing.js";

const HOST_AGENT = "app.kubernetes.io/name=xnode-host-agent";
const POD_AGENT = "app.kubernetes.io/name=xnode-pod-agent";

async function withKubeconfig(lab: Lab): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "xnode-synth-"));
  const path = join(dir, "kubeconfig");
  await writeFile(path, lab.kubeconfig, { mode: 0o600 });
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

describe("synthetic scenario schema", () => {
  const base = { name: "s", synthetic: { nodes: 3 }, flannel: { network: "10.244.0.0/16" } };
  const problems = (data: unknown) => {
    try {
      parseScenario(data);
      return [];
    } catch (err) {
      return (err as ScenarioError).problems;
    }
  };
  test("nodes are generated: faults name node-0000 … and nothing else", () => {
    assert.deepEqual(problems({ ...base, faults: [{ kind: "drop-udp", node: "node-0002", port: 8472 }] }), []);
    assert.deepEqual(problems({ ...base, faults: [{ kind: "drop-udp", node: "node-0003", port: 8472 }] }), ['faults.0.node: unknown node "node-0003"']);
  });
  test("a synthetic cluster has no networks or nodes, and a normal one needs both", () => {
    const lan = { name: "lan", cidr: "192.168.1.0/24" };
    assert.deepEqual(problems({ ...base, networks: [lan] }), ["synthetic: a synthetic cluster has no networks or nodes"]);
    assert.deepEqual(problems({ name: "s", flannel: base.flannel }), [
      "networks: at least one network (or a synthetic block)",
      "nodes: at least one node (or a synthetic block)",
    ]);
  });
});

describe("synth-1000: a thousand generated nodes", () => {
  let lab: Lab;
  let kc: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    const scenario = await loadScenario(scenarioPath("synth-1000"));
    const started = Date.now();
    lab = await Lab.start(scenario, { name: `synth-1000-${process.pid}` });
    // a figure, not an assertion: the bench and the README say how fast this is
    console.log(`synth-1000 started in ${Date.now() - started} ms`);
    kc = await withKubeconfig(lab);
  });
  after(async () => {
    await lab?.stop();
    await kc?.cleanup();
  });

  test("kubectl lists 1000 Ready nodes with podCIDRs from flannel.network and flannel's annotations", async () => {
    const r = await kubectl(kc.path, "get", "nodes", "-o", "json");
    assert.equal(r.code, 0, r.stderr);
    const items = (JSON.parse(r.stdout) as { items: { metadata: { name: string; annotations: Record<string, string> }; spec: { podCIDR: string } }[] }).items;
    assert.equal(items.length, 1000);
    assert.equal(items[417]!.metadata.name, "node-0417");
    assert.equal(items[417]!.spec.podCIDR, "10.1.161.0/24");
    assert.equal(new Set(items.map((n) => n.metadata.annotations["flannel.alpha.coreos.com/public-ip"])).size, 1000);
    const ds = await kubectl(kc.path, "-n", "kube-flannel", "get", "ds", "kube-flannel-ds", "-o", "jsonpath={.status.numberReady}");
    assert.equal(ds.stdout, "1000");
  });

  test("a host agent's route table has one flannel route per peer, through flannel.1", async () => {
    const pod = await podOn(kc.path, "xnode-system", HOST_AGENT, "node-0005");
    const r = await kubectl(kc.path, "-n", "xnode-system", "exec", pod, "--", "ip", "-j", "route", "show");
    assert.equal(r.code, 0, r.stderr);
    const routes = JSON.parse(r.stdout) as { dst: string; dev: string; gateway?: string }[];
    assert.equal(routes.filter((x) => x.dev === "flannel.1").length, 999);
    assert.deepEqual(
      routes.find((x) => x.dst === "10.0.5.0/24"),
      { dst: "10.0.5.0/24", dev: "cni0", protocol: "kernel", scope: "link", prefsrc: "10.0.5.1", flags: [] },
    );
  });

  test("a command the agent has not is exit 127, as from a real container", async () => {
    const pod = await podOn(kc.path, "xnode-system", HOST_AGENT, "node-0001");
    const r = await kubectl(kc.path, "-n", "xnode-system", "exec", pod, "--", "traceroute", "10.0.2.2");
    assert.equal(r.code, 127);
    assert.match(r.stderr, /executable file not found/);
  });
});

describe("faults in a synthetic cluster", () => {
  let lab: Lab;
  let kc: { path: string; cleanup: () => Promise<void> };
  before(async () => {
    const scenario = parseScenario({
      name: "synth-faults",
      synthetic: { nodes: 6, execLatencyMs: 20 },
      flannel: { network: "10.244.0.0/16" },
      faults: [
        { kind: "drop-udp", node: "node-0001", port: 8472 },
        { kind: "forward-policy-drop", node: "node-0002" },
        { kind: "stale-fdb", node: "node-0003", peer: "node-0004" },
      ],
    });
    lab = await Lab.start(scenario, { name: `synth-faults-${process.pid}` });
    kc = await withKubeconfig(lab);
  });
  after(async () => {
    await lab?.stop();
    await kc?.cleanup();
  });

  const exec = async (selector: string, node: string, argv: string[], stdin?: string) => {
    const pod = await podOn(kc.path, "xnode-system", selector, node);
    if (stdin === undefined) return kubectl(kc.path, "-n", "xnode-system", "exec", pod, "--", ...argv);
    const { spawn } = await import("node:child_process");
    return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      const child = spawn("kubectl", ["--kubeconfig", kc.path, "-n", "xnode-system", "exec", "-i", pod, "--", ...argv]);
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
      child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
      child.on("close", (code) => resolve({ code: code ?? 1, stdout, stderr }));
      child.stdin.end(stdin);
    });
  };

  test("the evidence shows each fault on its node only", async () => {
    const drop = await exec(HOST_AGENT, "node-0001", ["iptables-save"]);
    assert.match(drop.stdout, /^-A INPUT -p udp -m udp --dport 8472 -j DROP$/m);
    const fwd = await exec(HOST_AGENT, "node-0002", ["iptables-save"]);
    assert.match(fwd.stdout, /^:FORWARD DROP \[0:0\]$/m);
    assert.doesNotMatch(fwd.stdout, /-A FORWARD .*FLANNEL-FWD/);
    const nft = JSON.parse((await exec(HOST_AGENT, "node-0002", ["nft", "-j", "list", "ruleset"])).stdout) as {
      nftables: { chain?: { name: string; policy?: string } }[];
    };
    assert.equal(nft.nftables.find((o) => o.chain?.name === "FORWARD")?.chain?.policy, "drop");
    const healthy = await exec(HOST_AGENT, "node-0000", ["iptables-save"]);
    assert.match(healthy.stdout, /^:FORWARD ACCEPT \[0:0\]$/m);
    assert.doesNotMatch(healthy.stdout, /DROP$/m);
    const fdb = JSON.parse((await exec(HOST_AGENT, "node-0003", ["bridge", "-j", "fdb", "show"])).stdout) as { ifname: string; dst?: string }[];
    const peerIPs = new Set((await kubectl(kc.path, "get", "nodes", "-o", "jsonpath={.items[*].status.addresses[0].address}")).stdout.split(" "));
    assert.equal(fdb.filter((e) => e.ifname === "flannel.1" && !peerIPs.has(e.dst!)).length, 1, "one FDB entry points at no node");
  });

  test("pings follow from the faults: pod traffic to a node dropping VXLAN or forwarding nothing dies, the rest answers", async () => {
    const podIP = async (node: string) =>
      (await kubectl(kc.path, "-n", "xnode-system", "get", "pod", await podOn(kc.path, "xnode-system", POD_AGENT, node), "-o", "jsonpath={.status.podIP}"))
        .stdout;
    const ping = async (from: string, to: string) => (await exec(POD_AGENT, from, ["ping", "-n", "-c", "1", "-W", "1", await podIP(to)])).code;
    assert.equal(await ping("node-0000", "node-0005"), 0);
    assert.equal(await ping("node-0000", "node-0001"), 1, "VXLAN into node-0001 is dropped");
    assert.equal(await ping("node-0001", "node-0000"), 1, "and so are the replies");
    assert.equal(await ping("node-0005", "node-0002"), 1, "node-0002 forwards nothing to its pods");
    assert.equal(await ping("node-0003", "node-0004"), 1, "node-0003's FDB sends node-0004's VXLAN nowhere");
    assert.equal(await ping("node-0004", "node-0003"), 1, "nor can node-0004's replies to node-0003 come back");
    assert.equal(await ping("node-0003", "node-0005"), 0);
    // underlay is untouched by all three
    const nodeIP = (await kubectl(kc.path, "get", "node", "node-0001", "-o", "jsonpath={.status.addresses[0].address}")).stdout;
    assert.equal((await exec(HOST_AGENT, "node-0000", ["ping", "-n", "-c", "1", "-W", "1", nodeIP])).code, 0);
  });

  test("xnode-agent reach reads its targets on stdin (exec stdin over the WebSocket) and answers one JSON line each", async () => {
    const [ok, blocked] = await Promise.all(
      ["node-0005", "node-0001"].map(async (n) => (await kubectl(kc.path, "get", "node", n, "-o", "jsonpath={.spec.podCIDR}")).stdout.replace(/0\/24$/, "2")),
    );
    const r = await exec(POD_AGENT, "node-0000", ["xnode-agent", "reach", "--timeout", "1"], `a icmp ${ok}\nb tcp ${ok} 8080\nc icmp ${blocked}\n`);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { id: string; ok: boolean });
    assert.deepEqual(
      lines.map((l) => [l.id, l.ok]),
      [
        ["a", true],
        ["b", true],
        ["c", false],
      ],
    );
  });
});

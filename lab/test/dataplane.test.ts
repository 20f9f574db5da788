// The lab's data plane on its own (no API server): real namespaces, VXLAN,
// iptables. Needs root; fails (never skips) without it, so a CI without the
// privileges shows up red instead of silently green.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { inNetns, run } from "../src/dataplane/exec.js";
import { applyFault } from "../src/dataplane/faults.js";
import { chooseInterface, NO_MATCHING_IFACE_ERROR, programPeers, setupFlannelNode, type FlannelPeer } from "../src/dataplane/flannel.js";
import { buildTopology, destroyTopology, listLabPrefixes, type LabTopology } from "../src/dataplane/topology.js";
import { loadScenario, parseScenario, type Scenario, type ScenarioNode } from "../src/scenario.js";
import { curlOk, pingOk, podMatrix } from "./net-probes.js";

const scenarioFile = (name: string) => fileURLToPath(new URL(`../scenarios/${name}.yaml`, import.meta.url));
const newPrefix = () => `xl-dp${randomBytes(3).toString("hex")}`;

// ---------------------------------------------------------------- pure: interface choice

describe("chooseInterface (flanneld's external interface)", () => {
  const node: ScenarioNode = parseScenario({
    name: "t",
    networks: [
      { name: "nat", cidr: "10.0.2.0/24", gateway: "10.0.2.2" },
      { name: "hostonly", cidr: "192.168.56.0/24" },
    ],
    nodes: [
      {
        name: "n1",
        interfaces: [
          { name: "enp0s3", network: "nat", address: "10.0.2.15/24", defaultRoute: true },
          { name: "enp0s8", network: "hostonly", address: "192.168.56.101/24" },
        ],
      },
    ],
    flannel: { network: "10.244.0.0/16" },
  }).nodes[0]!;
  const pick = (args: string[]) => chooseInterface(node, args);

  test("no selection flag: the default-route interface", () => {
    assert.deepEqual(pick(["--ip-masq", "--kube-subnet-mgr"]), { ok: true, iface: "enp0s3", address: "10.0.2.15" });
  });
  test("--iface by name, =value and two-token forms, single dash too", () => {
    const want = { ok: true, iface: "enp0s8", address: "192.168.56.101" };
    assert.deepEqual(pick(["--iface=enp0s8"]), want);
    assert.deepEqual(pick(["--iface", "enp0s8"]), want);
    assert.deepEqual(pick(["-iface=enp0s8"]), want);
  });
  test("--iface by address", () => {
    assert.deepEqual(pick(["--iface=192.168.56.101"]), { ok: true, iface: "enp0s8", address: "192.168.56.101" });
  });
  test("repeated --iface: the first that exists wins", () => {
    assert.deepEqual(pick(["--iface=eth1", "--iface=enp0s8", "--iface=enp0s3"]), { ok: true, iface: "enp0s8", address: "192.168.56.101" });
  });
  test("a missing --iface crash-loops flanneld with its real message", () => {
    assert.deepEqual(pick(["--iface=eth1"]), { ok: false, error: NO_MATCHING_IFACE_ERROR });
  });
  test("--iface-regex matches addresses first, then names", () => {
    assert.deepEqual(pick(["--iface-regex=192\\.168\\.56\\.[0-9]+"]), { ok: true, iface: "enp0s8", address: "192.168.56.101" });
    assert.deepEqual(pick(["--iface-regex=^enp0s8$"]), { ok: true, iface: "enp0s8", address: "192.168.56.101" });
    assert.deepEqual(pick(["--iface-regex=^wlan"]), { ok: false, error: NO_MATCHING_IFACE_ERROR });
  });
  test("--iface comes before --iface-regex", () => {
    assert.deepEqual(pick(["--iface-regex=enp0s8", "--iface=enp0s3"]), { ok: true, iface: "enp0s3", address: "10.0.2.15" });
  });
  test("--iface-can-reach: the connected network, else the default route", () => {
    assert.deepEqual(pick(["--iface-can-reach=192.168.56.102"]), { ok: true, iface: "enp0s8", address: "192.168.56.101" });
    assert.deepEqual(pick(["--iface-can-reach", "8.8.8.8"]), { ok: true, iface: "enp0s3", address: "10.0.2.15" });
  });
  test("no default route and no flag: flanneld cannot start", () => {
    const noDefault = { ...node, interfaces: node.interfaces.map((f) => ({ ...f, defaultRoute: false })) };
    const choice = chooseInterface(noDefault, []);
    assert.equal(choice.ok, false);
  });
});

// ---------------------------------------------------------------- real namespaces

interface FlannelState {
  topo: LabTopology;
  choices: Record<string, { iface: string; address: string }>;
  peers: FlannelPeer[];
}

/** What flanneld does on every node with these args: choose, set up, then program every peer. */
async function flannelUp(s: Scenario, topo: LabTopology, args: string[], previous?: FlannelState): Promise<FlannelState> {
  const choices: FlannelState["choices"] = {};
  const peers: FlannelPeer[] = [];
  await Promise.all(
    s.nodes.map(async (node) => {
      const choice = chooseInterface(node, args);
      if (!choice.ok) throw new Error(`${node.name}: ${choice.error}`);
      const oldMac = previous?.peers.find((p) => p.node === node.name)?.vtepMac;
      const { vtepMac } = await setupFlannelNode(topo, s, node.name, choice, oldMac);
      choices[node.name] = choice;
      peers.push({ node: node.name, podCIDR: node.podCIDR!, publicIP: choice.address, vtepMac, backendType: s.flannel.backend });
    }),
  );
  await Promise.all(s.nodes.map((node) => programPeers(topo, s, node.name, choices[node.name]!.iface, peers)));
  return { topo, choices, peers };
}

async function netnsOfPrefix(prefix: string): Promise<string[]> {
  const { stdout } = await run(["ip", "netns", "list"]);
  return stdout
    .split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n.startsWith(`${prefix}-`));
}

async function pidsOf(netns: string[]): Promise<number[]> {
  const lists = await Promise.all(netns.map((ns) => run(["ip", "netns", "pids", ns])));
  return lists.flatMap((l) => l.stdout.split(/\s+/).filter(Boolean).map(Number));
}

async function processGone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
    if (!status || /^State:\s+Z/m.test(status)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** Destroys the lab and proves it left no namespace and no process behind. */
async function destroyAndCheck(prefix: string): Promise<void> {
  const pids = await pidsOf(await netnsOfPrefix(prefix));
  await destroyTopology(prefix);
  assert.deepEqual(await netnsOfPrefix(prefix), [], "lab namespaces left behind");
  assert.equal((await listLabPrefixes()).includes(prefix), false);
  for (const pid of pids) assert.ok(await processGone(pid), `process ${pid} of lab ${prefix} still running`);
}

// One lab at a time: namespace creation and deletion serialize in the kernel,
// so labs built side by side only slow each other down.
describe("lab data plane (real namespaces, needs root)", () => {
  const prefixes: string[] = [];
  const newLab = async (s: Scenario) => {
    const prefix = newPrefix();
    prefixes.push(prefix);
    const started = performance.now();
    const topo = await buildTopology(s, prefix);
    return { topo, prefix, buildMs: performance.now() - started };
  };

  before(async () => {
    assert.equal(process.getuid?.(), 0, "the lab data-plane tests need root (network namespaces, iptables): run them as root");
    const probe = `${newPrefix()}-net.preflight`;
    const r = await run(["ip", "netns", "add", probe], { allowFail: true });
    assert.equal(r.code, 0, `cannot create a network namespace (ip netns add ${probe}): ${r.stderr.trim()}`);
    await run(["ip", "netns", "delete", probe]);
  });
  after(async () => {
    await Promise.all(prefixes.map((p) => destroyTopology(p)));
  });

  test("seed-virtualbox-nat: broken by default, fixed by --iface=enp0s8", async () => {
    const s = await loadScenario(scenarioFile("seed-virtualbox-nat"));
    const { topo, prefix } = await newLab(s);
    const master = topo.nodes["k8s-master1"]!;
    const worker = topo.nodes["k8s-node1"]!;
    const nodePortOnMaster = `http://192.168.56.101:${s.services[0]!.nodePort}/`;

    const broken = await flannelUp(s, topo, s.flannel.args);
    assert.deepEqual(
      broken.peers.map((p) => p.publicIP),
      ["10.0.2.15", "10.0.2.15"],
      "both nodes advertise the NAT address",
    );
    const [pingBroken, curlBroken, curlSameNode] = await Promise.all([
      pingOk(master.podNetns, worker.podIP),
      curlOk(worker.netns, nodePortOnMaster),
      curlOk(worker.netns, `http://192.168.56.102:${s.services[0]!.nodePort}/`),
    ]);
    assert.equal(pingBroken, false, "pod on master1 must not reach pod on node1");
    assert.equal(curlBroken, false, "NodePort on master1 must not reach the pod on node1");
    assert.equal(curlSameNode, true, "NodePort on the pod's own node answers");

    await flannelUp(s, topo, [...s.flannel.args, "--iface=enp0s8"], broken);
    const dev = (await run(inNetns(master.netns, ["ip", "-d", "link", "show", "flannel.1"]))).stdout;
    assert.match(dev, /vxlan id 1 local 192\.168\.56\.101 dev enp0s8 .*dstport 8472 nolearning/);
    assert.ok(dev.includes(broken.peers.find((p) => p.node === "k8s-master1")!.vtepMac), "VtepMAC reused on recreate");
    const [there, back, curlFixed] = await Promise.all([
      pingOk(master.podNetns, worker.podIP),
      pingOk(worker.podNetns, master.podIP),
      curlOk(worker.netns, nodePortOnMaster),
    ]);
    assert.deepEqual({ there, back, curlFixed }, { there: true, back: true, curlFixed: true });
    await destroyAndCheck(prefix);
  });

  test("seed-virtualbox-nat: static routes over the host-only network fix it until flannel re-programs", async () => {
    const s = await loadScenario(scenarioFile("seed-virtualbox-nat"));
    const { topo, prefix } = await newLab(s);
    const master = topo.nodes["k8s-master1"]!;
    const worker = topo.nodes["k8s-node1"]!;
    const state = await flannelUp(s, topo, s.flannel.args);

    await run(["ip", "-n", master.netns, "route", "replace", "10.244.1.0/24", "via", "192.168.56.102", "dev", "enp0s8"]);
    await run(["ip", "-n", worker.netns, "route", "replace", "10.244.0.0/24", "via", "192.168.56.101", "dev", "enp0s8"]);
    const [there, back] = await Promise.all([pingOk(master.podNetns, worker.podIP), pingOk(worker.podNetns, master.podIP)]);
    assert.deepEqual({ there, back }, { there: true, back: true });

    // flanneld's RouteReplace of the same prefix overwrites the static route.
    await programPeers(topo, s, "k8s-master1", state.choices["k8s-master1"]!.iface, state.peers);
    const route = (await run(["ip", "-n", master.netns, "route", "show", "10.244.1.0/24"])).stdout;
    assert.match(route, /via 10\.244\.1\.0 dev flannel\.1 onlink/);
    assert.equal(await pingOk(master.podNetns, worker.podIP), false);
    await destroyAndCheck(prefix);
  });

  test("healthy-three-nodes: every pod pair answers; build is fast", async (t) => {
    const s = await loadScenario(scenarioFile("healthy-three-nodes"));
    const { topo, prefix, buildMs } = await newLab(s);
    t.diagnostic(`3-node build: ${Math.round(buildMs)} ms`);
    assert.ok(buildMs < 2000, `3-node build took ${Math.round(buildMs)} ms`);
    const state = await flannelUp(s, topo, s.flannel.args);
    const matrix = await podMatrix(topo);
    assert.equal(matrix.size, 6);
    assert.deepEqual(
      [...matrix].filter(([, ok]) => !ok),
      [],
      "failing pairs",
    );
    const agent = topo.nodes["worker-1"]!;
    assert.equal(await curlOk(topo.nodes["cp-0"]!.podNetns, `http://${agent.podIP}:8080/`), true, "pod agent HTTP answers across nodes");

    // A lease that disappears takes its route, neighbour and FDB entry with it; the others stay.
    const cp = topo.nodes["cp-0"]!.netns;
    const entries = async () =>
      [
        (await run(["ip", "-n", cp, "route", "show", "dev", "flannel.1"])).stdout,
        (await run(["ip", "-n", cp, "neigh", "show", "dev", "flannel.1"])).stdout,
        (await run(["bridge", "-n", cp, "fdb", "show", "dev", "flannel.1"])).stdout,
      ].join("");
    const gone = state.peers.find((p) => p.node === "worker-1")!;
    await programPeers(
      topo,
      s,
      "cp-0",
      state.choices["cp-0"]!.iface,
      state.peers.filter((p) => p !== gone),
    );
    const left = await entries();
    assert.doesNotMatch(left, /10\.42\.2\.0/);
    assert.ok(!left.includes(gone.vtepMac), "FDB entry of the removed peer deleted");
    assert.match(left, /10\.42\.1\.0\/24 via 10\.42\.1\.0 onlink/);
    await destroyAndCheck(prefix);
  });

  test("host-gw backend: routes via the peers' addresses, every pod pair answers", async () => {
    const base = await loadScenario(scenarioFile("healthy-three-nodes"));
    const s: Scenario = { ...base, flannel: { ...base.flannel, backend: "host-gw" } };
    const { topo, prefix } = await newLab(s);
    await flannelUp(s, topo, s.flannel.args);
    const routes = (await run(["ip", "-n", topo.nodes["cp-0"]!.netns, "route"])).stdout;
    assert.match(routes, /10\.42\.1\.0\/24 via 172\.31\.10\.11 dev eth0/);
    assert.doesNotMatch(routes, /flannel/);
    // host-gw adds no encapsulation: cni0 and pods get the underlay's MTU.
    assert.match((await run(["ip", "-n", topo.nodes["cp-0"]!.netns, "link", "show", "cni0"])).stdout, /mtu 1500 /);
    assert.match((await run(["ip", "-n", topo.nodes["cp-0"]!.podNetns, "link", "show", "eth0"])).stdout, /mtu 1500 /);
    const matrix = await podMatrix(topo);
    assert.deepEqual(
      [...matrix].filter(([, ok]) => !ok),
      [],
      "failing pairs",
    );
    await destroyAndCheck(prefix);
  });

  test("vxlan-port-blocked: only pairs involving worker-b fail", async () => {
    const s = await loadScenario(scenarioFile("vxlan-port-blocked"));
    const { topo, prefix } = await newLab(s);
    const state = await flannelUp(s, topo, s.flannel.args);
    for (const fault of s.faults) await applyFault(topo, s, fault, state.peers);
    const matrix = await podMatrix(topo);
    for (const [pair, ok] of matrix) assert.equal(ok, !pair.includes("worker-b"), `${pair} ${ok ? "answers" : "fails"}`);
    await destroyAndCheck(prefix);
  });

  test("every fault kind changes what it names", async () => {
    const s = await loadScenario(scenarioFile("healthy-three-nodes"));
    const { topo, prefix } = await newLab(s);
    const state = await flannelUp(s, topo, s.flannel.args);
    const ns = (node: string) => topo.nodes[node]!.netns;
    const inNode = async (node: string, argv: string[]) => (await run(inNetns(ns(node), argv))).stdout;
    const peerMac = state.peers.find((p) => p.node === "worker-1")!.vtepMac;
    const faults: Scenario["faults"] = [
      { kind: "drop-udp", node: "worker-0", port: 8472 },
      { kind: "forward-policy-drop", node: "worker-0" },
      { kind: "sysctl", node: "worker-1", key: "net.ipv4.ip_forward", value: "0" },
      { kind: "mtu", node: "worker-1", interface: "eth0", mtu: 1400 },
      { kind: "delete-route", node: "cp-0", to: "10.42.1.0/24" },
      { kind: "stale-fdb", node: "cp-0", peer: "worker-1" },
    ];
    for (const fault of faults) await applyFault(topo, s, fault, state.peers);

    const filter = await inNode("worker-0", ["iptables-save", "-t", "filter"]);
    assert.match(filter, /-A INPUT -p udp -m udp --dport 8472 -j DROP/);
    assert.match(filter, /:FORWARD DROP/);
    assert.doesNotMatch(filter, /-A FORWARD .*-j FLANNEL-FWD/);
    assert.equal((await inNode("worker-1", ["cat", "/proc/sys/net/ipv4/ip_forward"])).trim(), "0");
    assert.match(await inNode("worker-1", ["ip", "link", "show", "eth0"]), /mtu 1400/);
    assert.equal((await inNode("cp-0", ["ip", "route", "show", "10.42.1.0/24"])).trim(), "");
    const fdb = await inNode("cp-0", ["bridge", "fdb", "show", "dev", "flannel.1"]);
    const line = fdb.split("\n").find((l) => l.startsWith(peerMac)) ?? "";
    assert.match(line, /dst 172\.31\.10\.\d+ self permanent/);
    assert.doesNotMatch(line, /dst 172\.31\.10\.(1|10|11|12) /, "stale FDB points at an address no node has");
    // Every cross-node pair now crosses at least one of these faults.
    const matrix = await podMatrix(topo);
    assert.deepEqual(
      [...matrix].filter(([, ok]) => ok),
      [],
      "no pair should answer with every fault applied",
    );
    await destroyAndCheck(prefix);
  });

  test("destroyTopology is idempotent and ignores other prefixes", async () => {
    const prefix = newPrefix();
    await destroyTopology(prefix);
    await destroyTopology(prefix);
    assert.deepEqual(await netnsOfPrefix(prefix), []);
    await assert.rejects(destroyTopology("Bad Prefix"), /invalid lab prefix/);
  });
});

// The version-2 faults (lab-scenarios/README.md "Additions"): nft-drop,
// underlay-drop and iptables-backend-split, each proven at the packet level in
// a running lab built from its bundled scenario: the pod traffic that should
// die dies, the traffic that should live lives, counters show where the
// packets stop, and each fault is visible exactly where the README says.
// All traffic runs between the lab's own namespaces. Needs root; fails, never skips.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { applyFault } from "../src/dataplane/faults.js";
import { chooseInterface, setupFlannelNode } from "../src/dataplane/flannel.js";
import type { LabTopology } from "../src/dataplane/topology.js";
import { Lab } from "../src/lab.js";
import { loadScenario, type Scenario, type ScenarioService } from "../src/scenario.js";
import { requireLabPrerequisites, scenarioPath } from "../src/testing.js";
import { assertMatrix, curlOk, out, pingOk, podMatrix, sh } from "./net-probes.js";

async function linkStats(netns: string, dev: string): Promise<{ rx: number; tx: number }> {
  const [link] = JSON.parse(await out(netns, ["ip", "-j", "-s", "link", "show", "dev", dev])) as {
    stats64: { rx: { packets: number }; tx: { packets: number } };
  }[];
  return { rx: link!.stats64.rx.packets, tx: link!.stats64.tx.packets };
}

/** Sends `count` echo requests (no reply expected) and returns how each link's counters moved meanwhile. */
async function countWhilePinging(
  fromNetns: string,
  ip: string,
  links: Record<string, { netns: string; dev: string }>,
  count = 5,
): Promise<Record<string, { rx: number; tx: number }>> {
  const read = () => Promise.all(Object.values(links).map((l) => linkStats(l.netns, l.dev)));
  const beforeStats = await read();
  await sh(fromNetns, ["ping", "-n", "-q", `-c${count}`, "-i0.1", "-W1", ip]);
  const afterStats = await read();
  return Object.fromEntries(Object.keys(links).map((k, i) => [k, { rx: afterStats[i]!.rx - beforeStats[i]!.rx, tx: afterStats[i]!.tx - beforeStats[i]!.tx }]));
}

// `nft -j list ruleset`, reduced to what the assertions read.
interface NftChain {
  family: string;
  table: string;
  name: string;
  hook?: string;
  prio?: number;
  policy?: string;
}
interface NftRule {
  family: string;
  table: string;
  chain: string;
  expr: Record<string, unknown>[];
}
async function nftRuleset(netns: string): Promise<{ tables: string[]; chains: NftChain[]; rules: NftRule[] }> {
  const items = (JSON.parse(await out(netns, ["nft", "-j", "list", "ruleset"])) as { nftables: Record<string, unknown>[] }).nftables;
  const pick = <T>(key: string) => items.flatMap((i) => (i[key] ? [i[key] as T] : []));
  return {
    tables: pick<{ family: string; name: string }>("table").map((t) => `${t.family} ${t.name}`),
    chains: pick<NftChain>("chain"),
    rules: pick<NftRule>("rule"),
  };
}

/** A rule `<proto> dport <port> drop`, as nft's JSON spells it. */
const isPortDrop = (r: NftRule, proto: string, port: number) =>
  JSON.stringify(r.expr) === JSON.stringify([{ match: { op: "==", left: { payload: { protocol: proto, field: "dport" } }, right: port } }, { drop: null }]);

/** Both iptables backends' views of a node: what an operator (or xnode's host agent) reads. */
async function iptablesViews(netns: string) {
  const [legacy, nft] = await Promise.all([sh(netns, ["iptables-legacy-save"]), sh(netns, ["iptables-nft-save"])]);
  assert.equal(legacy.code, 0, legacy.stderr);
  assert.equal(nft.code, 0, nft.stderr);
  return { legacy: legacy.stdout, nft: nft.stdout, nftStderr: nft.stderr };
}

/** Starts a lab from a bundled scenario, with extra service pods so a node has two pods (same-node traffic). */
async function startWith(scenario: string, services: ScenarioService[] = []): Promise<{ lab: Lab; s: Scenario; topo: LabTopology }> {
  const base = await loadScenario(scenarioPath(scenario));
  const s: Scenario = { ...base, services: [...base.services, ...services] };
  const lab = await Lab.start(s, { name: `${scenario}-${process.pid}` });
  return { lab, s, topo: lab.topology };
}

describe("version-2 faults at the packet level (real namespaces, needs root)", () => {
  before(() => requireLabPrerequisites());

  test("nft-drop-vxlan: firewalld's inet table on wrk-02 drops VXLAN; invisible to both iptables-save", async () => {
    const { lab, s, topo } = await startWith("nft-drop-vxlan", [{ name: "web", node: "wrk-02", port: 80, nodePort: 30080 }]);
    try {
      const [ctl, w1, w2] = [topo.nodes["ctl-01"]!, topo.nodes["wrk-01"]!, topo.nodes["wrk-02"]!];
      const web = topo.services.web!;

      // Dies: every pod pair involving wrk-02, ICMP and TCP. Lives: the other pair, same-node pods, the underlay.
      assertMatrix(await podMatrix(topo), (a, b) => a !== "wrk-02" && b !== "wrk-02");
      const [tcpDead, tcpLive, sameNodePing, sameNodeHttp, underlay] = await Promise.all([
        curlOk(ctl.podNetns, `http://${w2.podIP}:8080/`),
        curlOk(ctl.podNetns, `http://${w1.podIP}:8080/`),
        pingOk(w2.podNetns, web.podIP),
        curlOk(w2.podNetns, `http://${web.podIP}:80/`),
        pingOk(ctl.netns, w2.internalIP),
      ]);
      assert.deepEqual(
        { tcpDead, tcpLive, sameNodePing, sameNodeHttp, underlay },
        { tcpDead: false, tcpLive: true, sameNodePing: true, sameNodeHttp: true, underlay: true },
      );

      // Where the packets stop: they leave ctl-01's flannel.1, arrive on wrk-02's NIC, never reach wrk-02's flannel.1.
      const moved = await countWhilePinging(ctl.podNetns, w2.podIP, {
        senderVtep: { netns: ctl.netns, dev: "flannel.1" },
        receiverNic: { netns: w2.netns, dev: "ens192" },
        receiverVtep: { netns: w2.netns, dev: "flannel.1" },
      });
      assert.ok(moved.senderVtep!.tx >= 5, `sender flannel.1 tx +${moved.senderVtep!.tx}`);
      assert.ok(moved.receiverNic!.rx >= 5, `receiver ens192 rx +${moved.receiverNic!.rx}`);
      assert.equal(moved.receiverVtep!.rx, 0, "no VXLAN packet gets through to wrk-02's flannel.1");

      // Visibility: nothing in either iptables backend, on any node; the table is in `nft -j list ruleset` on wrk-02 only.
      for (const node of Object.values(topo.nodes)) {
        const views = await iptablesViews(node.netns);
        for (const text of [views.legacy, views.nft]) {
          assert.doesNotMatch(text, /8472|DROP|firewalld/, `${node.netns}: iptables-save must not show the nft-drop`);
        }
      }
      const ruleset = await nftRuleset(w2.netns);
      assert.ok(ruleset.tables.includes("inet firewalld"), ruleset.tables.join(", "));
      assert.deepEqual(
        ruleset.chains.filter((c) => c.table === "firewalld").map(({ name, hook, prio, policy }) => ({ name, hook, prio, policy })),
        [{ name: "filter_INPUT", hook: "input", prio: 10, policy: "accept" }],
      );
      assert.ok(
        ruleset.rules.some((r) => r.chain === "filter_INPUT" && isPortDrop(r, "udp", 8472)),
        "udp dport 8472 drop in filter_INPUT",
      );
      for (const other of [ctl, w1]) assert.ok(!(await nftRuleset(other.netns)).tables.includes("inet firewalld"));
      assert.match(
        await out(w2.netns, ["nft", "list", "chain", "inet", "firewalld", "filter_INPUT"]),
        /type filter hook input priority filter \+ 10; policy accept;[\s\S]*udp dport 8472 drop/,
      );

      // The fault is the only cause: without the table, every pair answers.
      await out(w2.netns, ["nft", "delete", "table", "inet", "firewalld"]);
      assertMatrix(await podMatrix(topo), () => true);

      // hook: forward, and two nft-drops sharing one firewalld table: TCP to wrk-01's pods dies, ICMP and the node's own connections live.
      await applyFault(topo, s, { kind: "nft-drop", node: "wrk-01", proto: "tcp", port: 9999, hook: "input" }, []);
      await applyFault(topo, s, { kind: "nft-drop", node: "wrk-01", proto: "tcp", port: 8080, hook: "forward" }, []);
      const fwd = await nftRuleset(w1.netns);
      assert.deepEqual(
        fwd.chains
          .filter((c) => c.table === "firewalld")
          .map((c) => `${c.name} ${c.hook} ${c.prio}`)
          .sort(),
        ["filter_FORWARD forward 10", "filter_INPUT input 10"],
      );
      assert.ok(fwd.rules.some((r) => r.chain === "filter_FORWARD" && isPortDrop(r, "tcp", 8080)));
      const [fwdHttp, fwdPing, ownNodeHttp] = await Promise.all([
        curlOk(ctl.podNetns, `http://${w1.podIP}:8080/`),
        pingOk(ctl.podNetns, w1.podIP),
        curlOk(w1.netns, `http://${w1.podIP}:8080/`),
      ]);
      assert.deepEqual({ fwdHttp, fwdPing, ownNodeHttp }, { fwdHttp: false, fwdPing: true, ownNodeHttp: true });
    } finally {
      await lab.stop();
    }
  });

  test("underlay-drop-vxlan: the network's bridge drops VXLAN between every pair; no node shows anything", async () => {
    const { lab, s, topo } = await startWith("underlay-drop-vxlan", [{ name: "web", node: "az1-w", port: 80, nodePort: 30080 }]);
    try {
      const [cp, w1, w2] = [topo.nodes["az1-cp"]!, topo.nodes["az1-w"]!, topo.nodes["az2-w"]!];
      const web = topo.services.web!;
      const net = topo.networks["vpc-private"]!;
      const nodes = Object.values(topo.nodes);

      // Dies: every cross-node pod pair. Lives: same-node pods, ICMP between the nodes and to the gateway, node to NodePort.
      assertMatrix(await podMatrix(topo), () => false);
      const underlayPairs = nodes.flatMap((a) => nodes.filter((b) => b !== a).map((b) => pingOk(a.netns, b.internalIP)));
      const [sameNodePing, sameNodeHttp, gateway, nodePort, ...underlay] = await Promise.all([
        pingOk(w1.podNetns, web.podIP),
        curlOk(w1.podNetns, `http://${web.podIP}:80/`),
        pingOk(cp.netns, "10.100.16.1"),
        curlOk(cp.netns, `http://${w1.internalIP}:30080/`),
        ...underlayPairs,
      ]);
      assert.deepEqual({ sameNodePing, sameNodeHttp, gateway, nodePort }, { sameNodePing: true, sameNodeHttp: true, gateway: true, nodePort: true });
      assert.deepEqual(underlay, [true, true, true, true, true, true], "ICMP between every pair of nodes");

      // Where the packets stop: encapsulated and sent out of az1-cp's NIC, never seen by az2-w's flannel.1.
      const moved = await countWhilePinging(cp.podNetns, w2.podIP, {
        senderVtep: { netns: cp.netns, dev: "flannel.1" },
        senderNic: { netns: cp.netns, dev: "ens5" },
        receiverVtep: { netns: w2.netns, dev: "flannel.1" },
      });
      assert.ok(moved.senderVtep!.tx >= 5 && moved.senderNic!.tx >= 5, JSON.stringify(moved));
      assert.equal(moved.receiverVtep!.rx, 0, "nothing arrives on az2-w's flannel.1");

      // Visibility: no node's iptables (either backend) or nftables mentions it; the network's namespace holds the table.
      for (const node of nodes) {
        const views = await iptablesViews(node.netns);
        for (const text of [views.legacy, views.nft]) assert.doesNotMatch(text, /8472|DROP/, `${node.netns} iptables-save`);
        const ruleset = await nftRuleset(node.netns);
        assert.deepEqual(
          ruleset.tables.filter((t) => !t.startsWith("ip ")),
          [],
          `${node.netns}: only iptables-nft's own ip tables`,
        );
        assert.deepEqual(
          ruleset.rules.filter((r) => JSON.stringify(r.expr).includes('"drop"')),
          [],
          `${node.netns}: no drop rule in nft`,
        );
        assert.doesNotMatch(await out(node.netns, ["nft", "list", "ruleset"]), /8472|bridge/);
      }
      const netRules = await nftRuleset(net.netns);
      assert.deepEqual(netRules.tables, ["bridge underlay-firewall"]);
      assert.deepEqual(
        netRules.chains.map(({ name, hook, prio, policy }) => ({ name, hook, prio, policy })),
        // `priority filter` is -200 in the bridge family (0 in ip/inet).
        [{ name: "forward", hook: "forward", prio: -200, policy: "accept" }],
      );
      assert.ok(
        netRules.rules.some((r) => isPortDrop(r, "udp", 8472)),
        "udp dport 8472 drop on the bridge",
      );

      // The fault is the only cause: without the table, every pair answers.
      await out(net.netns, ["nft", "delete", "table", "bridge", "underlay-firewall"]);
      assertMatrix(await podMatrix(topo), () => true);

      // proto tcp: a NodePort across the underlay dies. Pod traffic lives, because the bridge sees only the outer UDP header.
      await applyFault(topo, s, { kind: "underlay-drop", network: "vpc-private", proto: "tcp", port: 30080 }, []);
      const [crossNodePort, ownNodePort] = await Promise.all([
        curlOk(cp.netns, `http://${w1.internalIP}:30080/`),
        curlOk(w1.netns, `http://${w1.internalIP}:30080/`),
      ]);
      assert.deepEqual({ crossNodePort, ownNodePort }, { crossNodePort: false, ownNodePort: true });
      assert.equal(await curlOk(cp.podNetns, `http://${w1.podIP}:8080/`), true, "pod TCP inside VXLAN is not matched by the underlay's tcp rule");
      assertMatrix(await podMatrix(topo), () => true);
    } finally {
      await lab.stop();
    }
  });

  test("iptables-backend-split: FLANNEL-FWD in legacy accepts, nft's FORWARD policy DROP kills kube-w2's pod traffic", async (t) => {
    const { lab, s, topo } = await startWith("iptables-backend-split", [
      { name: "web-a", node: "kube-w1", port: 80, nodePort: 30081 },
      { name: "web-b", node: "kube-w2", port: 80, nodePort: 30082 },
    ]);
    try {
      const [cp, w1, w2] = [topo.nodes["kube-cp"]!, topo.nodes["kube-w1"]!, topo.nodes["kube-w2"]!];
      const [webA, webB] = [topo.services["web-a"]!, topo.services["web-b"]!];
      // br_netfilter (bridge-nf-call-iptables=1, as on a Kubernetes node) runs bridged pod-to-pod frames on cni0
      // through the IPv4 FORWARD hooks too, so same-node pod traffic on kube-w2 dies with it; without it, it would live.
      const brNetfilter = (await sh(w2.netns, ["cat", "/proc/sys/net/bridge/bridge-nf-call-iptables"])).stdout.trim() === "1";

      assertMatrix(await podMatrix(topo), (a, b) => a !== "kube-w2" && b !== "kube-w2");
      const [sameNodeOther, sameNodeSplit, nodeToOwnPod, underlay, tcpDead] = await Promise.all([
        curlOk(w1.podNetns, `http://${webA.podIP}:80/`),
        pingOk(w2.podNetns, webB.podIP),
        curlOk(w2.netns, `http://${w2.podIP}:8080/`),
        pingOk(cp.netns, w2.internalIP),
        curlOk(cp.podNetns, `http://${w2.podIP}:8080/`),
      ]);
      assert.deepEqual(
        { sameNodeOther, sameNodeSplit, nodeToOwnPod, underlay, tcpDead },
        { sameNodeOther: true, sameNodeSplit: !brNetfilter, nodeToOwnPod: true, underlay: true, tcpDead: false },
        "the node's own connections (OUTPUT) and the underlay are not forwarded traffic and live",
      );

      // Both hooks are in the path: the VXLAN packets are decapsulated on kube-w2 and the nft backend's FORWARD
      // policy counts them as dropped. Both hooks sit at priority 0; the one registered last (here nft's, made by the
      // fault after flannel's legacy table) runs first, so legacy's FLANNEL-FWD never sees the dropped packets.
      // Once nft accepts, legacy's FLANNEL-FWD counts (and accepts) the same traffic.
      const legacyAccepted = async () =>
        (await out(w2.netns, ["iptables-legacy", "-w", "-t", "filter", "-L", "FLANNEL-FWD", "-n", "-v", "-x"]))
          .split("\n")
          .filter((l) => /ACCEPT/.test(l))
          .reduce((sum, l) => sum + Number(l.trim().split(/\s+/)[0]), 0);
      const nftPolicyDropped = async () => {
        const head = (await out(w2.netns, ["iptables-nft", "-w", "-t", "filter", "-L", "FORWARD", "-n", "-v", "-x"])).split("\n")[0] ?? "";
        const m = /^Chain FORWARD \(policy DROP (\d+) packets/.exec(head);
        assert.ok(m, head);
        return Number(m[1]);
      };
      const [acceptedBefore, droppedBefore] = [await legacyAccepted(), await nftPolicyDropped()];
      const moved = await countWhilePinging(cp.podNetns, w2.podIP, { receiverVtep: { netns: w2.netns, dev: "flannel.1" } });
      const [acceptedDuring, droppedDuring] = [await legacyAccepted(), await nftPolicyDropped()];
      assert.ok(moved.receiverVtep!.rx >= 5, `kube-w2 flannel.1 rx +${moved.receiverVtep!.rx}`);
      assert.ok(droppedDuring - droppedBefore >= 5, `nft FORWARD policy DROP +${droppedDuring - droppedBefore}`);
      t.diagnostic(`while dropped: nft FORWARD policy DROP +${droppedDuring - droppedBefore}, legacy FLANNEL-FWD ACCEPT +${acceptedDuring - acceptedBefore}`);

      // Visibility: flannel's rules only in legacy; the nft backend has FORWARD DROP and no rule at all in filter.
      const views = await iptablesViews(w2.netns);
      assert.match(views.legacy, /\*filter\n:INPUT ACCEPT \[\d+:\d+\]\n:FORWARD ACCEPT /);
      assert.match(views.legacy, /^-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD$/m);
      assert.match(views.legacy, /^-A FLANNEL-FWD -s 10\.240\.0\.0\/16 -m comment --comment "flanneld forward" -j ACCEPT$/m);
      assert.match(views.legacy, /^-A FLANNEL-FWD -d 10\.240\.0\.0\/16 -m comment --comment "flanneld forward" -j ACCEPT$/m);
      assert.match(views.legacy, /^-A POSTROUTING -m comment --comment "flanneld masq" -j FLANNEL-POSTRTG$/m);
      const nftFilter = /\*filter\n([\s\S]*?)COMMIT/.exec(views.nft)?.[1] ?? "";
      assert.match(nftFilter, /^:FORWARD DROP /m);
      assert.doesNotMatch(nftFilter, /^-A /m, "no rule in the nft backend's filter table accepts pod traffic");
      assert.doesNotMatch(views.nft, /FLANNEL/);
      assert.match(views.nftStderr, /iptables-legacy tables present, use iptables-legacy-save to see them/);
      const ruleset = await nftRuleset(w2.netns);
      assert.deepEqual(
        ruleset.chains.filter((c) => c.table === "filter").map((c) => `${c.name} ${c.hook} ${c.policy}`),
        ["FORWARD forward drop"],
      );
      assert.deepEqual(
        ruleset.rules.filter((r) => r.table === "filter"),
        [],
      );
      // The other nodes keep flannel's rules in the system's iptables, where the split is not.
      for (const other of [cp, w1]) assert.match(await out(other.netns, ["iptables-save", "-t", "filter"]), /-A FORWARD .*-j FLANNEL-FWD/);

      // A restart of flanneld on kube-w2 writes to legacy again: the split survives rollouts.
      const choice = chooseInterface(
        s.nodes.find((n) => n.name === "kube-w2")!,
        s.flannel.args,
      );
      assert.ok(choice.ok);
      await setupFlannelNode(topo, s, "kube-w2", choice);
      const again = await iptablesViews(w2.netns);
      assert.equal(again.legacy.match(/-A FORWARD .*-j FLANNEL-FWD/g)?.length, 1);
      assert.doesNotMatch(again.nft, /FLANNEL/);

      // The fault is the only cause: FORWARD ACCEPT in the nft backend and every pair answers, same-node too.
      await out(w2.netns, ["iptables-nft", "-w", "-P", "FORWARD", "ACCEPT"]);
      const acceptedBeforeFix = await legacyAccepted();
      assertMatrix(await podMatrix(topo), () => true);
      assert.equal(await pingOk(w2.podNetns, webB.podIP), true);
      assert.ok((await legacyAccepted()) > acceptedBeforeFix, "legacy FLANNEL-FWD now sees (and accepts) the pod traffic");
    } finally {
      await lab.stop();
    }
  });
});

// udp-vxlan-blocked from native nftables: a drop of flannel's VXLAN port in a
// node's nft ruleset (captured rulesets, test/fixtures/probes/nftables/) is
// proven as an iptables INPUT drop is, with the nft rule as evidence and an
// open-vxlan-port plan that inserts the accept where the drop is.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import { tracePair } from "../../src/diagnosis/path-trace.js";
import type { CheckEvidence, Finding, MatrixKind } from "../../src/model/index.js";
import { buildEvidence, freshNodeIptables, host, nftablesFixture, type ClusterSpec } from "./fixture-builder.js";

const NETWORK = "10.244.0.0/16";
const involves = (node: string) => (_kind: MatrixKind, from: string, to: string) => from === node || to === node;

interface Layout {
  iface?: string;
  /** the nodes' addresses, master first */
  addresses?: string[];
}

/** Three nodes on one LAN, VXLAN into the `broken` nodes failing; `rulesets` gives nodes their `nft -j list ruleset` (a fixture's name). */
function cluster(
  rulesets: Record<string, string>,
  broken: string[] = Object.keys(rulesets),
  extra: Partial<ClusterSpec> = {},
  layout: Layout = {},
): CheckEvidence {
  const addresses = layout.addresses ?? ["192.168.100.10", "192.168.100.11", "192.168.100.12"];
  return buildEvidence({
    cluster: "nft",
    networks: [{ name: "lan", gateway: "192.168.100.1" }],
    nodes: ["master", "worker-a", "worker-b"].map((name, i) => ({
      name,
      podCIDR: `10.244.${i}.0/24`,
      interfaces: [{ name: layout.iface ?? "eth0", network: "lan", address: `${addresses[i]}/24` }],
    })),
    flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", network: NETWORK, args: ["--ip-masq", "--kube-subnet-mgr"] },
    nftables: (n) => nftablesFixture(rulesets[n.name] ?? "empty"),
    fails: (kind, from, to) => broken.some((b) => involves(b)(kind, from, to)),
    ...extra,
  });
}

function only(ev: CheckEvidence): Finding {
  const found = diagnose(ev);
  assert.deepEqual(
    found.map((f) => f.id),
    ["udp-vxlan-blocked"],
    found.map((f) => `${f.id}: ${f.evidence.join(" | ")}`).join("\n"),
  );
  return found[0]!;
}

const ACCEPT_PEERS = ["ip", "saddr", "{ 192.168.100.10, 192.168.100.11 }", "udp", "dport", "8472", "accept", "comment", "xnode-open-vxlan-port"];

describe("udp-vxlan-blocked from nftables", () => {
  test("firewalld's inet table drops udp 8472 on input: proven, with the nft rule, and the accept goes right before it", () => {
    const f = only(cluster({ "worker-b": "firewalld-input-drop" }));
    assert.equal(f.severity, "critical");
    assert.deepEqual(f.nodes, ["worker-b"]);
    assert.equal(f.evidence[0], "worker-b: nft inet firewalld filter_INPUT: udp dport 8472 drop");
    assert.match(f.explanation, /^The nftables rules \(table inet firewalld\) of worker-b drop VXLAN \(udp 8472\)/);
    const [plan] = f.remediations;
    assert.equal(plan?.kind, "open-vxlan-port");
    assert.deepEqual(plan.commands, [
      { node: "worker-b", argv: ["nft", "insert", "rule", "inet", "firewalld", "filter_INPUT", "position", "5", ...ACCEPT_PEERS] },
    ]);
    assert.deepEqual(plan.diff, [
      "worker-b: nft insert rule inet firewalld filter_INPUT position 5 ip saddr { 192.168.100.10, 192.168.100.11 } udp dport 8472 accept comment xnode-open-vxlan-port",
    ]);
    assert.ok(
      plan.risks.some((r) => r.includes("firewall-cmd --permanent")),
      "says how to make it stick in firewalld",
    );
    const hop = f.trace?.hops.at(-1);
    assert.deepEqual([hop?.hop, hop?.ok], ["vxlan port", false]);
    assert.match(
      hop?.detail ?? "",
      /worker-b drops VXLAN \(udp 8472\) from 192\.168\.100\.1\d: worker-b: nft inet firewalld filter_INPUT: udp dport 8472 drop/,
    );
  });

  test("a reject, and firewalld's catch-all reject at the end of its zones, are drops too", () => {
    assert.equal(
      only(cluster({ "worker-b": "firewalld-input-reject" })).evidence[0],
      "worker-b: nft inet firewalld filter_INPUT: udp dport 8472 reject with icmpx admin-prohibited",
    );
    const zones = only(cluster({ "worker-b": "firewalld-zones" }));
    assert.equal(zones.evidence[0], "worker-b: nft inet firewalld filter_INPUT: reject with icmpx admin-prohibited");
    assert.deepEqual(zones.remediations[0]?.commands?.[0]?.argv.slice(0, 8), ["nft", "insert", "rule", "inet", "firewalld", "filter_INPUT", "position", "19"]);
  });

  test("a drop in a chain jumped to: the accept goes into that chain", () => {
    // the table's external zone is eth1's
    const f = only(cluster({ "worker-b": "vmap-zones" }, undefined, {}, { iface: "eth1" }));
    assert.equal(f.evidence[0], "worker-b: nft inet filter zone_external (from input): udp dport 8472 drop");
    assert.deepEqual(f.remediations[0]?.commands?.[0]?.argv.slice(0, 8), ["nft", "insert", "rule", "inet", "filter", "zone_external", "position", "8"]);
  });

  test("a base chain's policy drop: the accept goes at the top of that chain", () => {
    const f = only(cluster({ "worker-b": "policy-drop" }));
    assert.equal(f.evidence[0], "worker-b: nft inet filter input policy drop and no rule accepts udp 8472 from 192.168.100.10");
    assert.deepEqual(f.remediations[0]?.commands, [{ node: "worker-b", argv: ["nft", "insert", "rule", "inet", "filter", "input", ...ACCEPT_PEERS] }]);
  });

  test("the port is the snapshot's: a drop of 8472 does not block a cluster on 4789; a catch-all does, and the fix names 4789", () => {
    const on4789 = (ev: CheckEvidence) => ((ev.snapshot.flannel.vxlanPort = 4789), ev);
    const f = diagnose(on4789(cluster({ "worker-b": "firewalld-input-drop" })));
    assert.ok(!f.some((x) => x.id === "udp-vxlan-blocked" && x.severity === "critical"), f.map((x) => `${x.id} ${x.severity}`).join(", "));
    const zones = only(on4789(cluster({ "worker-b": "firewalld-zones" })));
    assert.deepEqual(zones.remediations[0]?.commands?.[0]?.argv.slice(-5, -2), ["dport", "4789", "accept"]);
  });

  test("iptables on one node and nftables on another: one plan, each fix where its drop is", () => {
    const ev = cluster({ "worker-b": "firewalld-input-drop" }, ["worker-a", "worker-b"], {
      iptables: (n) =>
        freshNodeIptables(NETWORK).replace(
          "-A INPUT -j KUBE-FIREWALL\n",
          n.name === "worker-a" ? "-A INPUT -j KUBE-FIREWALL\n-A INPUT -p udp -m udp --dport 8472 -j DROP\n" : "-A INPUT -j KUBE-FIREWALL\n",
        ),
    });
    const f = only(ev);
    assert.deepEqual(f.nodes, ["worker-a", "worker-b"]);
    assert.match(f.explanation, /^The iptables and nftables rules of worker-a and worker-b/);
    assert.deepEqual(
      f.remediations[0]?.commands?.map((c) => `${c.node}: ${c.argv.slice(0, 3).join(" ")}`),
      ["worker-a: iptables -I INPUT", "worker-a: iptables -I INPUT", "worker-b: nft insert rule"],
    );
  });

  test("a rule xnode cannot evaluate is no proof: only a suspicion, quoting that rule, with no fix", () => {
    const f = only(cluster({ "worker-b": "mark-before-drop" }));
    assert.equal(f.severity, "warning");
    assert.deepEqual(f.remediations, []);
    assert.ok(f.evidence.includes("worker-b: routes, neighbour and FDB entries for every peer match the Node annotations; no iptables rule drops udp 8472"));
    assert.ok(
      f.evidence.some((l) => l.startsWith("worker-b: nft inet filter input: meta mark 1 accept (cannot tell whether it lets udp 8472 from 192.168.100.1")),
      f.evidence.join("\n"),
    );
    assert.match(f.explanation, /nftables rules xnode could not evaluate/);
  });

  test("nftables read and accepting: the suspicion says both firewalls were ruled out; not read: it does not", () => {
    const read = only(cluster({}, ["worker-b"]));
    assert.ok(
      read.evidence.includes(
        "worker-b: routes, neighbour and FDB entries for every peer match the Node annotations; no iptables or nftables rule drops udp 8472",
      ),
    );
    assert.match(read.explanation, /outside what the nodes' iptables and nftables show/);
    const ev = cluster({}, ["worker-b"]);
    delete host(ev, "worker-b").nftables;
    host(ev, "worker-b").errors.push({ probe: "nftables", message: "nftables failed on host agent on worker-b: nft: not found" });
    const unread = only(ev);
    assert.ok(
      unread.evidence.includes("worker-b: routes, neighbour and FDB entries for every peer match the Node annotations; no iptables rule drops udp 8472"),
    );
    assert.match(unread.explanation, /nftables rules in their own tables/);
    const hop = tracePair(ev, "master", "worker-b").find((h) => h.hop === "vxlan port");
    assert.deepEqual([hop?.ok, hop?.unverified], [true, true]);
    assert.match(hop?.detail ?? "", /nftables not \(fully\) read/);
  });

  test("an accept for the peers before the drop: nothing blocked, the trace says both firewalls accept", () => {
    // the ruleset accepts 192.168.56.101 and .103: worker-b's peers
    const ev = cluster({ "worker-b": "accept-before-drop" }, [], {}, { addresses: ["192.168.56.101", "192.168.56.103", "192.168.56.102"] });
    assert.deepEqual(
      diagnose(ev).map((f) => f.id),
      ["cluster-healthy"],
    );
    const hop = tracePair(ev, "master", "worker-b").find((h) => h.hop === "vxlan port");
    assert.deepEqual([hop?.ok, hop?.unverified, hop?.detail], [true, undefined, "worker-b's iptables and nftables accept udp 8472 from 192.168.56.101"]);
  });
});

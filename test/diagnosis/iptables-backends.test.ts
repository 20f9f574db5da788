// Nodes whose rules live in two iptables backends, built from real captures
// of both (test/fixtures/probes/iptables-backends/): both backends' FORWARD
// hooks run, a DROP in either drops the packet, and a backend that could not
// be read proves nothing either way.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import type { CheckEvidence, Finding, MatrixKind } from "../../src/model/index.js";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import { iptablesFullyRead, iptablesViews } from "../../src/diagnosis/iptables-views.js";
import { podForwardBlock, vxlanBlock } from "../../src/diagnosis/node-filters.js";
import { tracePair } from "../../src/diagnosis/path-trace.js";
import { buildEvidence, freshNodeIptables, host, type ClusterSpec, type NodeSpec } from "./fixture-builder.js";

const capture = (name: string) => readFileSync(new URL(`../fixtures/probes/iptables-backends/${name}.txt`, import.meta.url), "utf8");
const NETWORK = "10.244.0.0/16";
const SICK = "k8s-node2";

/** Pod traffic through k8s-node2 is not forwarded; its own host reaching pods elsewhere needs no forwarding there. */
const notForwardedBySick = (kind: MatrixKind, from: string, to: string) => (from === SICK || to === SICK) && !(kind === "node-pod-icmp" && from === SICK);

/** Three nodes on one LAN; k8s-node2's two backends hold the given captures, the others flannel's rules in nft only. */
function cluster(sick: { legacy: string; nft: string }, fails: ClusterSpec["fails"] = notForwardedBySick): CheckEvidence {
  const onSick = (text: string, otherwise: string) => (n: NodeSpec) => (n.name === SICK ? text : otherwise);
  return buildEvidence({
    cluster: "backend-split",
    networks: [{ name: "lan", gateway: "192.168.60.1" }],
    nodes: ["k8s-master1", "k8s-node1", SICK].map((name, i) => ({
      name,
      podCIDR: `10.244.${i}.0/24`,
      interfaces: [{ name: "ens18", network: "lan", address: `192.168.60.${11 + i}/24` }],
    })),
    flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", network: NETWORK, args: ["--ip-masq", "--kube-subnet-mgr"] },
    iptables: onSick(sick.nft, freshNodeIptables(NETWORK)),
    iptablesLegacy: onSick(sick.legacy, ""),
    fails,
  });
}

const fromCaptures = (name: string) => ({ legacy: capture(`${name}.legacy`), nft: capture(`${name}.nft`) });
const ids = (findings: Finding[]) => findings.map((f) => f.id).sort();
const byId = (findings: Finding[], id: Finding["id"]) => {
  const f = findings.find((x) => x.id === id);
  assert.ok(f, `no ${id} in ${ids(findings).join(", ")}`);
  return f;
};

describe("iptables-backend-split", () => {
  test("flannel's FLANNEL-FWD in legacy, Docker's FORWARD DROP in nft: the split explains forward-policy-drop", () => {
    const findings = diagnose(cluster(fromCaptures("split")));
    assert.deepEqual(ids(findings), ["forward-policy-drop", "iptables-backend-split"]);
    const split = byId(findings, "iptables-backend-split");
    const drop = byId(findings, "forward-policy-drop");
    assert.equal(split.severity, "critical");
    assert.deepEqual(split.nodes, [SICK]);
    assert.equal(split.explainedBy, undefined, "a cause");
    assert.deepEqual(drop.explainedBy, ["iptables-backend-split"]);
    const nftDrop = `${SICK} (iptables-nft): filter FORWARD policy DROP and no rule accepts pod traffic (no jump to FLANNEL-FWD, nothing accepting ${NETWORK})`;
    assert.deepEqual(split.evidence, [
      `${SICK}: rules in both iptables backends (iptables-legacy 2 tables, 7 rules; iptables-nft 2 tables, 23 rules)`,
      `${SICK} (iptables-legacy): -A FLANNEL-FWD -s ${NETWORK} -m comment --comment "flanneld forward" -j ACCEPT`,
      `${SICK} (iptables-legacy): -A FLANNEL-FWD -d ${NETWORK} -m comment --comment "flanneld forward" -j ACCEPT`,
      nftDrop,
    ]);
    assert.deepEqual(drop.evidence, [nftDrop]);
    assert.match(split.explanation, /in iptables-legacy, while the FORWARD chain of iptables-nft drops pod traffic/);
  });

  test("the fix goes into the backend that drops, and only there", () => {
    const plan = byId(diagnose(cluster(fromCaptures("split"))), "forward-policy-drop").remediations[0];
    assert.equal(plan?.kind, "set-forward-accept");
    assert.deepEqual(plan?.commands, [
      { node: SICK, argv: ["iptables-nft", "-A", "FORWARD", "-s", NETWORK, "-j", "ACCEPT"] },
      { node: SICK, argv: ["iptables-nft", "-A", "FORWARD", "-d", NETWORK, "-j", "ACCEPT"] },
    ]);
    assert.match(plan?.risks.join(" ") ?? "", /Written with iptables-nft, into the backend whose FORWARD drops/);
  });

  test("flannel <= v0.19's -s/-d <Network> ACCEPTs in legacy count as flannel's rules too", () => {
    const findings = diagnose(cluster(fromCaptures("split-v0.19")));
    assert.deepEqual(ids(findings), ["forward-policy-drop", "iptables-backend-split"]);
    assert.ok(
      byId(findings, "iptables-backend-split").evidence.includes(
        `${SICK} (iptables-legacy): -A FORWARD -s ${NETWORK} -m comment --comment "flanneld forward" -j ACCEPT`,
      ),
    );
  });

  test("the reverse split (flannel in nft, Docker's DROP in legacy): the legacy fix waits for the xtables lock", () => {
    const findings = diagnose(
      cluster({ legacy: capture("split.nft").replace(/iptables-nft-save v1\.8\.9 \(nf_tables\)/g, "iptables-save v1.8.9"), nft: capture("split.legacy") }),
    );
    assert.deepEqual(ids(findings), ["forward-policy-drop", "iptables-backend-split"]);
    assert.deepEqual(byId(findings, "forward-policy-drop").remediations[0]?.commands?.[0]?.argv, [
      "iptables-legacy",
      "-w",
      "-A",
      "FORWARD",
      "-s",
      NETWORK,
      "-j",
      "ACCEPT",
    ]);
  });

  test("both backends with rules that agree: healthy", () => {
    assert.deepEqual(ids(diagnose(cluster(fromCaptures("both"), () => false))), ["cluster-healthy"]);
  });
});

describe("forward-policy-drop in either backend", () => {
  test("nft drops and legacy holds nothing: a plain forward-policy-drop, in the words and commands of one iptables", () => {
    const findings = diagnose(cluster({ legacy: "", nft: capture("split.nft") }));
    assert.deepEqual(ids(findings), ["forward-policy-drop"]);
    const f = byId(findings, "forward-policy-drop");
    assert.equal(f.explainedBy, undefined);
    assert.deepEqual(f.evidence, [
      `${SICK}: filter FORWARD policy DROP and no rule accepts pod traffic (no jump to FLANNEL-FWD, nothing accepting ${NETWORK})`,
    ]);
    assert.deepEqual(f.remediations[0]?.commands?.[0]?.argv, ["iptables", "-A", "FORWARD", "-s", NETWORK, "-j", "ACCEPT"]);
  });

  test("all rules in legacy, its FORWARD dropping: named, no split", () => {
    const docker = capture("split-v0.19.nft").replace(/iptables-nft-save v1\.8\.9 \(nf_tables\)/g, "iptables-save v1.8.9");
    const findings = diagnose(cluster({ legacy: docker, nft: "" }));
    assert.deepEqual(ids(findings), ["forward-policy-drop"]);
    assert.match(byId(findings, "forward-policy-drop").evidence[0]!, /^k8s-node2 \(iptables-legacy\): filter FORWARD policy DROP/);
  });

  test("a node whose legacy backend was not read: nft's drop still proven, named, since plain iptables might mean legacy", () => {
    const ev = cluster({ legacy: "", nft: capture("split.nft") });
    delete host(ev, SICK).iptablesBackends!.legacy;
    host(ev, SICK).errors.push({
      probe: "iptables-legacy",
      message: 'iptables-legacy failed on host agent on k8s-node2: exec: "iptables-legacy-save": executable file not found in $PATH',
    });
    const f = byId(diagnose(ev), "forward-policy-drop");
    assert.match(f.evidence[0]!, /^k8s-node2 \(iptables-nft\): /);
    assert.equal(iptablesFullyRead(host(ev, SICK)), false, "an absent tool is not an empty ruleset");
  });
});

describe("a backend that cannot be read proves nothing", () => {
  /** k8s-node2 with flannel's rules in legacy and an nft filter table it cannot show (iptables-nft <= 1.8.8) */
  const unreadableNft = (fails?: ClusterSpec["fails"]) =>
    cluster({ legacy: capture("split.legacy"), nft: "# Table `filter' is incompatible, use 'nft' tool.\n" }, fails);

  test("no drop is claimed, and the forwarding hop is unverified rather than fine", () => {
    const ev = unreadableNft();
    assert.equal(podForwardBlock(ev, SICK), undefined);
    assert.equal(iptablesFullyRead(host(ev, SICK)), false);
    const ids_ = ids(diagnose(ev));
    assert.ok(!ids_.includes("forward-policy-drop") && !ids_.includes("iptables-backend-split") && !ids_.includes("cluster-healthy"), ids_.join(", "));
    const hop = tracePair(ev, "k8s-master1", SICK).find((h) => h.hop === "destination forwarding");
    assert.equal(hop?.unverified, true, JSON.stringify(hop));
  });

  test("all pods fine: still never read as 'accepts' (the hop stays unverified)", () => {
    const ev = unreadableNft(() => false);
    const hop = tracePair(ev, "k8s-master1", SICK).find((h) => h.hop === "destination forwarding");
    assert.equal(hop?.unverified, true);
    assert.deepEqual(
      iptablesViews(host(ev, SICK)).map((v) => [v.tool, v.state.unreadable?.map((u) => u.table) ?? []]),
      [
        ["iptables-legacy", []],
        ["iptables-nft", ["filter"]],
      ],
    );
  });

  test("kubernetes#112477: KUBE-FIREWALL printed as a bare DROP is not read as dropping VXLAN", () => {
    const misprinted = capture("nft-only.nft").replace(" -m mark --mark 0x8000/0x8000 -j DROP", " -j DROP");
    const ev = cluster({ legacy: "", nft: misprinted }, () => false);
    for (const peer of ["k8s-master1", "k8s-node1"]) assert.equal(vxlanBlock(ev, SICK, peer), undefined, peer);
    assert.ok(!ids(diagnose(ev)).includes("udp-vxlan-blocked"));
    // read correctly, the same rule drops only marked packets: nothing blocks either
    const ok = cluster({ legacy: "", nft: capture("nft-only.nft") }, () => false);
    assert.equal(vxlanBlock(ok, SICK, "k8s-master1"), undefined);
    assert.equal(iptablesFullyRead(host(ok, SICK)), true);
  });
});

// A 300-node cluster with the full matrix (358,800 entries) and two broken
// nodes: exactly their two findings, each naming its node. The rules ask
// about every node and pair of nodes; a rule that scans the matrix or every
// peer's firewall per pair again makes this take minutes, and the runner's
// timeout fails it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import { buildEvidence, freshNodeIptables, nthAddress } from "./fixture-builder.js";

const NODES = 300;
const name = (i: number) => `node-${String(i).padStart(4, "0")}`;
const DROPS_VXLAN = name(123);
const FORWARD_DROP = name(210);

const evidence = () =>
  buildEvidence({
    cluster: "large-300",
    networks: [{ name: "lan", gateway: "10.128.0.1" }],
    nodes: Array.from({ length: NODES }, (_, i) => ({
      name: name(i),
      podCIDR: `10.${i >> 8}.${i & 255}.0/24`,
      interfaces: [{ name: "eth0", network: "lan", address: `${nthAddress("10.128.0.0/16", i + 2)}/16` }],
    })),
    flannel: { namespace: "kube-flannel", daemonSet: "kube-flannel-ds", network: "10.0.0.0/8", args: ["--ip-masq", "--kube-subnet-mgr"] },
    iptables: (node) => {
      const text = freshNodeIptables("10.0.0.0/8");
      if (node.name === DROPS_VXLAN)
        return text.replace("-A INPUT -j KUBE-FIREWALL\n", "-A INPUT -j KUBE-FIREWALL\n-A INPUT -p udp -m udp --dport 8472 -j DROP\n");
      if (node.name !== FORWARD_DROP) return text;
      return text.replace(":FORWARD ACCEPT [0:0]", ":FORWARD DROP [0:0]").replace('-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD\n', "");
    },
    // VXLAN into DROPS_VXLAN is lost both ways; pod traffic through FORWARD_DROP is not forwarded (its host reaching pods needs no forwarding)
    fails: (kind, from, to) =>
      from === DROPS_VXLAN || to === DROPS_VXLAN || ((from === FORWARD_DROP || to === FORWARD_DROP) && !(kind === "node-pod-icmp" && from === FORWARD_DROP)),
  });

test("300 nodes, one dropping udp 8472 and one with FORWARD policy DROP: exactly those two findings", () => {
  const ev = evidence();
  assert.equal(ev.matrix.length, NODES * (NODES - 1) * 4);
  const findings = diagnose(ev);
  assert.deepEqual(
    findings.map((f) => [f.id, f.nodes]),
    [
      ["forward-policy-drop", [FORWARD_DROP]],
      ["udp-vxlan-blocked", [DROPS_VXLAN]],
    ],
  );
  const [forward, udp] = findings;
  assert.deepEqual(forward!.evidence, [
    `${FORWARD_DROP}: filter FORWARD policy DROP and no rule accepts pod traffic (no jump to FLANNEL-FWD, nothing accepting 10.0.0.0/8)`,
  ]);
  // the rule once, four of the 598 failing pairs with the count of the others, and the ping that proves the underlay
  assert.deepEqual(udp!.evidence, [
    `${DROPS_VXLAN}: -A INPUT -p udp -m udp --dport 8472 -j DROP`,
    ...[0, 1, 2, 3].map((i) => `${name(i)} → ${DROPS_VXLAN}: pod ICMP 10.0.123.5 timeout, pod TCP 10.0.123.5:8080 timeout, host ICMP 10.0.123.5 timeout`),
    "… and 594 more failing pairs",
    `ping 10.128.0.125 from ${name(0)} via eth0 (${DROPS_VXLAN}): ok (0.4 ms)`,
  ]);
  assert.deepEqual(
    findings.map((f) => f.remediations.map((r) => r.kind)),
    [["set-forward-accept"], ["open-vxlan-port"]],
  );
  assert.deepEqual([udp!.trace?.from, udp!.trace?.to], [name(0), DROPS_VXLAN]);
});

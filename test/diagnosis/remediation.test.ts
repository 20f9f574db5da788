// The fix plans: the flannel patch (ops, diff, the flag proven on every
// node), static routes, and the host commands, argv by argv.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { CheckEvidence, Finding, RemediationPlan } from "../../src/model/index.js";
import { diagnose } from "../../src/diagnosis/diagnose.js";
import { splitIfaceFlags, withIfaceFlag } from "../../src/diagnosis/remediation/iface-flags.js";
import { subnetRegex } from "../../src/diagnosis/remediation/plan-flannel-iface.js";
import * as fx from "./fixtures.js";
import { host } from "./fixture-builder.js";

function plan(ev: CheckEvidence, id: Finding["id"], kind: RemediationPlan["kind"]): RemediationPlan | undefined {
  const f = diagnose(ev).find((x) => x.id === id);
  assert.ok(f, `expected a ${id} finding`);
  return f.remediations.find((r) => r.kind === kind);
}

describe("patch-flannel-iface", () => {
  test("seed: --iface=enp0s8 as a guarded JSON patch of the DaemonSet's args", () => {
    const p = plan(fx.seedVirtualboxNat(), "vtep-wrong-interface", "patch-flannel-iface");
    assert.ok(p);
    assert.deepEqual(p.patch, {
      namespace: "kube-system",
      name: "kube-flannel-ds-amd64",
      ops: [
        // guarded by the fields it replaces, never by the resourceVersion that status writes move
        { op: "test", path: "/spec/template/spec/containers/0/name", value: "kube-flannel" },
        { op: "test", path: "/spec/template/spec/containers/0/args", value: ["--ip-masq", "--kube-subnet-mgr"] },
        { op: "add", path: "/spec/template/spec/containers/0/args", value: ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"] },
      ],
    });
    assert.deepEqual(p.diff, ["args: [--ip-masq, --kube-subnet-mgr] → [--ip-masq, --kube-subnet-mgr, --iface=enp0s8]"]);
    assert.equal(p.persistent, true);
    assert.ok(p.risks.some((r) => /every node/.test(r) && /crash-loops/.test(r)));
    assert.ok(p.risks.some((r) => /recreates flannel\.1/.test(r)));
  });

  test("interface names differ between nodes: a regex of the shared subnet", () => {
    const p = plan(fx.natWithDifferentInterfaceNames(), "vtep-wrong-interface", "patch-flannel-iface");
    assert.ok(p);
    assert.deepEqual(p.diff, ["args: [--ip-masq, --kube-subnet-mgr] → [--ip-masq, --kube-subnet-mgr, --iface-regex=^10\\.20\\.30\\.]"]);
  });

  test("an existing --iface in the space form is replaced, not kept", () => {
    const p = plan(fx.wrongInterfaceBackplane(), "vtep-wrong-interface", "patch-flannel-iface");
    assert.ok(p);
    assert.deepEqual(p.diff, ["args: [--ip-masq, --kube-subnet-mgr, --iface, eth0] → [--ip-masq, --kube-subnet-mgr, --iface=eth1]"]);
    assert.equal(p.patch?.namespace, "kube-flannel");
  });

  test("no patch when a regex would select an unproven interface first on some node", () => {
    const ev = fx.natWithDifferentInterfaceNames();
    // an earlier interface on vm-1 holds an address of the same subnet, never proven to reach anyone
    host(ev, "vm-1").interfaces!.unshift({ name: "wlan0", index: 0, mtu: 1500, up: true, addresses: [{ address: "10.20.30.99", prefixLength: 24 }] });
    const f = diagnose(ev).find((x) => x.id === "vtep-wrong-interface")!;
    assert.deepEqual(
      f.remediations.map((r) => r.kind),
      ["add-routes"],
    );
    assert.match(f.explanation, /No flannel patch is proposed: the interfaces proven to reach every node share neither a name nor a subnet/);
  });

  test("a proven interface whose shared-subnet address is secondary: the regex still selects it (flanneld matches every address), and flannel advertises that address", () => {
    const ev = fx.natWithDifferentInterfaceNames();
    // vm-1's eth1 holds another address first; flanneld's --iface-regex tries every IPv4 address of an interface
    host(ev, "vm-1")
      .interfaces!.find((i) => i.name === "eth1")!
      .addresses.unshift({ address: "172.31.0.5", prefixLength: 24 });
    const p = plan(ev, "vtep-wrong-interface", "patch-flannel-iface");
    assert.ok(p, "a patch although vm-1's first address is outside the subnet");
    assert.deepEqual(p.diff, ["args: [--ip-masq, --kube-subnet-mgr] → [--ip-masq, --kube-subnet-mgr, --iface-regex=^10\\.20\\.30\\.]"]);
    assert.deepEqual(p.expectedPublicIPs, { "vm-0": "10.20.30.11", "vm-1": "10.20.30.12", "vm-2": "10.20.30.13" });
  });

  test("no patch when a regex would match the secondary address of an earlier, unproven interface", () => {
    const ev = fx.natWithDifferentInterfaceNames();
    host(ev, "vm-1").interfaces!.unshift({
      name: "wlan0",
      index: 0,
      mtu: 1500,
      up: true,
      addresses: [
        { address: "192.0.2.9", prefixLength: 24 },
        { address: "10.20.30.99", prefixLength: 24 },
      ],
    });
    const f = diagnose(ev).find((x) => x.id === "vtep-wrong-interface")!;
    assert.deepEqual(
      f.remediations.map((r) => r.kind),
      ["add-routes"],
    );
  });

  test("no patch when some node's interfaces were never proven", () => {
    const ev = fx.wrongInterfaceBackplane();
    ev.matrix = ev.matrix.filter((e) => !(e.kind === "underlay-icmp" && e.from === "edge-c"));
    const f = diagnose(ev).find((x) => x.id === "vtep-wrong-interface")!;
    assert.deepEqual(f.nodes, ["edge-a", "edge-b"]);
    assert.deepEqual(
      f.remediations.map((r) => r.kind),
      ["add-routes"],
    );
    assert.match(f.explanation, /no interface of edge-c was proven/);
  });

  test("no patch without the DaemonSet", () => {
    const ev = fx.seedVirtualboxNat();
    delete ev.snapshot.flannel.daemonSet;
    const f = diagnose(ev).find((x) => x.id === "vtep-wrong-interface")!;
    assert.deepEqual(
      f.remediations.map((r) => r.kind),
      ["add-routes"],
    );
    assert.match(f.explanation, /DaemonSet was not found/);
  });

  test("args rewriting drops every interface flag in every form", () => {
    const args = ["--ip-masq", "--iface=enp0s3", "-iface", "eth0", "--iface-regex", "^10\\.", "--iface-can-reach=1.2.3.4", "--kube-subnet-mgr", "--iface"];
    assert.deepEqual(withIfaceFlag(args, "--iface=enp0s8"), ["--ip-masq", "--kube-subnet-mgr", "--iface=enp0s8"]);
    assert.deepEqual(splitIfaceFlags(args).iface, ["--iface=enp0s3", "-iface eth0", "--iface-regex ^10\\.", "--iface-can-reach=1.2.3.4", "--iface"]);
  });

  test("subnet regexes match exactly the subnet", () => {
    assert.equal(subnetRegex("192.168.56.0/24"), "^192\\.168\\.56\\.");
    assert.equal(subnetRegex("10.20.0.0/16"), "^10\\.20\\.");
    assert.equal(subnetRegex("10.0.0.0/8"), "^10\\.");
    assert.equal(subnetRegex("10.1.2.3/32"), "^10\\.1\\.2\\.3$");
    assert.equal(subnetRegex("10.0.0.0/4"), undefined);
    const partial = new RegExp(subnetRegex("172.31.16.0/20")!);
    assert.ok(partial.test("172.31.16.4") && partial.test("172.31.31.250"));
    assert.ok(!partial.test("172.31.15.4") && !partial.test("172.31.32.1") && !partial.test("172.31.160.1"));
  });
});

describe("add-routes", () => {
  test("seed: each pod CIDR via the peer's host-only address, both directions", () => {
    const p = plan(fx.seedVirtualboxNat(), "vtep-wrong-interface", "add-routes");
    assert.ok(p);
    assert.deepEqual(p.commands, [
      { node: "k8s-master1", argv: ["ip", "route", "replace", "10.244.1.0/24", "via", "192.168.56.102", "dev", "enp0s8"] },
      { node: "k8s-node1", argv: ["ip", "route", "replace", "10.244.0.0/24", "via", "192.168.56.101", "dev", "enp0s8"] },
    ]);
    assert.equal(p.persistent, false);
    assert.ok(p.risks.some((r) => /reboot/.test(r)));
    assert.ok(p.risks.some((r) => /flannel replaces/.test(r)));
  });

  test("different interface names: each node routes over its own proven interface", () => {
    const p = plan(fx.natWithDifferentInterfaceNames(), "vtep-wrong-interface", "add-routes");
    assert.deepEqual(
      p?.commands?.filter((c) => c.argv[3] === "10.244.0.0/24").map((c) => [c.node, c.argv.slice(5).join(" ")]),
      [
        ["vm-1", "10.20.30.11 dev eth1"],
        ["vm-2", "10.20.30.11 dev ens34"],
      ],
    );
  });

  test("route-missing puts back flannel's own route", () => {
    const p = plan(fx.routeMissing(), "route-missing", "add-routes");
    assert.deepEqual(p?.commands, [{ node: "cp-0", argv: ["ip", "route", "replace", "10.42.1.0/24", "via", "10.42.1.0", "dev", "flannel.1", "onlink"] }]);
    assert.equal(p?.persistent, false);
  });
});

describe("host commands", () => {
  test("open-vxlan-port: one ACCEPT per peer VTEP at the top of INPUT", () => {
    const p = plan(fx.vxlanPortBlocked(), "udp-vxlan-blocked", "open-vxlan-port");
    assert.deepEqual(p?.commands, [
      { node: "worker-b", argv: ["iptables", "-I", "INPUT", "1", "-p", "udp", "--dport", "8472", "-s", "192.168.100.10", "-j", "ACCEPT"] },
      { node: "worker-b", argv: ["iptables", "-I", "INPUT", "1", "-p", "udp", "--dport", "8472", "-s", "192.168.100.11", "-j", "ACCEPT"] },
    ]);
    assert.equal(p?.persistent, false);
  });

  test("set-forward-accept appends when the policy drops", () => {
    const p = plan(fx.forwardPolicyDrop(), "forward-policy-drop", "set-forward-accept");
    assert.deepEqual(p?.commands, [
      { node: "worker-1", argv: ["iptables", "-A", "FORWARD", "-s", "10.42.0.0/16", "-j", "ACCEPT"] },
      { node: "worker-1", argv: ["iptables", "-A", "FORWARD", "-d", "10.42.0.0/16", "-j", "ACCEPT"] },
    ]);
  });

  test("enable-ip-forward uses sysctl, no shell, and says how to persist it", () => {
    const p = plan(fx.ipForwardDisabled(), "ip-forward-disabled", "enable-ip-forward");
    assert.deepEqual(p?.commands, [{ node: "worker-1", argv: ["sysctl", "-w", "net.ipv4.ip_forward=1"] }]);
    assert.deepEqual(p?.diff, ["worker-1: sysctl -w net.ipv4.ip_forward=1"]);
    assert.equal(p?.persistent, false);
    assert.ok(p?.risks.some((r) => r.includes("/etc/sysctl.d/")));
  });
});

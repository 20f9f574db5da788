import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AppliedCommand } from "../../src/remediation/apply-host-commands.js";
import { parseHostAction, routeSpec } from "../../src/remediation/host-actions.js";
import { rollbackPlanFor } from "../../src/remediation/rollback.js";
import type { AppliedFix } from "../../src/remediation/types.js";

const flannelRoute = { dst: "10.244.1.0/24", gateway: "10.244.1.0", dev: "flannel.1", flags: ["onlink"] };
const underlayRoute = { dst: "10.244.1.0/24", gateway: "192.168.56.102", dev: "enp0s8", flags: [] };

function host(kind: AppliedFix["plan"]["kind"], commands: Omit<AppliedCommand, "verified" | "durationMs">[]): AppliedFix {
  return { kind: "host-commands", plan: { kind, summary: "fix it" }, commands: commands.map((c) => ({ ...c, verified: "", durationMs: 1 })) };
}

describe("rollbackPlanFor", () => {
  test("patch: restores the previous args behind a test on the post-rollout resourceVersion", () => {
    const plan = rollbackPlanFor({
      kind: "patch",
      plan: { kind: "patch-flannel-iface", summary: "use enp0s8" },
      patch: {
        namespace: "kube-system",
        name: "kube-flannel-ds-amd64",
        containerIndex: 0,
        previousArgs: ["--ip-masq"],
        previousFlags: ["--ip-masq"],
        newFlags: ["--ip-masq", "--iface=enp0s8"],
        resourceVersion: "19",
      },
      resourceVersion: "28",
    });
    assert.equal(plan.kind, "patch-flannel-iface");
    assert.deepEqual(plan.patch, {
      namespace: "kube-system",
      name: "kube-flannel-ds-amd64",
      ops: [
        { op: "test", path: "/metadata/resourceVersion", value: "28" },
        { op: "replace", path: "/spec/template/spec/containers/0/args", value: ["--ip-masq"] },
      ],
    });
    assert.deepEqual(plan.diff, ["args: [--ip-masq, --iface=enp0s8] → [--ip-masq]"]);
    assert.equal(plan.persistent, true);
    assert.match(plan.risks.join(" "), /resourceVersion 28/);
  });

  test("patch: a container that had no args field gets it removed again", () => {
    const plan = rollbackPlanFor({
      kind: "patch",
      plan: { kind: "patch-flannel-iface", summary: "s" },
      patch: {
        namespace: "kube-flannel",
        name: "kube-flannel-ds",
        containerIndex: 1,
        previousFlags: ["--ip-masq"],
        newFlags: ["--ip-masq", "--iface=eth1"],
        resourceVersion: "5",
      },
      resourceVersion: "7",
    });
    assert.deepEqual(plan.patch!.ops[1], { op: "remove", path: "/spec/template/spec/containers/1/args" });
  });

  test("routes: a replaced route is restored exactly; a new one is deleted; last change undone first", () => {
    const plan = rollbackPlanFor(
      host("add-routes", [
        {
          node: "k8s-master1",
          argv: ["ip", "route", "replace", "10.244.1.0/24", "via", "192.168.56.102", "dev", "enp0s8"],
          record: { kind: "route", before: [flannelRoute], after: [underlayRoute] },
        },
        {
          node: "k8s-master1",
          argv: ["ip", "route", "replace", "10.244.2.0/24", "via", "192.168.56.103", "dev", "enp0s8"],
          record: { kind: "route", before: [], after: [{ dst: "10.244.2.0/24", gateway: "192.168.56.103", dev: "enp0s8", flags: [] }] },
        },
      ]),
    );
    assert.deepEqual(plan.diff, [
      "k8s-master1: ip route del 10.244.2.0/24 via 192.168.56.103 dev enp0s8",
      "k8s-master1: ip route replace 10.244.1.0/24 via 10.244.1.0 dev flannel.1 onlink",
    ]);
    assert.equal(plan.kind, "add-routes");
    assert.equal(plan.persistent, false);
  });

  test("routes: a route with another metric is left alone and ours deleted", () => {
    const other = { ...flannelRoute, metric: 100 };
    const plan = rollbackPlanFor(
      host("add-routes", [
        {
          node: "n",
          argv: ["ip", "route", "replace", "10.244.1.0/24", "via", "192.168.56.102", "dev", "enp0s8"],
          record: { kind: "route", before: [other], after: [underlayRoute, other] },
        },
      ]),
    );
    assert.deepEqual(plan.diff, ["n: ip route del 10.244.1.0/24 via 192.168.56.102 dev enp0s8"]);
  });

  test("iptables: -I and -A become -D of the same rule; -D becomes -I at the position it had", () => {
    const plan = rollbackPlanFor(
      host("open-vxlan-port", [
        { node: "w", argv: ["iptables", "-I", "INPUT", "1", "-p", "udp", "--dport", "8472", "-s", "10.0.0.1", "-j", "ACCEPT"], record: { kind: "iptables" } },
        { node: "w", argv: ["iptables", "-t", "raw", "-A", "PREROUTING", "-p", "udp", "-j", "ACCEPT"], record: { kind: "iptables" } },
        { node: "w", argv: ["iptables", "-D", "FORWARD", "-s", "10.244.0.0/16", "-j", "ACCEPT"], record: { kind: "iptables", deletedAt: 3 } },
      ]),
    );
    assert.deepEqual(plan.diff, [
      "w: iptables -I FORWARD 3 -s 10.244.0.0/16 -j ACCEPT",
      "w: iptables -t raw -D PREROUTING -p udp -j ACCEPT",
      "w: iptables -D INPUT -p udp --dport 8472 -s 10.0.0.1 -j ACCEPT",
    ]);
  });

  test("sysctl: writes the old value back; an unchanged value needs nothing", () => {
    const plan = rollbackPlanFor(
      host("enable-ip-forward", [
        { node: "w1", argv: ["sysctl", "-w", "net.ipv4.ip_forward=1"], record: { kind: "sysctl", previous: "0" } },
        { node: "w2", argv: ["sysctl", "-w", "net.ipv4.ip_forward=1"], record: { kind: "sysctl", previous: "1" } },
      ]),
    );
    assert.deepEqual(plan.commands, [{ node: "w1", argv: ["sysctl", "-w", "net.ipv4.ip_forward=0"] }]);
    assert.match(plan.risks.join(" "), /forwarding/);
  });
});

describe("host actions", () => {
  test("routeSpec prints a route as `ip route replace` takes it", () => {
    assert.deepEqual(routeSpec(flannelRoute), ["10.244.1.0/24", "via", "10.244.1.0", "dev", "flannel.1", "onlink"]);
    assert.deepEqual(routeSpec({ dst: "192.168.9.0/24", dev: "d0", protocol: "kernel", scope: "link", prefsrc: "192.168.9.1", flags: [] }), [
      "192.168.9.0/24",
      "dev",
      "d0",
      "proto",
      "kernel",
      "scope",
      "link",
      "src",
      "192.168.9.1",
    ]);
    assert.deepEqual(routeSpec({ type: "blackhole", dst: "10.9.0.0/24", metric: 5 }), ["blackhole", "10.9.0.0/24", "metric", "5"]);
  });

  test("commands xnode cannot verify or undo are refused", () => {
    for (const argv of [
      ["sh", "-c", "reboot"],
      ["ip", "route", "flush", "all"],
      ["iptables", "-F"],
      ["iptables", "-A", "INPUT", "-j", "ACCEPT", "-F"],
      ["sysctl", "-p"],
      ["ip", "route", "replace", "default", "via", "1.2.3.4"],
    ]) {
      assert.throws(
        () => parseHostAction(argv),
        (err: { code: string }) => err.code === "FIX_ABORTED",
        argv.join(" "),
      );
    }
    assert.deepEqual(parseHostAction(["iptables", "-I", "INPUT", "1", "-p", "udp", "-j", "ACCEPT"]), {
      kind: "iptables",
      table: "filter",
      op: "-I",
      chain: "INPUT",
      position: 1,
      spec: ["-p", "udp", "-j", "ACCEPT"],
    });
  });
});

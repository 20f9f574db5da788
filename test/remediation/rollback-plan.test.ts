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
  const flannelChange = (patch: NonNullable<Extract<AppliedFix, { kind: "flannel" }>["patch"]>): AppliedFix => ({
    kind: "flannel",
    plan: { kind: "patch-flannel-iface", summary: "use enp0s8" },
    patch,
    previousPublicIPs: { "k8s-master1": "10.0.2.15", "k8s-node1": "10.0.2.15" },
  });

  test("patch: restores each changed field whole behind a test that it still holds the fix's value (no resourceVersion)", () => {
    const plan = rollbackPlanFor(
      flannelChange({
        namespace: "kube-system",
        name: "kube-flannel-ds-amd64",
        containerIndex: 0,
        changes: [{ field: "args", before: ["--ip-masq"], after: ["--ip-masq", "--iface=enp0s8"] }],
        diff: ["args: [--ip-masq] → [--ip-masq, --iface=enp0s8]"],
        undoDiff: ["args: [--ip-masq, --iface=enp0s8] → [--ip-masq]"],
        resourceVersion: "19",
        generation: 4,
      }),
    );
    assert.equal(plan.kind, "patch-flannel-iface");
    assert.deepEqual(plan.patch, {
      namespace: "kube-system",
      name: "kube-flannel-ds-amd64",
      ops: [
        { op: "test", path: "/spec/template/spec/containers/0/args", value: ["--ip-masq", "--iface=enp0s8"] },
        { op: "add", path: "/spec/template/spec/containers/0/args", value: ["--ip-masq"] },
      ],
    });
    assert.deepEqual(plan.diff, ["args: [--ip-masq, --iface=enp0s8] → [--ip-masq]"]);
    assert.deepEqual(plan.expectedPublicIPs, { "k8s-master1": "10.0.2.15", "k8s-node1": "10.0.2.15" }, "converges back on the old addresses");
    assert.equal(plan.persistent, true);
    assert.doesNotMatch(JSON.stringify(plan), /resourceVersion/);
  });

  test("patch: a container that had no args field gets it removed again; command and env come back whole", () => {
    const env = [{ name: "FLANNELD_IFACE", valueFrom: { configMapKeyRef: { name: "cfg", key: "iface" } } }];
    const plan = rollbackPlanFor(
      flannelChange({
        namespace: "kube-flannel",
        name: "kube-flannel-ds",
        containerIndex: 1,
        changes: [
          { field: "args", after: ["--ip-masq", "--iface=eth1"] },
          { field: "command", before: ["/opt/bin/flanneld", "--ip-masq"], after: ["/opt/bin/flanneld"] },
          { field: "env", before: env, after: [{ name: "FLANNELD_IFACE", value: "eth1" }] },
        ],
        diff: [],
        undoDiff: [],
        resourceVersion: "5",
      }),
    );
    const c = "/spec/template/spec/containers/1";
    assert.deepEqual(plan.patch!.ops, [
      { op: "test", path: `${c}/args`, value: ["--ip-masq", "--iface=eth1"] },
      { op: "test", path: `${c}/command`, value: ["/opt/bin/flanneld"] },
      { op: "test", path: `${c}/env`, value: [{ name: "FLANNELD_IFACE", value: "eth1" }] },
      { op: "remove", path: `${c}/args` },
      { op: "add", path: `${c}/command`, value: ["/opt/bin/flanneld", "--ip-masq"] },
      { op: "add", path: `${c}/env`, value: env },
    ]);
  });

  test("HelmChartConfig and pod restarts: valuesContent put back (a created object emptied), the ConfigMap awaited at its old value, the same pods restarted", () => {
    const ref = { group: "helm.cattle.io", version: "v1", plural: "helmchartconfigs", namespace: "kube-system", name: "rke2-canal" };
    const restartPods = { namespace: "kube-system", daemonSet: "rke2-canal", nodes: ["n1", "n2"] };
    const plan = rollbackPlanFor({
      kind: "flannel",
      plan: { kind: "patch-flannel-iface", summary: "use eth1", restartPods },
      customObject: {
        ref,
        created: true,
        after: 'flannel:\n  iface: "eth1"\n',
        diff: [],
        undoReconciledWhen: { namespace: "kube-system", name: "rke2-canal-config", key: "canal_iface", value: "" },
      },
      restarted: ["n1", "n2"],
      previousPublicIPs: { n1: "10.0.2.15" },
    });
    assert.equal(plan.patch, undefined);
    assert.deepEqual(plan.customObject, {
      ...ref,
      ops: [
        { op: "test", path: "/spec/valuesContent", value: 'flannel:\n  iface: "eth1"\n' },
        { op: "add", path: "/spec/valuesContent", value: "" },
      ],
      reconciledWhen: { namespace: "kube-system", name: "rke2-canal-config", key: "canal_iface", value: "" },
    });
    assert.deepEqual(plan.restartPods, restartPods);
    assert.deepEqual(plan.diff, [
      'HelmChartConfig kube-system/rke2-canal: flannel.iface: "eth1" → (unset)',
      "then restart the pods of rke2-canal one node at a time (n1, n2), each Ready and programmed before the next",
    ]);
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

// flanneld's flag resolution (main.go: Go's flag package, then
// flagutil.SetFlagsFromEnv for flags the command line left unset), net-conf.json
// read as encoding/json reads it, and k3s's node-args.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { effectiveFlags, envNameOf, parseFlanneldArgv } from "../../src/discovery/flanneld-flags.js";
import { parseK3sNodeArgs } from "../../src/discovery/k3s-node-args.js";
import { parseNetConf } from "../../src/discovery/net-conf.js";

const values = (flags: ReturnType<typeof effectiveFlags>) => Object.fromEntries(flags.map((f) => [f.name, [f.source, ...f.values]]));

describe("flanneld's command line", () => {
  test("-flag and --flag, =value or the next word; booleans never take the next word; a repeated --iface keeps every value", () => {
    const flags = parseFlanneldArgv([
      { argv: ["--ip-masq", "-kube-subnet-mgr", "--iface", "eth1"], source: "command" },
      { argv: ["--iface=10.0.0.5", "-iface-regex=^192\\.168\\.", "--iptables-forward-rules=false"], source: "args" },
    ]);
    assert.deepEqual(values(flags), {
      "ip-masq": ["command"],
      "kube-subnet-mgr": ["command"],
      iface: ["command", "eth1", "10.0.0.5"],
      "iface-regex": ["args", "^192\\.168\\."],
      "iptables-forward-rules": ["args", "false"],
    });
    assert.equal(flags.find((f) => f.name === "iface")?.from, "command --iface eth1, args --iface=10.0.0.5");
  });

  test("parsing stops at -- and at the first word that is not a flag, as Go's does", () => {
    assert.deepEqual(values(parseFlanneldArgv([{ argv: ["--ip-masq", "--", "--iface=eth0"], source: "args" }])), { "ip-masq": ["args"] });
    // `--ip-masq true`: Go reads "true" as the first positional argument and stops
    assert.deepEqual(values(parseFlanneldArgv([{ argv: ["--ip-masq", "true", "--iface=eth0"], source: "args" }])), { "ip-masq": ["args"] });
  });
});

describe("FLANNELD_* env", () => {
  test("the env name is FLANNELD_ + the flag upper-cased, dashes as underscores", () => {
    assert.equal(envNameOf("iface-regex"), "FLANNELD_IFACE_REGEX");
    assert.equal(envNameOf("public-ip"), "FLANNELD_PUBLIC_IP");
  });

  test("env fills only flags the command line left unset; an empty value sets nothing; the last of two same-named variables counts", () => {
    const commandLine = parseFlanneldArgv([{ argv: ["--iface=eth0"], source: "args" }]);
    const flags = effectiveFlags(commandLine, [
      { name: "FLANNELD_IFACE", value: "eth1", from: "env FLANNELD_IFACE" },
      { name: "FLANNELD_IFACE_REGEX", value: "", from: "env FLANNELD_IFACE_REGEX" },
      { name: "FLANNELD_PUBLIC_IP", value: "192.0.2.1", from: "env FLANNELD_PUBLIC_IP" },
      { name: "FLANNELD_PUBLIC_IP", value: "192.0.2.2", from: "env FLANNELD_PUBLIC_IP (second)" },
      { name: "FLANNELD_NOT_A_FLAG", value: "x", from: "env FLANNELD_NOT_A_FLAG" },
    ]);
    assert.deepEqual(values(flags), { iface: ["args", "eth0"], "public-ip": ["env", "192.0.2.2"] });
  });

  test("an unreadable ConfigMap key (undefined) sets nothing", () => {
    assert.deepEqual(effectiveFlags([], [{ name: "FLANNELD_IFACE", value: undefined, from: "env FLANNELD_IFACE ← ConfigMap x/y key z" }]), []);
  });
});

describe("net-conf.json", () => {
  test("keys in any case, as Go's encoding/json matches them; the last of two spellings wins", () => {
    const { conf, warnings } = parseNetConf(
      '{"network":"10.244.0.0/16","backend":{"type":"vxlan","vni":4096,"port":4789},"enablenftables":true,"EnableIPv4":true,"ipv6network":"fd00::/56"}',
      "net-conf.json",
    );
    assert.deepEqual(conf, {
      network: "10.244.0.0/16",
      backendType: "vxlan",
      port: 4789,
      vni: 4096,
      enableNFTables: true,
      enableIPv4: true,
      ipv6Network: "fd00::/56",
    });
    assert.deepEqual(warnings, []);
    assert.equal(parseNetConf('{"Backend":{"VNI":1,"vni":7}}', "x").conf.vni, 7);
  });

  test("a mistyped field is named and ignored; invalid JSON is a warning, not a throw", () => {
    const typed = parseNetConf('{"Network":"10.1.0.0/16","Backend":{"Type":"vxlan","Port":"4789"}}', "ConfigMap a/b net-conf.json");
    assert.deepEqual(typed.conf, { network: "10.1.0.0/16", backendType: "vxlan" });
    assert.deepEqual(typed.warnings, ['ConfigMap a/b net-conf.json: Backend.Port is "4789", not a number (flanneld would refuse it); that field is ignored']);
    assert.match(parseNetConf("{", "x").warnings[0]!, /^x is not valid JSON/);
  });
});

describe("k3s.io/node-args", () => {
  test("--flannel-iface in both spellings, the last one counting; the backend; the role", () => {
    const args = parseK3sNodeArgs({ "k3s.io/node-args": '["agent","--flannel-iface=eth0","--node-ip","10.0.0.2","--flannel-iface","enp0s8"]' });
    assert.equal(args?.role, "agent");
    assert.equal(args?.backend, "vxlan");
    assert.deepEqual(
      args?.flags.map((f) => [f.name, f.values]),
      [["iface", ["enp0s8"]]],
    );
    assert.equal(parseK3sNodeArgs({ "k3s.io/node-args": '["server","--flannel-backend=host-gw"]' })?.backend, "host-gw");
  });

  test("no annotation, or one that is not a JSON array of strings: not a k3s node", () => {
    assert.equal(parseK3sNodeArgs({}), undefined);
    assert.equal(parseK3sNodeArgs({ "k3s.io/node-args": "server --flannel-iface eth1" }), undefined);
    assert.equal(parseK3sNodeArgs({ "k3s.io/node-args": "[1,2]" }), undefined);
  });
});

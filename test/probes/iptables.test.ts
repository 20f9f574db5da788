import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { chainPolicy, hasJump, iptablesProbe, rulesIn } from "../../src/probes/iptables.js";
import { ProbeOutputError } from "../../src/probes/probe.js";

const fixture = (path: string) => readFileSync(new URL(`../fixtures/probes/${path}.txt`, import.meta.url), "utf8");
const flannelForward = iptablesProbe.parse(fixture("iptables/flannel-forward"));
const vxlanBlocked = iptablesProbe.parse(fixture("iptables/vxlan-blocked"));

describe("iptables probe", () => {
  it("runs iptables-save", () => {
    assert.deepEqual(iptablesProbe.argv(), ["iptables-save"]);
  });

  it("reads policies of built-in and user chains", () => {
    assert.equal(chainPolicy(flannelForward, "filter", "FORWARD"), "DROP");
    assert.equal(chainPolicy(flannelForward, "filter", "INPUT"), "ACCEPT");
    assert.equal(chainPolicy(flannelForward, "filter", "FLANNEL-FWD"), "-");
    assert.equal(chainPolicy(flannelForward, "nat", "PREROUTING"), "ACCEPT");
    assert.equal(chainPolicy(flannelForward, "raw", "PREROUTING"), undefined);
  });

  it("reads rules with their table, chain and spec as printed", () => {
    assert.deepEqual(rulesIn(flannelForward, "filter", "FLANNEL-FWD"), [
      { table: "filter", chain: "FLANNEL-FWD", spec: '-s 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT' },
      { table: "filter", chain: "FLANNEL-FWD", spec: '-d 10.244.0.0/16 -m comment --comment "flanneld forward" -j ACCEPT' },
    ]);
    const dnat = rulesIn(flannelForward, "nat", "KUBE-SEP-WEB1").find((r) => r.spec.includes("DNAT"));
    assert.equal(dnat?.spec, '-p tcp -m comment --comment "default/web" -m tcp -j DNAT --to-destination 10.244.1.5:80');
    assert.equal(rulesIn(flannelForward, "nat", "KUBE-NODEPORTS").length, 1);
  });

  it("keeps a bare counting rule with an empty spec", () => {
    assert.deepEqual(rulesIn(vxlanBlocked, "filter", "INPUT")[0], { table: "filter", chain: "INPUT", spec: "" });
  });

  it("finds jumps, not comments that mention the chain", () => {
    assert.equal(hasJump(flannelForward, "filter", "FORWARD", "FLANNEL-FWD"), true);
    assert.equal(hasJump(flannelForward, "nat", "KUBE-SERVICES", "KUBE-NODEPORTS"), true);
    assert.equal(hasJump(flannelForward, "filter", "INPUT", "FLANNEL-FWD"), false);
    assert.equal(hasJump(vxlanBlocked, "filter", "FORWARD", "FLANNEL-FWD"), false);
    assert.equal(
      hasJump(
        { policies: [], rules: [{ table: "filter", chain: "FORWARD", spec: '-m comment --comment "-j FLANNEL-FWD" -j ACCEPT' }] },
        "filter",
        "FORWARD",
        "FLANNEL-FWD",
      ),
      false,
    );
  });

  it("reads empty output as no tables: iptables-save prints nothing when none is loaded", () => {
    assert.equal(fixture("iptables/empty"), "");
    assert.deepEqual(iptablesProbe.parse(fixture("iptables/empty")), { policies: [], rules: [] });
  });

  for (const bad of ["malformed/truncated-iptables", "malformed/html-error", "malformed/truncated-json"]) {
    it(`rejects ${bad}`, () => {
      assert.throws(() => iptablesProbe.parse(fixture(bad)), ProbeOutputError);
    });
  }

  it("rejects rules outside a table and stray lines", () => {
    assert.throws(() => iptablesProbe.parse("-A INPUT -j DROP\n"), /line outside a table/);
    assert.throws(() => iptablesProbe.parse("*filter\n:INPUT ACCEPT [0:0]\nError: something\nCOMMIT\n"), /unexpected line/);
    assert.throws(() => iptablesProbe.parse("*filter\n*nat\nCOMMIT\n"), /never committed|before/);
    assert.throws(() => iptablesProbe.parse("COMMIT\n"), /COMMIT outside a table/);
  });
});

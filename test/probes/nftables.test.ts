// The nftables probe on real `nft -j list ruleset` output (nftables 1.0.6,
// captured by test/fixtures/probes/capture-nftables.sh from the rulesets in
// nftables/*.nft). Unreadable output is made from a real capture by changing
// one object, and says so.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { nftablesProbe, nftChain, nftRulesIn, parseNftListing } from "../../src/probes/nftables.js";
import { ProbeOutputError } from "../../src/probes/probe.js";

const raw = (name: string) => readFileSync(new URL(`../fixtures/probes/nftables/${name}.json`, import.meta.url), "utf8");
const fixture = (name: string) => nftablesProbe.parse(raw(name));
const malformed = (name: string) => readFileSync(new URL(`../fixtures/probes/malformed/${name}.txt`, import.meta.url), "utf8");
const texts = (name: string, family: string, table: string, chain: string) => nftRulesIn(fixture(name), family, table, chain).map((r) => r.text);

/** A real capture with its `nftables` array changed by `edit`. */
function edited(name: string, edit: (items: Record<string, unknown>[]) => void): string {
  const data = JSON.parse(raw(name)) as { nftables: Record<string, unknown>[] };
  edit(data.nftables);
  return JSON.stringify(data);
}

describe("nftables probe", () => {
  it("runs nft -j list ruleset on the host agent", () => {
    assert.deepEqual(nftablesProbe.argv(), ["nft", "-j", "list", "ruleset"]);
    assert.equal(nftablesProbe.agent, "host");
  });

  it("reads an empty ruleset as no tables, with nft's version", () => {
    assert.deepEqual(fixture("empty"), { version: "1.0.6", tables: [], chains: [], sets: [], rules: [], unreadable: [] });
  });

  it("reads firewalld's table: the base chain with hook, priority and policy, the rules with handles and text", () => {
    const r = fixture("firewalld-input-drop");
    assert.deepEqual(r.tables, [{ family: "inet", name: "firewalld", handle: 1 }]);
    assert.deepEqual(nftChain(r, "inet", "firewalld", "filter_INPUT"), {
      family: "inet",
      table: "firewalld",
      name: "filter_INPUT",
      handle: 1,
      type: "filter",
      hook: "input",
      prio: 10,
      policy: "accept",
    });
    assert.deepEqual(
      r.rules.map((x) => [x.handle, x.text]),
      [
        [3, "ct state { established, related } accept"],
        [4, 'iifname "lo" accept'],
        [5, "udp dport 8472 drop"],
      ],
    );
    assert.deepEqual(r.rules[2]!.expr, [{ match: { op: "==", left: { payload: { protocol: "udp", field: "dport" } }, right: 8472 } }, { drop: null }]);
    assert.ok(r.rules.every((x) => x.unreadable === undefined));
  });

  it("renders rejects, interface scopes and address sets as nft writes them", () => {
    assert.deepEqual(texts("firewalld-input-reject", "inet", "firewalld", "filter_INPUT").at(-1), "udp dport 8472 reject with icmpx admin-prohibited");
    assert.deepEqual(texts("iifname-drop", "inet", "firewalld", "filter_INPUT").at(-1), 'iifname "eth1" udp dport 8472 drop');
    assert.deepEqual(texts("accept-before-drop", "inet", "firewalld", "filter_INPUT"), [
      "ip saddr { 192.168.56.101, 192.168.56.103 } udp dport 8472 accept",
      "udp dport 8472 drop",
    ]);
    assert.deepEqual(texts("vmap-zones", "inet", "filter", "input"), ['iifname vmap { "eth0" : jump zone_internal, "eth1" : jump zone_external }']);
  });

  it("reads regular chains (no hook), jumps, gotos and what firewalld's zones use", () => {
    const r = fixture("firewalld-zones");
    assert.equal(nftChain(r, "inet", "firewalld", "filter_IN_public_allow")?.hook, undefined);
    assert.deepEqual(texts("firewalld-zones", "inet", "firewalld", "filter_INPUT_ZONES"), ['iifname "eth0" goto filter_IN_public', "goto filter_IN_public"]);
    assert.deepEqual(texts("firewalld-zones", "inet", "firewalld", "filter_INPUT"), [
      "ct state { established, related } accept",
      "ct status dnat accept",
      'iifname "lo" accept',
      "ct state invalid drop",
      "jump filter_INPUT_ZONES",
      "reject with icmpx admin-prohibited",
    ]);
    assert.deepEqual(texts("firewalld-zones", "inet", "firewalld", "filter_PREROUTING"), [
      "icmpv6 type { nd-router-advert, nd-neighbor-solicit } accept",
      "meta nfproto ipv6 fib saddr . mark . iif oif missing drop",
    ]);
  });

  it("reads named sets with their elements", () => {
    const r = fixture("named-set");
    assert.deepEqual(r.sets, [{ family: "inet", table: "filter", name: "k8s_nodes", type: "ipv4_addr", elem: ["192.168.56.101", "192.168.56.103"] }]);
    assert.deepEqual(texts("named-set", "inet", "filter", "input"), ["ip saddr @k8s_nodes udp dport 8472 accept", "udp dport 8472 counter drop"]);
  });

  it("marks iptables-nft's xt extensions unreadable: nft prints them without their options", () => {
    const r = fixture("iptables-nft");
    assert.deepEqual(
      r.tables.map((t) => `${t.family} ${t.name}`),
      ["ip filter", "ip nat"],
    );
    const input = nftRulesIn(r, "ip", "filter", "INPUT");
    assert.equal(input[0]!.text, "udp dport 8472 counter drop");
    assert.equal(input[0]!.unreadable, undefined);
    assert.equal(input[1]!.text, "meta l4proto udp xt match multiport counter drop");
    assert.match(input[1]!.unreadable ?? "", /xt match multiport.*without its options/);
    assert.equal(nftChain(r, "ip", "filter", "FORWARD")?.policy, "drop");
  });

  it("reads an ingress chain; nft 1.0.6 does not print its device", () => {
    const chain = nftChain(fixture("netdev-ingress"), "netdev", "edge", "eth0_ingress");
    assert.equal(chain?.hook, "ingress");
    assert.equal(chain?.devices, undefined);
  });

  it("reads `nft -j list chain` the same way (no table object), including xnode's own accept", () => {
    const r = parseNftListing(raw("chain-firewalld-input-fixed"));
    assert.deepEqual(r.tables, []);
    assert.equal(r.chains.length, 1);
    assert.deepEqual(
      r.rules.map((x) => [x.handle, x.text]),
      [
        [3, "ct state { established, related } accept"],
        [4, 'iifname "lo" accept'],
        [7, "ip saddr { 192.168.56.101, 192.168.56.103 } udp dport 8472 accept"],
        [5, "udp dport 8472 drop"],
      ],
    );
  });

  describe("what it cannot read is kept and marked, not dropped (edited from firewalld-input-drop)", () => {
    it("an unknown statement: the rule is kept, unreadable, with the rest rendered", () => {
      const text = edited("firewalld-input-drop", (items) => {
        const rule = items.find((i) => (i.rule as { handle?: number } | undefined)?.handle === 5)!.rule as { expr: unknown[] };
        rule.expr.unshift({ inner: { type: "vxlan", expr: [] } });
      });
      const rule = nftRulesIn(nftablesProbe.parse(text), "inet", "firewalld", "filter_INPUT").find((r) => r.handle === 5)!;
      assert.match(rule.unreadable ?? "", /statement "inner" xnode does not read/);
      assert.match(rule.text, /udp dport 8472 drop$/);
    });

    it("a rule without its statements, a base chain without its priority", () => {
      const text = edited("firewalld-input-drop", (items) => {
        delete (items.find((i) => (i.rule as { handle?: number } | undefined)?.handle === 5)!.rule as { expr?: unknown }).expr;
        delete (items.find((i) => i.chain)!.chain as { prio?: number }).prio;
      });
      const r = nftablesProbe.parse(text);
      const rule = r.rules.find((x) => x.handle === 5)!;
      assert.deepEqual([rule.expr, rule.text], [[], "(unreadable)"]);
      assert.match(rule.unreadable ?? "", /expr/);
      assert.match(nftChain(r, "inet", "firewalld", "filter_INPUT")?.unreadable ?? "", /without its type, hook or priority/);
    });

    it("an unknown object and another JSON schema version are noted for the whole ruleset", () => {
      const text = edited("firewalld-input-drop", (items) => {
        (items[0]!.metainfo as { json_schema_version: number }).json_schema_version = 2;
        items.push({ "hook-list": { family: "inet" } });
      });
      assert.deepEqual(nftablesProbe.parse(text).unreadable, ["JSON schema version 2 (xnode reads version 1)", 'object "hook-list" xnode does not read']);
    });
  });

  for (const bad of ["empty", "html-error", "truncated-json"]) {
    it(`rejects malformed/${bad}`, () => {
      assert.throws(() => nftablesProbe.parse(malformed(bad)), ProbeOutputError);
    });
  }

  it("rejects JSON that is not nft's", () => {
    assert.throws(() => nftablesProbe.parse('[{"ifname":"lo"}]'), /"nftables" array/);
    assert.throws(() => nftablesProbe.parse("Error: syntax error\n"), /not JSON/);
  });
});

// The nftables evaluator over real captured rulesets (test/fixtures/probes/
// nftables/*.json, nft 1.0.6). Cases that need a ruleset nft would not print
// as such (a device on an ingress chain, an unreadable object) edit a parsed
// capture and say so.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { evaluateNft, evaluateNftPath, ownedByIptables, type NftPacket } from "../../src/diagnosis/nft-eval.js";
import type { NftRuleset } from "../../src/model/index.js";
import { nftablesProbe } from "../../src/probes/nftables.js";

const load = (name: string): NftRuleset => nftablesProbe.parse(readFileSync(new URL(`../fixtures/probes/nftables/${name}.json`, import.meta.url), "utf8"));
const ARRIVAL = ["ingress", "prerouting", "input"] as const;
/** VXLAN from a peer's VTEP to this node's, arriving on eth0 */
const vxlan: Omit<NftPacket, "hook"> = { l4proto: "udp", dport: 8472, iifname: "eth0", saddr: "192.168.56.102", daddr: "192.168.56.101" };
const arrive = (name: string, p: Partial<NftPacket> = {}) => evaluateNftPath(load(name), { ...vxlan, ...p }, ARRIVAL);
const decided = (v: ReturnType<typeof evaluateNft>) => [
  v.verdict,
  v.rule ? `${v.rule.chain} #${v.rule.handle}: ${v.rule.text}` : v.chain ? `policy of ${v.chain.name}` : undefined,
];

describe("evaluateNft", () => {
  test("an empty ruleset accepts, and nothing was walked", () => {
    assert.deepEqual(arrive("empty"), { verdict: "accept", walked: [] });
  });

  test("firewalld's input drop and reject are drops, with the rule and its base chain", () => {
    const v = arrive("firewalld-input-drop");
    assert.deepEqual(v.rule, { family: "inet", table: "firewalld", chain: "filter_INPUT", handle: 5, text: "udp dport 8472 drop" });
    assert.equal(v.chain?.name, "filter_INPUT");
    assert.deepEqual(v.walked, ["inet firewalld filter_INPUT"]);
    assert.deepEqual(decided(arrive("firewalld-input-reject")), ["drop", "filter_INPUT #5: udp dport 8472 reject with icmpx admin-prohibited"]);
    assert.deepEqual(decided(arrive("firewalld-input-drop", { dport: 4789 })), ["accept", undefined]);
  });

  test("a forward-hook drop is not on the input path, but drops what is forwarded", () => {
    assert.deepEqual(decided(arrive("forward-drop")), ["accept", undefined]);
    const forwarded = evaluateNft(load("forward-drop"), { ...vxlan, hook: "forward", oifname: "eth1" });
    assert.deepEqual(decided(forwarded), ["drop", "filter_FORWARD #4: udp dport 8472 drop"]);
    const pods = evaluateNft(load("forward-drop"), {
      hook: "forward",
      l4proto: "tcp",
      dport: 8080,
      iifname: "flannel.1",
      oifname: "cni0",
      saddr: "10.244.1.5",
      daddr: "10.244.0.5",
    });
    assert.equal(pods.verdict, "accept");
  });

  test("a drop scoped to an interface: only that interface; unknown when the packet's interface is not known", () => {
    assert.equal(arrive("iifname-drop").verdict, "accept");
    assert.deepEqual(decided(arrive("iifname-drop", { iifname: "eth1" })), ["drop", 'filter_INPUT #3: iifname "eth1" udp dport 8472 drop']);
    const blind = arrive("iifname-drop", { iifname: undefined });
    assert.deepEqual(decided(blind), ["unknown", 'filter_INPUT #2: iifname "lo" accept']);
    assert.match(blind.reason ?? "", /input interface not known/);
  });

  test("an accept before the drop: the listed peers get in, the others do not", () => {
    assert.equal(arrive("accept-before-drop", { saddr: "192.168.56.103" }).verdict, "accept");
    assert.deepEqual(decided(arrive("accept-before-drop")), ["drop", "filter_INPUT #4: udp dport 8472 drop"]);
    assert.equal(arrive("accept-before-drop", { saddr: undefined }).verdict, "unknown");
  });

  test("iptables-nft's tables are skipped: iptables-save reads them, with the options nft does not print", () => {
    const r = load("iptables-nft");
    assert.ok(ownedByIptables(r, "ip", "filter") && ownedByIptables(r, "ip", "nat"));
    assert.ok(!ownedByIptables(load("two-tables"), "ip", "flannel-ipv4"));
    assert.ok(!ownedByIptables(load("policy-drop"), "inet", "filter"), "an inet table of that name is native");
    assert.deepEqual(arrive("iptables-nft"), { verdict: "accept", walked: [] });
  });

  test("firewalld's zones: through jump, goto and the empty chains to the catch-all reject; conntrack as a new flow", () => {
    const v = arrive("firewalld-zones");
    assert.deepEqual(decided(v), ["drop", "filter_INPUT #19: reject with icmpx admin-prohibited"]);
    assert.deepEqual(v.walked, ["inet firewalld filter_PREROUTING", "inet firewalld filter_INPUT"], "the IPv6-only rpfilter in prerouting let it pass");
    assert.equal(arrive("firewalld-zones", { l4proto: "tcp", dport: 22 }).verdict, "accept", "ssh is allowed by the zone");
    assert.equal(arrive("firewalld-zones", { l4proto: "icmp", dport: undefined }).verdict, "accept");
    assert.equal(arrive("firewalld-zones-vxlan-open").verdict, "accept", "after firewall-cmd --add-port=8472/udp");
  });

  test("a match xnode cannot evaluate ahead of the drop makes it unknown, with that rule", () => {
    const v = arrive("mark-before-drop");
    assert.deepEqual(decided(v), ["unknown", "input #2: meta mark 1 accept"]);
    assert.match(v.reason ?? "", /meta mark/);
  });

  test("…but not when both ways end the same (edited: the mark rule drops too)", () => {
    const r = load("mark-before-drop");
    r.rules[0] = { ...r.rules[0]!, expr: [r.rules[0]!.expr[0], { drop: null }], text: "meta mark 1 drop" };
    assert.deepEqual(decided(evaluateNftPath(r, vxlan, ARRIVAL)), ["drop", "input #3: udp dport 8472 drop"]);
    r.rules[1] = { ...r.rules[1]!, expr: [{ accept: null }], text: "accept" };
    r.rules[0] = { ...r.rules[0]!, expr: [r.rules[0]!.expr[0], { accept: null }], text: "meta mark 1 accept" };
    assert.equal(evaluateNftPath(r, vxlan, ARRIVAL).verdict, "accept");
  });

  test("named sets are looked up", () => {
    assert.equal(arrive("named-set", { saddr: "192.168.56.101" }).verdict, "accept");
    assert.deepEqual(decided(arrive("named-set")), ["drop", "input #4: udp dport 8472 counter drop"]);
  });

  test("verdict maps dispatch by interface; no element, no verdict", () => {
    assert.equal(arrive("vmap-zones").verdict, "accept");
    assert.deepEqual(decided(arrive("vmap-zones", { iifname: "eth1" })), ["drop", "zone_external #8: udp dport 8472 drop"]);
    assert.equal(arrive("vmap-zones", { iifname: "eth2" }).verdict, "accept");
    assert.equal(arrive("vmap-zones", { iifname: undefined }).verdict, "unknown");
  });

  test("a base chain's policy decides what no rule accepts", () => {
    const v = arrive("policy-drop");
    assert.deepEqual(decided(v), ["drop", "policy of input"]);
    assert.equal(v.rule, undefined);
    assert.equal(arrive("policy-drop", { l4proto: "tcp", dport: 22 }).verdict, "accept");
  });

  test("an accept ends only its base chain: a later base chain of the hook still rejects", () => {
    const v = evaluateNft(load("two-tables"), {
      hook: "forward",
      l4proto: "tcp",
      dport: 8080,
      iifname: "flannel.1",
      oifname: "cni0",
      saddr: "10.244.1.5",
      daddr: "10.244.0.5",
    });
    assert.deepEqual(decided(v), ["drop", "filter_FORWARD #5: reject with icmpx admin-prohibited"]);
    assert.deepEqual(v.walked, ["ip flannel-ipv4 forward", "inet firewalld filter_FORWARD"], "in priority order");
  });

  test("ingress: nft 1.0.6 does not print the device, so a drop there is unknown; with the device (edited), it decides", () => {
    const v = arrive("netdev-ingress");
    assert.deepEqual(decided(v), ["unknown", "eth0_ingress #2: udp dport 8472 drop"]);
    assert.match(v.reason ?? "", /does not print which device/);
    const r = load("netdev-ingress");
    r.chains[0] = { ...r.chains[0]!, devices: ["eth0"] };
    assert.equal(evaluateNftPath(r, vxlan, ARRIVAL).verdict, "drop");
    assert.equal(evaluateNftPath(r, { ...vxlan, iifname: "eth1" }, ARRIVAL).verdict, "accept");
  });

  test("after xnode's fix: the peers in the accept get in, others still hit the drop", () => {
    assert.equal(arrive("firewalld-input-fixed", { saddr: "192.168.56.101" }).verdict, "accept");
    assert.deepEqual(decided(arrive("firewalld-input-fixed", { saddr: "192.168.56.104" })), ["drop", "filter_INPUT #5: udp dport 8472 drop"]);
  });

  test("never accept on what could not be read (edited); a drop stands", () => {
    const unreadableRule = load("firewalld-input-drop");
    unreadableRule.rules[1] = { ...unreadableRule.rules[1]!, expr: [], text: "(unreadable)", unreadable: "rule printed in a form xnode cannot read" };
    assert.equal(evaluateNftPath(unreadableRule, { ...vxlan, dport: 4789 }, ARRIVAL).verdict, "unknown");
    const unreadableChain = load("firewalld-input-drop");
    unreadableChain.chains[0] = { ...unreadableChain.chains[0]!, unreadable: "a base chain without its type, hook or priority" };
    assert.equal(evaluateNftPath(unreadableChain, { ...vxlan, dport: 4789 }, ARRIVAL).verdict, "unknown");
    const stray = load("firewalld-input-drop");
    stray.unreadable.push('object "hook-list" xnode does not read');
    assert.equal(evaluateNftPath(stray, { ...vxlan, dport: 4789 }, ARRIVAL).verdict, "unknown");
    assert.equal(evaluateNftPath(stray, vxlan, ARRIVAL).verdict, "drop");
  });

  test("a jump loop ends in unknown, not in a hang or an accept (edited)", () => {
    const r = load("vmap-zones");
    r.rules.push({
      family: "inet",
      table: "filter",
      chain: "zone_internal",
      handle: 99,
      expr: [{ jump: { target: "zone_internal" } }],
      text: "jump zone_internal",
    });
    r.rules.splice(
      r.rules.findIndex((x) => x.handle === 6),
      1,
    );
    const v = arrive("vmap-zones");
    assert.equal(evaluateNftPath(r, vxlan, ARRIVAL).verdict, "unknown");
    assert.equal(v.verdict, "accept");
  });
});

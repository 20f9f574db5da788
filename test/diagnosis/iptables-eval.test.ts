// The evaluator on iptables-save output captured from real rule sets.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { evaluateChain, namesDestinationPort, type Packet } from "../../src/diagnosis/iptables-eval.js";
import { parseIptables } from "./fixtures.js";

const rules = (name: string) => parseIptables(readFileSync(new URL(`../fixtures/probes/iptables/${name}.rules`, import.meta.url), "utf8"));

describe("evaluateChain", () => {
  const blocked = rules("rules-vxlan-blocked");
  const input = (p: Partial<Packet>) =>
    evaluateChain(blocked, "filter", "INPUT", { protocol: "udp", src: "10.1.1.1", dst: "192.168.56.102", inIface: "enp0s8", ...p });

  test("a source-restricted drop of the VXLAN port", () => {
    const v = input({ src: "192.168.56.101", dport: 8472 });
    assert.equal(v.verdict, "drop");
    assert.equal(v.rule?.spec, "-s 192.168.56.0/24 -p udp -m udp --dport 8472 -j DROP");
  });

  test("a negated port does not match that port; a multiport range does", () => {
    assert.equal(input({ src: "192.168.56.50", dport: 53 }).rule?.spec, "-p udp -m udp ! --dport 8472 -s 192.168.56.50/32 -j DROP");
    assert.equal(input({ dport: 8472 }).rule?.spec, "-p udp -m multiport --dports 4789,8400:8500 -j REJECT --reject-with icmp-port-unreachable");
    assert.deepEqual(input({ dport: 9000 }), { verdict: "accept", table: "filter", chain: "INPUT", policy: "ACCEPT" });
  });

  test("tcp ranges and accepts; an interface match", () => {
    assert.equal(input({ protocol: "tcp", dport: 30080 }).verdict, "drop");
    assert.equal(input({ protocol: "tcp", dport: 22 }).verdict, "accept");
    assert.equal(input({ protocol: "udp", dport: 8472, inIface: "lo" }).rule?.spec, "-i lo -j ACCEPT");
  });

  test("into user chains: FORWARD policy DROP, pod traffic accepted by FLANNEL-FWD past KUBE-FORWARD", () => {
    const state = rules("rules-flannel-forward");
    const pod = { protocol: "tcp" as const, dport: 8080, src: "10.244.1.5", dst: "10.244.0.7", inIface: "flannel.1", outIface: "cni0" };
    const v = evaluateChain(state, "filter", "FORWARD", pod);
    assert.equal(v.verdict, "accept");
    assert.equal(v.rule?.chain, "FLANNEL-FWD");
    assert.deepEqual(evaluateChain(state, "filter", "FORWARD", { ...pod, src: "192.0.2.1", dst: "198.51.100.1" }).policy, "DROP");
  });

  test("RETURN, goto, and matches it does not model", () => {
    const state = parseIptables(
      [
        "*filter",
        ":INPUT ACCEPT [0:0]",
        ":A - [0:0]",
        ":B - [0:0]",
        "-A INPUT -j A",
        "-A INPUT -p udp -m set --match-set blocked src -j DROP",
        "-A INPUT -p udp --dport 1 -j DROP",
        "-A A -p udp --dport 2 -j RETURN",
        "-A A -p udp --dport 2 -j DROP",
        "-A A -g B",
        "-A A -p udp -j DROP",
        "-A B -p udp --dport 3 -j DROP",
        "COMMIT",
        "",
      ].join("\n"),
    );
    const udp = (dport: number) => evaluateChain(state, "filter", "INPUT", { protocol: "udp", src: "10.0.0.1", dst: "10.0.0.2", dport });
    assert.equal(udp(1).rule?.spec, "-p udp --dport 1 -j DROP", "the ipset rule is skipped, not guessed");
    assert.equal(udp(2).verdict, "accept", "RETURN leaves A before its DROP, and nothing after drops port 2");
    assert.equal(udp(3).rule?.spec, "-p udp --dport 3 -j DROP");
    assert.equal(udp(4).verdict, "accept", "a goto that falls through returns past A");
  });

  test("another table, and a table never loaded", () => {
    const state = parseIptables("*mangle\n:PREROUTING ACCEPT [0:0]\n-A PREROUTING -p tcp -m tcp --dport 31080 -j DROP\nCOMMIT\n");
    const tcp = { protocol: "tcp" as const, src: "10.0.0.1", dst: "10.0.0.2", dport: 31080 };
    assert.equal(evaluateChain(state, "mangle", "PREROUTING", tcp).verdict, "drop");
    assert.deepEqual(evaluateChain(state, "filter", "INPUT", tcp), { verdict: "accept", table: "filter", chain: "INPUT", policy: "ACCEPT" });
  });

  test("namesDestinationPort tells a port rule from a catch-all", () => {
    assert.ok(namesDestinationPort({ table: "filter", chain: "INPUT", spec: "-p udp -m multiport --dports 8472 -j DROP" }));
    assert.ok(!namesDestinationPort({ table: "filter", chain: "INPUT", spec: "-j REJECT --reject-with icmp-host-prohibited" }));
  });
});

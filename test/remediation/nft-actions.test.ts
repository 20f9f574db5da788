// The nft commands of open-vxlan-port: which argv xnode accepts to run, how it
// verifies one against the chain read back (a fake node shell answering with
// captured `nft -j` output), and the rollback it plans.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { nftAcceptArgv } from "../../src/diagnosis/remediation/plan-host-fixes.js";
import type { ExecResult } from "../../src/kube/types.js";
import type { AppliedCommand } from "../../src/remediation/apply-host-commands.js";
import { describeDrift } from "../../src/remediation/fingerprint.js";
import { parseHostAction } from "../../src/remediation/host-actions.js";
import { acceptOf, nftAcceptWords, nftHead, type NftAction } from "../../src/remediation/nft-actions.js";
import { applyNft } from "../../src/remediation/nft-exec.js";
import type { NodeShell } from "../../src/remediation/node-exec.js";
import { rollbackPlanFor } from "../../src/remediation/rollback.js";
import { nftablesProbe } from "../../src/probes/nftables.js";

const raw = (name: string) => readFileSync(new URL(`../fixtures/probes/nftables/${name}.json`, import.meta.url), "utf8");
const spot = { family: "inet", table: "firewalld", chain: "filter_INPUT", beforeHandle: 5 };
const fix = nftAcceptArgv(spot, ["192.168.56.101", "192.168.56.103"], "udp", 8472);
const nft = (argv: string[]) => parseHostAction(argv) as NftAction;

describe("nft host actions", () => {
  test("the plan's insert parses into what it does", () => {
    assert.deepEqual(fix, [
      "nft",
      "insert",
      "rule",
      "inet",
      "firewalld",
      "filter_INPUT",
      "position",
      "5",
      "ip",
      "saddr",
      "{ 192.168.56.101, 192.168.56.103 }",
      "udp",
      "dport",
      "8472",
      "accept",
      "comment",
      "xnode-open-vxlan-port",
    ]);
    assert.deepEqual(parseHostAction(fix), {
      kind: "nft",
      op: "insert",
      family: "inet",
      table: "firewalld",
      chain: "filter_INPUT",
      position: 5,
      rule: { sources: ["192.168.56.101", "192.168.56.103"], proto: "udp", dport: 8472, comment: "xnode-open-vxlan-port" },
    });
    const one = nftAcceptArgv({ family: "netdev", table: "edge", chain: "eth0_ingress" }, ["10.0.0.1"], "udp", 4789);
    const single = nft(one);
    assert.ok(single.op === "insert");
    assert.deepEqual(single.rule, { sources: ["10.0.0.1"], proto: "udp", dport: 4789, comment: "xnode-open-vxlan-port" });
    assert.deepEqual(parseHostAction(["nft", "delete", "rule", "inet", "firewalld", "filter_INPUT", "handle", "7"]), {
      kind: "nft",
      op: "delete",
      family: "inet",
      table: "firewalld",
      chain: "filter_INPUT",
      handle: 7,
    });
  });

  test("the words round-trip: head and accept words rebuild the argv", () => {
    const a = nft(fix);
    assert.ok(a.op === "insert");
    assert.deepEqual([...nftHead("insert", a), "position", String(a.position), ...nftAcceptWords(a.rule)], fix);
  });

  for (const [why, argv] of [
    ["flushing", ["nft", "flush", "ruleset"]],
    ["loading a file", ["nft", "-f", "/tmp/rules.nft"]],
    ["a drop", ["nft", "insert", "rule", "inet", "firewalld", "filter_INPUT", "ip", "saddr", "10.0.0.1", "udp", "dport", "8472", "drop"]],
    ["a second command in the table name", ["nft", "insert", "rule", "inet", "firewalld;", "flush", "ruleset"]],
    [
      "a second command in the addresses",
      ["nft", "insert", "rule", "inet", "firewalld", "filter_INPUT", "ip", "saddr", "{ 10.0.0.1; flush ruleset }", "udp", "dport", "8472", "accept"],
    ],
    [
      "a comment with a space",
      ["nft", "add", "rule", "inet", "firewalld", "filter_INPUT", "ip", "saddr", "10.0.0.1", "udp", "dport", "8472", "accept", "comment", "a b"],
    ],
    [
      "words after the rule",
      ["nft", "add", "rule", "inet", "firewalld", "filter_INPUT", "ip", "saddr", "10.0.0.1", "udp", "dport", "8472", "accept", "counter"],
    ],
    [
      "a position on add",
      ["nft", "add", "rule", "inet", "firewalld", "filter_INPUT", "position", "5", "ip", "saddr", "10.0.0.1", "udp", "dport", "8472", "accept"],
    ],
    ["a delete without a handle", ["nft", "delete", "rule", "inet", "firewalld", "filter_INPUT"]],
    ["the ip6 family", ["nft", "add", "rule", "ip6", "filter", "input", "ip", "saddr", "10.0.0.1", "udp", "dport", "8472", "accept"]],
    [
      "a table name nft would read as an option",
      ["nft", "add", "rule", "inet", "-f", "filter_INPUT", "ip", "saddr", "10.0.0.1", "udp", "dport", "8472", "accept"],
    ],
  ] as const) {
    test(`refuses ${why}`, () => {
      assert.throws(() => parseHostAction([...argv]), /xnode cannot run .* as part of a fix/);
    });
  }

  test("reads xnode's accept back from nft -j, a one-address set as nft prints it bare", () => {
    const rules = nftablesProbe.parse(raw("chain-firewalld-input-fixed")).rules;
    assert.deepEqual(acceptOf(rules.find((r) => r.handle === 7)!), { sources: ["192.168.56.101", "192.168.56.103"], proto: "udp", dport: 8472 });
    assert.equal(acceptOf(rules.find((r) => r.handle === 5)!), undefined, "a drop is not an accept");
    assert.deepEqual(
      acceptOf({
        expr: [...rules.find((r) => r.handle === 7)!.expr].map((e, i) =>
          i === 0 ? { match: { op: "==", left: { payload: { protocol: "ip", field: "saddr" } }, right: "10.0.0.1" } } : e,
        ),
        comment: "xnode-open-vxlan-port",
      }),
      {
        sources: ["10.0.0.1"],
        proto: "udp",
        dport: 8472,
        comment: "xnode-open-vxlan-port",
      },
    );
  });
});

/** A node shell that answers `nft -j list chain` with `listings` in turn and records what ran. */
function fakeShell(listings: string[]): NodeShell & { ran: string[][] } {
  const ran: string[][] = [];
  const answer = (argv: string[]): ExecResult => {
    ran.push(argv);
    return { exitCode: 0, stdout: argv.includes("-j") ? (listings.shift() ?? "") : "", stderr: "", durationMs: 1 };
  };
  return { node: "wrk-02", ran, exec: async (argv) => answer(argv), run: async (argv) => answer(argv).stdout };
}

describe("applyNft", () => {
  const fixWithoutComment = fix.slice(0, -2);

  test("an insert is verified by reading the chain back: a new rule like it, right before the position", async () => {
    const shell = fakeShell([raw("firewalld-input-drop"), raw("chain-firewalld-input-fixed")]);
    const done = await applyNft(shell, fixWithoutComment, nft(fixWithoutComment));
    assert.equal(done.failure, undefined);
    assert.deepEqual(done.record, { kind: "nft", handle: 7 });
    assert.equal(
      done.verified,
      'nft list chain inet firewalld filter_INPUT: "ip saddr { 192.168.56.101, 192.168.56.103 } udp dport 8472 accept" as handle 7, before handle 5',
    );
    assert.deepEqual(shell.ran, [
      ["nft", "-j", "list", "chain", "inet", "firewalld", "filter_INPUT"],
      fixWithoutComment,
      ["nft", "-j", "list", "chain", "inet", "firewalld", "filter_INPUT"],
    ]);
  });

  test("a rule that did not appear fails verification; one in the wrong place fails but is still recorded for the rollback", async () => {
    const none = await applyNft(fakeShell([raw("firewalld-input-drop"), raw("firewalld-input-drop")]), fixWithoutComment, nft(fixWithoutComment));
    assert.match(none.failure?.message ?? "", /did not take effect: .*0 new rules like it \(of 0 new\)/);
    assert.deepEqual(none.record, { kind: "nft" });
    const elsewhere = fixWithoutComment.map((w) => (w === "5" ? "4" : w));
    const misplaced = await applyNft(fakeShell([raw("firewalld-input-drop"), raw("chain-firewalld-input-fixed")]), elsewhere, nft(elsewhere));
    assert.match(misplaced.failure?.message ?? "", /rule handle 7 is not before handle 4/);
    assert.deepEqual(misplaced.record, { kind: "nft", handle: 7 });
  });

  test("a delete by handle is verified gone, and records the rule and where it stood", async () => {
    const del = ["nft", "delete", "rule", "inet", "firewalld", "filter_INPUT", "handle", "7"];
    const done = await applyNft(fakeShell([raw("chain-firewalld-input-fixed"), raw("firewalld-input-drop")]), del, nft(del));
    assert.equal(done.failure, undefined);
    assert.deepEqual(done.record, {
      kind: "nft",
      deleted: { rule: { sources: ["192.168.56.101", "192.168.56.103"], proto: "udp", dport: 8472 }, beforeHandle: 5 },
    });
  });
});

describe("rollback of nft commands", () => {
  const applied = (argv: string[], record: AppliedCommand["record"]) =>
    rollbackPlanFor({
      kind: "host-commands",
      plan: { kind: "open-vxlan-port", summary: "open it" },
      commands: [{ node: "wrk-02", argv, record, verified: "", durationMs: 1 }],
    });

  test("an inserted rule is deleted by the handle it got", () => {
    const plan = applied(fix, { kind: "nft", handle: 7 });
    assert.deepEqual(plan.commands, [{ node: "wrk-02", argv: ["nft", "delete", "rule", "inet", "firewalld", "filter_INPUT", "handle", "7"] }]);
    assert.match(plan.risks.join(" "), /Removes the nftables rule the fix inserted/);
    assert.deepEqual(applied(fix, { kind: "nft" }).commands, [], "no handle, nothing to undo");
  });

  test("a deleted rule comes back where it stood (undoing a rollback)", () => {
    const del = ["nft", "delete", "rule", "inet", "firewalld", "filter_INPUT", "handle", "7"];
    const rule = { sources: ["192.168.56.101", "192.168.56.103"], proto: "udp" as const, dport: 8472, comment: "xnode-open-vxlan-port" };
    assert.deepEqual(applied(del, { kind: "nft", deleted: { rule, beforeHandle: 5 } }).commands?.[0]?.argv, fix);
    assert.deepEqual(applied(del, { kind: "nft", deleted: { rule } }).commands?.[0]?.argv, [
      "nft",
      "add",
      "rule",
      "inet",
      "firewalld",
      "filter_INPUT",
      ...fix.slice(8),
    ]);
  });

  test("drift in the edited chain is named", () => {
    assert.equal(describeDrift({ nftables: { "wrk-02": "a" } }, { nftables: { "wrk-02": "b" } }), "nftables rules on wrk-02 changed since the plan was made");
    assert.equal(describeDrift({ nftables: { "wrk-02": "a" } }, { nftables: { "wrk-02": "a" } }), undefined);
  });
});

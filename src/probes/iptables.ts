// iptables rules and chain policies as iptables-save prints them, plus the few
// questions diagnosis asks of them. A node may keep rules in both backends
// (iptables-legacy and iptables-nft, each with its own netfilter hooks), so a
// check reads each with its own save command; native nftables tables are
// read apart (nftables.ts).
//
// Version skew: an iptables older than the one that wrote the rules may print
// a table as "incompatible" or a rule wrongly (kubernetes#112477: a `-m mark`
// rule printed as a bare `-j DROP`). Such a table is recorded as unreadable,
// so nothing is concluded from it. What the output does not give away is not
// caught: iptables-nft 1.8.9 prints a rule added with nft as `tcp dport
// { 80, 443 } accept` as `-p tcp -j ACCEPT`, with no sign of the set.
import type { IptablesRule, IptablesState } from "../model/index.js";
import { ProbeOutputError, type Probe } from "./probe.js";

/** Rules kubelet and kube-proxy always write with `-m mark`: seen without it, the mark match was lost in printing. */
const MARK_RULES: readonly { chain: string; comment: string }[] = [
  { chain: "KUBE-FIREWALL", comment: "kubernetes firewall for dropping marked packets" },
  { chain: "KUBE-FORWARD", comment: "kubernetes forwarding rules" },
];

/** Why a rule line shows that this iptables cannot print the table faithfully; undefined when nothing shows. */
function misprint(chain: string, spec: string): string | undefined {
  if (spec.includes("[unsupported revision]"))
    return `-A ${chain} printed with "[unsupported revision]": this iptables is older than the one that wrote the rule`;
  const known = MARK_RULES.find((m) => m.chain === chain && spec.includes(`"${m.comment}"`));
  if (known && !ruleTokens(spec).includes("--mark")) {
    return `-A ${chain} "${known.comment}" printed without its -m mark match (kubernetes#112477): this iptables is older than the one that wrote the rules`;
  }
  return undefined;
}

/** Comments iptables-nft prints for a table (or part of one) it cannot show: ≤ 1.8.8 skips the table, 1.8.9 prints what it can. */
function incompatibleTable(comment: string): { table: string; reason: string } | undefined {
  const m = /^# Table `([^']+)' (is incompatible|contains incompatible base-chains)/.exec(comment);
  if (!m) return undefined;
  const reason =
    m[2] === "is incompatible"
      ? "iptables-nft cannot show it (rules written by nft or a newer iptables)"
      : "it holds base chains added with nft, which iptables-nft cannot show";
  return { table: m[1]!, reason };
}

function parse(name: string, stdout: string): IptablesState {
  const state: IptablesState = { policies: [], rules: [] };
  const unreadable = new Map<string, string>();
  let table: string | undefined;
  const fail = (detail: string, line: string): never => {
    throw new ProbeOutputError(name, detail, line);
  };
  for (const raw of stdout.split("\n")) {
    const line = raw.trim();
    if (line.startsWith("#")) {
      const skipped = incompatibleTable(line);
      if (skipped && !unreadable.has(skipped.table)) unreadable.set(skipped.table, skipped.reason);
      continue;
    }
    if (line === "") continue;
    if (line.startsWith("*")) {
      if (table) fail(`table ${line} starts before *${table} was committed`, line);
      table = line.slice(1);
    } else if (line === "COMMIT") {
      if (!table) fail("COMMIT outside a table", line);
      table = undefined;
    } else if (!table) {
      fail("line outside a table", line);
    } else if (line.startsWith(":")) {
      // ":CHAIN POLICY [packets:bytes]"; user chains have policy "-"
      const m = /^:(\S+) (\S+)(?: \[\d+:\d+\])?$/.exec(line) ?? fail("unreadable chain line", line);
      state.policies.push({ table, chain: m[1]!, policy: m[2]! });
    } else if (line.startsWith("-A ")) {
      // a bare "-A CHAIN" (a counting rule) has an empty spec
      const m = /^-A (\S+)(?: (.*))?$/.exec(line) ?? fail("unreadable rule line", line);
      const rule = { table, chain: m[1]!, spec: m[2] ?? "" };
      state.rules.push(rule);
      const why = misprint(rule.chain, rule.spec);
      if (why && !unreadable.has(table)) unreadable.set(table, why);
    } else {
      fail("unexpected line", line);
    }
  }
  // a cut-off stream (exec timeout, truncated output) ends inside a table
  if (table) fail(`*${table} was never committed (output truncated?)`, stdout.slice(-120));
  if (unreadable.size > 0) state.unreadable = [...unreadable].map(([t, reason]) => ({ table: t, reason }));
  return state;
}

/**
 * The agent's own `iptables-save`: its wrapper picks the backend holding more
 * rules (deploy/agent-image/iptables-wrapper). What checks before xnode read
 * both backends recorded; fixes on a node whose rules are all in nft still
 * run through that `iptables`. An empty output is real: iptables-save prints
 * nothing when no table is loaded.
 */
export const iptablesProbe: Probe<void, IptablesState> = {
  name: "iptables",
  agent: "host",
  argv: () => ["iptables-save"],
  parse: (stdout) => parse("iptables", stdout),
};

/** The legacy backend (x_tables): empty when no legacy table exists; a missing tool fails the probe, which is not the same. */
export const iptablesLegacyProbe: Probe<void, IptablesState> = {
  name: "iptables-legacy",
  agent: "host",
  argv: () => ["iptables-legacy-save"],
  parse: (stdout) => parse("iptables-legacy", stdout),
};

/** The nft backend (iptables' tables in nf_tables: ip filter, ip nat, …): empty when none exists. */
export const iptablesNftProbe: Probe<void, IptablesState> = {
  name: "iptables-nft",
  agent: "host",
  argv: () => ["iptables-nft-save"],
  parse: (stdout) => parse("iptables-nft", stdout),
};

/** Why `table` of `state` cannot be read, or undefined when it can. */
export function unreadableTable(state: IptablesState, table: string): string | undefined {
  return state.unreadable?.find((u) => u.table === table)?.reason;
}

/** Whether the backend holds anything at all (iptables-save printed a table, or said it could not). */
export function holdsTables(state: IptablesState): boolean {
  return state.policies.length > 0 || state.rules.length > 0 || (state.unreadable?.length ?? 0) > 0;
}

export function chainPolicy(state: IptablesState, table: string, chain: string): string | undefined {
  return state.policies.find((p) => p.table === table && p.chain === chain)?.policy;
}

export function rulesIn(state: IptablesState, table: string, chain: string): IptablesRule[] {
  return state.rules.filter((r) => r.table === table && r.chain === chain);
}

/** Whether CHAIN jumps (-j) or goes (-g) to TARGET, e.g. FORWARD → FLANNEL-FWD. */
export function hasJump(state: IptablesState, table: string, chain: string, target: string): boolean {
  return rulesIn(state, table, chain).some((r) => {
    const t = ruleTokens(r.spec);
    return t.some((tok, i) => (tok === "-j" || tok === "-g") && t[i + 1] === target);
  });
}

/** "8472", "30000:32767" or multiport's "4789,8400:8500" */
export function portListHas(list: string, port: number): boolean {
  return list.split(",").some((item) => {
    const [low, high] = item.includes(":") ? item.split(":") : [item, item];
    return port >= Number(low || 0) && port <= Number(high || 65535);
  });
}

/** A rule's words; iptables-save quotes arguments with spaces (comments) in "…" with \" escapes. */
export function ruleTokens(spec: string): string[] {
  return [...spec.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]!));
}

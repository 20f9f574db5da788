// iptables rules and chain policies (`iptables-save`), plus the few questions
// diagnosis asks of them. Only what iptables-save prints is visible: rules in
// iptables-legacy tables (when this is the nft variant) or native nftables are not.
import type { IptablesRule, IptablesState } from "../model/index.js";
import { ProbeOutputError, type Probe } from "./probe.js";

const name = "iptables";

function parse(stdout: string): IptablesState {
  const state: IptablesState = { policies: [], rules: [] };
  let table: string | undefined;
  const fail = (detail: string, line: string): never => {
    throw new ProbeOutputError(name, detail, line);
  };
  for (const raw of stdout.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
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
      state.rules.push({ table, chain: m[1]!, spec: m[2] ?? "" });
    } else {
      fail("unexpected line", line);
    }
  }
  // a cut-off stream (exec timeout, truncated output) ends inside a table
  if (table) fail(`*${table} was never committed (output truncated?)`, stdout.slice(-120));
  return state;
}

/** An empty output is real: iptables-save prints nothing when no table is loaded. */
export const iptablesProbe: Probe<void, IptablesState> = {
  name,
  agent: "host",
  argv: () => ["iptables-save"],
  parse,
};

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

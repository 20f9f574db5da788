// What a node's iptables does with one packet: walks a built-in chain of a
// table rule by rule, into user chains, down to the policy. Only
// matches it understands decide; a rule with any other match (marks, ipsets,
// addrtype, …) is skipped, so a verdict never rests on a guess about it.
import type { IptablesRule, IptablesState } from "../model/index.js";
import { chainPolicy, portListHas, ruleTokens, rulesIn, unreadableTable } from "../probes/iptables.js";
import { cidrContains } from "./ipv4.js";

export interface Packet {
  protocol: "udp" | "tcp" | "icmp";
  src: string;
  dst: string;
  dport?: number;
  inIface?: string;
  outIface?: string;
}

export interface Verdict {
  /** "unknown": the table could not be read (version skew), so it neither accepts nor drops here */
  verdict: "accept" | "drop" | "unknown";
  table: string;
  chain: string;
  /** the rule that decided; absent when the chain's policy did */
  rule?: IptablesRule;
  /** the built-in chain's policy, when it decided */
  policy?: string;
  /** why the table could not be read, with "unknown" */
  unreadable?: string;
}

interface Condition {
  option: string;
  value: string;
  negated: boolean;
}

interface ParsedRule {
  conditions: Condition[];
  target?: string;
  isGoto: boolean;
  /** the rule uses a match this evaluator does not model */
  opaque: boolean;
}

const OPTION_ALIASES: Record<string, string> = {
  "--source": "-s",
  "--destination": "-d",
  "--in-interface": "-i",
  "--out-interface": "-o",
  "--protocol": "-p",
  "--destination-port": "--dport",
  "--destination-ports": "--dports",
  "--state": "--ctstate",
};
const MODELLED_OPTIONS = new Set(["-s", "-d", "-i", "-o", "-p", "--dport", "--dports", "--ctstate", "--comment"]);
const MODELLED_MODULES = new Set(["comment", "udp", "tcp", "icmp", "multiport", "conntrack", "state"]);
const PROTOCOL_NUMBERS: Record<string, string> = { "1": "icmp", "6": "tcp", "17": "udp" };
const MAX_CHAIN_DEPTH = 16;

// parseRule's answers by spec: every node's ruleset repeats the same rules, and the rules are asked about every pair of nodes
const parsedRules = new Map<string, ParsedRule>();
const PARSED_RULES_MAX = 50_000;

function parseRule(spec: string): ParsedRule {
  const known = parsedRules.get(spec);
  if (known) return known;
  if (parsedRules.size >= PARSED_RULES_MAX) parsedRules.clear();
  const parsed = parseRuleText(spec);
  parsedRules.set(spec, parsed);
  return parsed;
}

function parseRuleText(spec: string): ParsedRule {
  const t = ruleTokens(spec);
  const rule: ParsedRule = { conditions: [], isGoto: false, opaque: false };
  let negated = false;
  for (let i = 0; i < t.length; i++) {
    const tok = t[i]!;
    if (tok === "!") {
      negated = true;
      continue;
    }
    if (tok === "-j" || tok === "--jump" || tok === "-g" || tok === "--goto") {
      rule.target = t[i + 1];
      rule.isGoto = tok === "-g" || tok === "--goto";
      break; // what follows are the target's own options (--reject-with, …)
    }
    const option = OPTION_ALIASES[tok] ?? tok;
    if (option === "-m" || option === "--match") {
      if (!MODELLED_MODULES.has(t[i + 1] ?? "")) rule.opaque = true;
      i++;
    } else if (MODELLED_OPTIONS.has(option)) {
      rule.conditions.push({ option, value: t[i + 1] ?? "", negated });
      i++;
    } else if (option.startsWith("-")) {
      rule.opaque = true;
    }
    negated = false;
  }
  return rule;
}

function interfaceMatches(pattern: string, name: string): boolean {
  return pattern.endsWith("+") ? name.startsWith(pattern.slice(0, -1)) : name === pattern;
}

/** true/false, or undefined when the packet does not say (an interface it has no name for). */
function conditionHolds(c: Condition, p: Packet): boolean | undefined {
  switch (c.option) {
    case "-s":
      return c.value.split(",").some((cidr) => cidrContains(cidr, p.src));
    case "-d":
      return c.value.split(",").some((cidr) => cidrContains(cidr, p.dst));
    case "-i":
      return p.inIface === undefined ? undefined : interfaceMatches(c.value, p.inIface);
    case "-o":
      return p.outIface === undefined ? undefined : interfaceMatches(c.value, p.outIface);
    case "-p": {
      const proto = PROTOCOL_NUMBERS[c.value] ?? c.value.toLowerCase();
      return proto === "all" || proto === "0" || proto === p.protocol;
    }
    case "--dport":
    case "--dports":
      return p.dport !== undefined && portListHas(c.value, p.dport);
    case "--ctstate":
      // what we ask about is always the first packet of a flow
      return c.value.split(",").includes("NEW");
    default:
      return true; // --comment
  }
}

function matches(rule: ParsedRule, p: Packet): boolean {
  if (rule.opaque) return false;
  return rule.conditions.every((c) => {
    const holds = conditionHolds(c, p);
    return holds !== undefined && holds !== c.negated;
  });
}

type WalkResult = { decided: Verdict } | "fell-through";

function walk(state: IptablesState, table: string, chain: string, p: Packet, depth: number): WalkResult {
  for (const rule of rulesIn(state, table, chain)) {
    const parsed = parseRule(rule.spec);
    if (!parsed.target || !matches(parsed, p)) continue;
    if (parsed.target === "ACCEPT") return { decided: { verdict: "accept", table, chain: rule.chain, rule } };
    if (parsed.target === "DROP" || parsed.target === "REJECT") return { decided: { verdict: "drop", table, chain: rule.chain, rule } };
    if (parsed.target === "RETURN") return "fell-through";
    const isUserChain = chainPolicy(state, table, parsed.target) !== undefined || rulesIn(state, table, parsed.target).length > 0;
    if (!isUserChain || depth >= MAX_CHAIN_DEPTH) continue; // LOG, MARK, DNAT, …: not deciding here
    const sub = walk(state, table, parsed.target, p, depth + 1);
    // a goto that falls through returns past this chain too
    if (sub !== "fell-through" || parsed.isGoto) return sub;
  }
  return "fell-through";
}

/** The verdict of a built-in chain (filter INPUT, mangle PREROUTING, …) for `p`. */
export function evaluateChain(state: IptablesState, table: string, chain: string, p: Packet): Verdict {
  const unreadable = unreadableTable(state, table);
  if (unreadable) return { verdict: "unknown", table, chain, unreadable };
  const result = walk(state, table, chain, p, 0);
  if (result !== "fell-through") return result.decided;
  // a table that was never loaded has no policy line: the kernel accepts
  const policy = chainPolicy(state, table, chain) ?? "ACCEPT";
  return { verdict: policy === "DROP" ? "drop" : "accept", table, chain, policy };
}

/** Every address range a rule of `state` matches the source against (-s, split at commas): sources inside the same ones meet the same verdicts. */
export function sourceRanges(state: IptablesState): string[] {
  return [...new Set(state.rules.flatMap((r) => parseRule(r.spec).conditions.flatMap((c) => (c.option === "-s" ? c.value.split(",") : []))))];
}

/** Whether the rule names a destination port: a deliberate block of that port, not a catch-all. */
export function namesDestinationPort(rule: IptablesRule): boolean {
  return parseRule(rule.spec).conditions.some((c) => c.option === "--dport" || c.option === "--dports");
}

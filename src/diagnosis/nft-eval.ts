// What a node's native nftables do with one IPv4 packet: the base chains of
// each hook it passes, in priority order across tables, each walked rule by
// rule through jump/goto/return down to its policy, with nft's semantics:
// drop and reject are final; accept ends only its base chain, so a later base
// chain of the same hook still runs; a chain that falls through ends in its
// policy. A match xnode cannot evaluate (a mark, a rate, a routing lookup) is
// followed both ways: if both lead to the same verdict that is the verdict,
// otherwise it is "unknown" with that rule as the evidence. Never "accept" on
// a guess. A drop is robust to what could not be read elsewhere: no other
// base chain can undo it.
//
// Tables that iptables-nft owns (ip filter, nat, mangle, raw, security with
// iptables' built-in chain names) are skipped: iptables-save prints them and
// the iptables evaluator (iptables-eval.ts) already covers them, with the
// options nft cannot print (xt extensions). Only ip and inet tables see IPv4
// at prerouting/input/forward, and netdev (or inet) ingress chains before them;
// bridge tables only see bridged frames and are not walked.
import type { NftChain, NftRule, NftRuleset } from "../model/index.js";
import { classifyStatement } from "../probes/nft-expr.js";
import { nftChainName } from "../probes/nftables.js";
import { evalMatch, evalVmap, type MatchContext, type NftHook, type NftPacket } from "./nft-match.js";

export type { NftHook, NftPacket } from "./nft-match.js";

export interface NftRuleRef {
  family: string;
  table: string;
  chain: string;
  handle: number;
  text: string;
}

export interface NftVerdict {
  verdict: "accept" | "drop" | "unknown";
  /** the base chain that decided (drop, unknown) */
  chain?: NftChain;
  /** the rule that dropped, or the one xnode could not evaluate; absent when a base chain's policy decided */
  rule?: NftRuleRef;
  /** unknown: what could not be evaluated */
  reason?: string;
  /** base chains walked, in order: "inet firewalld filter_INPUT" */
  walked: string[];
}

const IPTABLES_TABLES = new Set(["filter", "nat", "mangle", "raw", "security"]);
const IPTABLES_CHAINS = new Set(["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"]);
/** the kernel's limit on nested jumps */
const MAX_JUMPS = 16;
/** rule steps per base chain, over all the paths unknown matches fork */
const STEP_BUDGET = 20_000;

/** A table iptables-nft made: an ip/ip6 table of iptables' name whose base chains all carry iptables' built-in names. */
export function ownedByIptables(ruleset: NftRuleset, family: string, table: string): boolean {
  if ((family !== "ip" && family !== "ip6") || !IPTABLES_TABLES.has(table)) return false;
  const base = ruleset.chains.filter((c) => c.family === family && c.table === table && c.hook !== undefined);
  return base.every((c) => IPTABLES_CHAINS.has(c.name));
}

function familiesFor(hook: NftHook): Set<string> {
  return new Set(hook === "ingress" ? ["netdev", "inet"] : ["ip", "inet"]);
}

/** The base chains a packet passes at `hook`, lowest priority first (ties in listing order). */
export function baseChains(ruleset: NftRuleset, hook: NftHook): NftChain[] {
  const families = familiesFor(hook);
  return ruleset.chains
    .filter((c) => c.hook === hook && families.has(c.family) && !ownedByIptables(ruleset, c.family, c.table))
    .map((c, i) => ({ c, i }))
    .sort((a, b) => (a.c.prio ?? 0) - (b.c.prio ?? 0) || a.i - b.i)
    .map(({ c }) => c);
}

export const ruleRef = (r: NftRule): NftRuleRef => ({ family: r.family, table: r.table, chain: r.chain, handle: r.handle, text: r.text });

interface Doubt {
  rule?: NftRule;
  why: string;
}

interface Outcome {
  verdict: "accept" | "drop" | "unknown";
  rule?: NftRule;
  /** the first rule on this path xnode could not evaluate */
  doubt?: Doubt;
}

type Action = { kind: "accept" | "drop" | "continue" | "return" } | { kind: "jump" | "goto"; target: string } | { kind: "unknown"; why: string };

interface Step {
  match: boolean | undefined;
  why?: string;
  action: Action;
}

function verdictAction(stmt: unknown): Action {
  const s = classifyStatement(stmt);
  if (s.kind !== "verdict") return { kind: "unknown", why: "a verdict xnode cannot read" };
  if (s.verdict === "jump" || s.verdict === "goto") return { kind: s.verdict, target: s.target! };
  if (s.verdict === "queue") return { kind: "unknown", why: "queued to a userspace program, which decides" };
  return { kind: s.verdict };
}

/** A rule's matches in order (false at the first that fails), then its verdict. */
function stepOf(ctx: MatchContext, rule: NftRule): Step {
  if (rule.unreadable && rule.expr.length === 0) return { match: undefined, why: rule.unreadable, action: { kind: "unknown", why: rule.unreadable } };
  let match: boolean | undefined = true;
  let why: string | undefined;
  const doubt = (reason: string) => {
    match = undefined;
    why ??= reason;
  };
  for (const stmt of rule.expr) {
    const s = classifyStatement(stmt);
    switch (s.kind) {
      case "match": {
        const t = evalMatch(ctx, s.op, s.left, s.right);
        if (t.holds === false) return { match: false, action: { kind: "continue" } };
        if (t.holds === undefined) doubt(t.why);
        break;
      }
      case "condition":
        doubt(`${s.name} matches depending on rates or counts xnode cannot see`);
        break;
      case "unknown":
        doubt(s.detail);
        break;
      case "effect":
        break;
      case "rewrite":
        return { match, ...(why ? { why } : {}), action: { kind: "unknown", why: `${s.name} changes the packet or where it goes` } };
      case "vmap": {
        const v = evalVmap(ctx, s.key, s.data);
        if (v.kind === "none") return { match: false, action: { kind: "continue" } };
        if (v.kind === "unknown") return { match: undefined, why: why ?? v.why, action: { kind: "unknown", why: v.why } };
        return { match, ...(why ? { why } : {}), action: verdictAction(v.verdict) };
      }
      case "verdict":
        return { match, ...(why ? { why } : {}), action: verdictAction(stmt) };
    }
  }
  // matches and statements only: the packet goes on to the next rule, unless something unreadable was a verdict
  return { match, ...(why ? { why } : {}), action: rule.unreadable ? { kind: "unknown", why: rule.unreadable } : { kind: "continue" } };
}

interface ChainIndex {
  chains: Map<string, NftChain>;
  rules: Map<string, NftRule[]>;
}

const chainKey = (family: string, table: string, chain: string) => `${family}\u0000${table}\u0000${chain}`;
/** Chains and their rules by name, built once per evaluation (a walk looks chains up at every step). */
function indexOf(ruleset: NftRuleset): ChainIndex {
  const index: ChainIndex = { chains: new Map(ruleset.chains.map((c) => [chainKey(c.family, c.table, c.name), c])), rules: new Map() };
  for (const r of ruleset.rules) {
    const key = chainKey(r.family, r.table, r.chain);
    const list = index.rules.get(key) ?? [];
    list.push(r);
    index.rules.set(key, list);
  }
  return index;
}

interface Frame {
  chain: string;
  index: number;
}

interface Walk {
  ruleset: NftRuleset;
  index: ChainIndex;
  base: NftChain;
  match: MatchContext;
  out: Outcome[];
  budget: number;
}

function policyOutcome(w: Walk, doubt: Doubt | undefined): Outcome {
  const policy = w.base.policy ?? "accept";
  if (policy === "accept" || policy === "drop") return { verdict: policy, ...(doubt ? { doubt } : {}) };
  return { verdict: "unknown", doubt: doubt ?? { why: `policy ${policy}` } };
}

/** Every outcome of the base chain from (chain, index) with `stack` to return to; unknown matches fork. */
function walk(w: Walk, chain: string, index: number, stack: readonly Frame[], doubtIn: Doubt | undefined): void {
  const { family, table } = w.base;
  const frames = [...stack];
  let doubt = doubtIn;
  let current = chain;
  let i = index;
  const end = (o: Outcome) => void w.out.push(doubt && !o.doubt ? { ...o, doubt } : o);
  for (;;) {
    if (--w.budget < 0) return end({ verdict: "unknown", doubt: doubt ?? { why: "too many rules xnode cannot evaluate to follow every path" } });
    const key = chainKey(family, table, current);
    const target = w.index.chains.get(key);
    if (!target) return end({ verdict: "unknown", doubt: doubt ?? { why: `chain ${current} is not in the listing` } });
    if (target.unreadable) return end({ verdict: "unknown", doubt: doubt ?? { why: `chain ${current}: ${target.unreadable}` } });
    const rules = w.index.rules.get(key) ?? [];
    if (i >= rules.length) {
      // falling off a regular chain returns to the rule after the jump; off the base chain, the policy decides
      const back = frames.pop();
      if (!back) return end(policyOutcome(w, doubt));
      current = back.chain;
      i = back.index;
      continue;
    }
    const rule = rules[i]!;
    i++;
    const step = stepOf(w.match, rule);
    if (step.match === false) continue;
    if (step.match === undefined) {
      const d = doubt ?? { rule, why: step.why ?? "a match xnode cannot evaluate" };
      walk(w, current, i, frames, d); // the path on which the rule did not match
      doubt = d;
    }
    const action = step.action;
    switch (action.kind) {
      case "continue":
        continue;
      case "accept":
      case "drop":
        return end({ verdict: action.kind, rule });
      case "unknown":
        return end({ verdict: "unknown", rule, doubt: doubt ?? { rule, why: action.why } });
      case "return": {
        const back = frames.pop();
        if (!back) return end(policyOutcome(w, doubt));
        current = back.chain;
        i = back.index;
        continue;
      }
      case "jump":
        if (frames.length >= MAX_JUMPS) return end({ verdict: "unknown", rule, doubt: doubt ?? { rule, why: "jumps nested deeper than the kernel allows" } });
        frames.push({ chain: current, index: i });
        current = action.target;
        i = 0;
        continue;
      case "goto":
        current = action.target;
        i = 0;
        continue;
    }
  }
}

/** One base chain's verdict over every path. */
export function evaluateBaseChain(ruleset: NftRuleset, base: NftChain, packet: NftPacket, index = indexOf(ruleset)): NftVerdict {
  const walked = [nftChainName(base)];
  if (base.unreadable) return { verdict: "unknown", chain: base, reason: base.unreadable, walked };
  const w: Walk = { ruleset, index, base, match: { ruleset, family: base.family, table: base.table, packet }, out: [], budget: STEP_BUDGET };
  walk(w, base.name, 0, [], undefined);
  const first = w.out[0]!;
  const same = w.out.every((o) => o.verdict === first.verdict && o.verdict !== "unknown");
  if (same) return { verdict: first.verdict, chain: base, ...(first.rule ? { rule: ruleRef(first.rule) } : {}), walked };
  // the first path that rests on something unknown names it
  const doubtful = w.out.find((o) => o.doubt) ?? first;
  const rule = doubtful.doubt?.rule ?? doubtful.rule;
  return { verdict: "unknown", chain: base, ...(rule ? { rule: ruleRef(rule) } : {}), reason: doubtful.doubt?.why ?? "cannot tell", walked };
}

function ingressVerdict(ruleset: NftRuleset, base: NftChain, packet: NftPacket, index: ChainIndex): NftVerdict {
  if (base.devices && packet.iifname !== undefined && !base.devices.includes(packet.iifname)) {
    return { verdict: "accept", walked: [] };
  }
  const v = evaluateBaseChain(ruleset, base, packet, index);
  if (v.verdict !== "drop") return v;
  if (!base.devices)
    return {
      ...v,
      verdict: "unknown",
      reason: `nft${ruleset.version ? ` ${ruleset.version}` : ""} does not print which device this ingress chain is on; on ${packet.iifname ?? "the packet's input interface"} it drops`,
    };
  if (packet.iifname === undefined)
    return { ...v, verdict: "unknown", reason: `this ingress chain drops on ${base.devices.join(", ")}; the packet's input interface is not known` };
  return v;
}

/**
 * The verdict along `hooks` in order (e.g. ingress, prerouting, input for a
 * packet to the node itself): the first definite drop in any base chain, else
 * the first "unknown", else accept.
 */
export function evaluateNftPath(ruleset: NftRuleset, packet: Omit<NftPacket, "hook">, hooks: readonly NftHook[]): NftVerdict {
  const walked: string[] = [];
  const index = indexOf(ruleset);
  let unknown: NftVerdict | undefined;
  for (const hook of hooks) {
    for (const base of baseChains(ruleset, hook)) {
      const at = { ...packet, hook };
      const v = base.hook === "ingress" ? ingressVerdict(ruleset, base, at, index) : evaluateBaseChain(ruleset, base, at, index);
      walked.push(...v.walked);
      if (v.verdict === "drop") return { ...v, walked };
      if (v.verdict === "unknown") unknown ??= v;
    }
  }
  if (unknown) return { ...unknown, walked };
  if (ruleset.unreadable.length > 0) return { verdict: "unknown", reason: `nft printed what xnode cannot read: ${ruleset.unreadable.join("; ")}`, walked };
  return { verdict: "accept", walked };
}

export function evaluateNft(ruleset: NftRuleset, packet: NftPacket): NftVerdict {
  return evaluateNftPath(ruleset, packet, [packet.hook]);
}

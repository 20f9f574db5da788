// Native nftables (`nft -j list ruleset`): the tables, chains, named sets and
// rules nft shows, including those no iptables-save prints (firewalld's
// nftables backend, kube-proxy's and flannel's nftables modes, hand-written
// /etc/nftables.conf). Also reads `nft -j list chain …`, which prints the same
// objects. A missing nft or a failing command is the probe's error (cannot
// read), never "no rules"; objects and expressions it does not know are kept
// and marked unreadable, so a verdict resting on them is "unknown".
import { z } from "zod";
import type { NftChain, NftRule, NftRuleset, NftSet } from "../model/index.js";
import { firstIssue } from "../errors.js";
import { classifyStatement, isRecord, renderRule, single } from "./nft-expr.js";
import { parseJsonOutput, ProbeOutputError, type Probe } from "./probe.js";

const name = "nftables";

/** The JSON schema version this parser reads (libnftables-json(5)). */
const JSON_SCHEMA_VERSION = 1;

/** Named stateful objects and other listings that never decide a verdict by themselves. */
const IGNORED = new Set(["counter", "quota", "limit", "ct helper", "ct timeout", "ct expectation", "secmark", "synproxy", "flowtable", "element", "tunnel"]);

const where = { family: z.string(), table: z.string() };
const tableJson = z.object({ family: z.string(), name: z.string(), handle: z.number(), flags: z.union([z.string(), z.array(z.string())]).optional() });
const chainJson = z.object({
  ...where,
  name: z.string(),
  handle: z.number(),
  type: z.string().optional(),
  hook: z.string().optional(),
  prio: z.number().optional(),
  policy: z.string().optional(),
  dev: z.union([z.string(), z.array(z.string())]).optional(),
});
const ruleJson = z.object({ ...where, chain: z.string(), handle: z.number(), expr: z.array(z.unknown()), comment: z.string().optional() });
const setJson = z.object({
  ...where,
  name: z.string(),
  type: z.union([z.string(), z.array(z.string())]).optional(),
  map: z.string().optional(),
  flags: z.array(z.string()).optional(),
  elem: z.array(z.unknown()).optional(),
});

const list = (v: string | string[] | undefined) => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);
const str = (v: unknown) => (typeof v === "string" ? v : undefined);
const num = (v: unknown) => (typeof v === "number" ? v : 0);

function readChain(body: unknown): NftChain | string {
  const c = chainJson.safeParse(body);
  if (c.success) {
    const { dev, ...rest } = c.data;
    // a base chain has all three; one without them is a regular chain
    const base = rest.type !== undefined || rest.hook !== undefined || rest.prio !== undefined;
    const incomplete = base && (rest.type === undefined || rest.hook === undefined || rest.prio === undefined);
    return {
      ...rest,
      ...(dev !== undefined ? { devices: list(dev) } : {}),
      ...(incomplete ? { unreadable: "a base chain without its type, hook or priority" } : {}),
    };
  }
  const r = isRecord(body) ? body : {};
  const [family, table, chainName] = [str(r.family), str(r.table), str(r.name)];
  if (!family || !table || !chainName) return `chain ${JSON.stringify(body).slice(0, 160)} (${firstIssue(c.error)})`;
  return { family, table, name: chainName, handle: num(r.handle), unreadable: `chain printed in a form xnode cannot read (${firstIssue(c.error)})` };
}

function readRule(body: unknown): NftRule | string {
  const parsed = ruleJson.safeParse(body);
  if (!parsed.success) {
    const r = isRecord(body) ? body : {};
    const [family, table, chain] = [str(r.family), str(r.table), str(r.chain)];
    if (!family || !table || !chain) return `rule ${JSON.stringify(body).slice(0, 160)} (${firstIssue(parsed.error)})`;
    const why = `rule printed in a form xnode cannot read (${firstIssue(parsed.error)})`;
    return { family, table, chain, handle: num(r.handle), expr: [], text: "(unreadable)", unreadable: why };
  }
  const { comment, ...rule } = parsed.data;
  const unknown = rule.expr.map(classifyStatement).flatMap((s) => (s.kind === "unknown" ? [s.detail] : []));
  const text = renderRule(rule.expr) + (comment !== undefined ? ` comment ${JSON.stringify(comment)}` : "");
  return { ...rule, text, ...(comment !== undefined ? { comment } : {}), ...(unknown.length > 0 ? { unreadable: unknown.join("; ") } : {}) };
}

function readSet(kind: string, body: unknown): NftSet | string {
  const parsed = setJson.safeParse(body);
  if (parsed.success) {
    const { elem, ...set } = parsed.data;
    // a map listed as "set" or the other way round would be misread
    const mismatch = (kind === "map") !== (set.map !== undefined);
    return { ...set, elem: elem ?? [], ...(mismatch ? { unreadable: `${kind} ${set.name} without the data type of its elements` } : {}) };
  }
  const r = isRecord(body) ? body : {};
  const [family, table, setName] = [str(r.family), str(r.table), str(r.name)];
  if (!family || !table || !setName) return `${kind} ${JSON.stringify(body).slice(0, 160)} (${firstIssue(parsed.error)})`;
  return { family, table, name: setName, elem: [], unreadable: `${kind} printed in a form xnode cannot read (${firstIssue(parsed.error)})` };
}

function parse(stdout: string): NftRuleset {
  const data = parseJsonOutput(name, stdout);
  if (!isRecord(data) || !Array.isArray(data.nftables)) throw new ProbeOutputError(name, 'expected an object with an "nftables" array', stdout.trim());
  const out: NftRuleset = { tables: [], chains: [], sets: [], rules: [], unreadable: [] };
  const keep = <T>(target: T[], item: T | string) => (typeof item === "string" ? out.unreadable.push(item) : target.push(item));
  for (const item of data.nftables) {
    const entry = single(item);
    if (!entry) {
      out.unreadable.push(`not an nft object: ${JSON.stringify(item).slice(0, 160)}`);
      continue;
    }
    const [kind, body] = entry;
    if (kind === "metainfo") {
      const meta = isRecord(body) ? body : {};
      if (typeof meta.version === "string") out.version = meta.version;
      if (meta.json_schema_version !== undefined && meta.json_schema_version !== JSON_SCHEMA_VERSION) {
        out.unreadable.push(`JSON schema version ${String(meta.json_schema_version)} (xnode reads version ${JSON_SCHEMA_VERSION})`);
      }
    } else if (kind === "table") {
      const t = tableJson.safeParse(body);
      if (t.success) {
        const { flags, ...table } = t.data;
        out.tables.push({ ...table, ...(flags !== undefined ? { flags: list(flags) } : {}) });
      } else out.unreadable.push(`table ${JSON.stringify(body).slice(0, 160)} (${firstIssue(t.error)})`);
    } else if (kind === "chain") keep(out.chains, readChain(body));
    else if (kind === "rule") keep(out.rules, readRule(body));
    else if (kind === "set" || kind === "map") keep(out.sets, readSet(kind, body));
    else if (!IGNORED.has(kind)) out.unreadable.push(`object "${kind}" xnode does not read`);
  }
  return out;
}

export const nftablesProbe: Probe<void, NftRuleset> = {
  name,
  agent: "host",
  argv: () => ["nft", "-j", "list", "ruleset"],
  parse,
};

/** `nft -j list chain …` prints metainfo, the chain and its rules: the same objects, read the same way. */
export const parseNftListing = parse;

export function nftRulesIn(ruleset: NftRuleset, family: string, table: string, chain: string): NftRule[] {
  return ruleset.rules.filter((r) => r.family === family && r.table === table && r.chain === chain);
}

export function nftChain(ruleset: NftRuleset, family: string, table: string, chain: string): NftChain | undefined {
  return ruleset.chains.find((c) => c.family === family && c.table === table && c.name === chain);
}

/** `inet firewalld filter_INPUT` */
export function nftChainName(c: { family: string; table: string; chain?: string; name?: string }): string {
  return `${c.family} ${c.table} ${c.chain ?? c.name ?? ""}`.trim();
}

// The nftables commands xnode runs on a node, parsed from a plan's argv: the
// one accept rule open-vxlan-port inserts, and deleting a rule by its handle
// (the rollback). nft joins its argv into one string and parses that, so every
// word is checked against a strict shape: a table name or an address cannot
// carry a second command.
import { XnodeError } from "../errors.js";
import type { NftRule } from "../model/index.js";
import { isRecord, single } from "../probes/nft-expr.js";

/** `ip saddr <sources> <proto> dport <port> accept [comment <word>]` */
export interface NftAccept {
  sources: string[];
  proto: "udp" | "tcp";
  dport: number;
  comment?: string;
}

export interface NftChainRef {
  family: string;
  table: string;
  chain: string;
}

export type NftAction =
  ({ kind: "nft"; op: "insert" | "add"; position?: number; rule: NftAccept } & NftChainRef) | ({ kind: "nft"; op: "delete"; handle: number } & NftChainRef);

const FAMILIES = new Set(["ip", "inet", "netdev"]);
// no leading "-": nft would read a table or chain name from a node's ruleset as an option
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const IPV4 = "(?:\\d{1,3}\\.){3}\\d{1,3}(?:/\\d{1,2})?";
const SOURCES = new RegExp(`^(?:(${IPV4})|\\{ (${IPV4}(?:, ${IPV4})*) \\})$`);
const NUMBER = /^\d{1,9}$/;

function unsupported(argv: readonly string[], why: string): XnodeError {
  return new XnodeError(
    "FIX_ABORTED",
    `xnode cannot run \`${argv.join(" ")}\` as part of a fix: ${why}`,
    "Of nft, only `nft insert|add rule <family> <table> <chain> [position <handle>] ip saddr <addresses> udp|tcp dport <port> accept` and `nft delete rule <family> <table> <chain> handle <handle>` can be applied, verified and rolled back; run anything else by hand.",
  );
}

function parseAccept(argv: readonly string[], words: readonly string[]): NftAccept {
  const [ip, saddr, sources, proto, dport, port, verdict, commentKey, comment, ...rest] = words;
  const m = sources === undefined ? null : SOURCES.exec(sources);
  const shape =
    ip === "ip" && saddr === "saddr" && m && (proto === "udp" || proto === "tcp") && dport === "dport" && NUMBER.test(port ?? "") && verdict === "accept";
  if (!shape || rest.length > 0 || (commentKey !== undefined && (commentKey !== "comment" || !NAME.test(comment ?? "")))) {
    throw unsupported(argv, "the rule is not `ip saddr <addresses> udp|tcp dport <port> accept [comment <word>]`");
  }
  return {
    sources: m[1] !== undefined ? [m[1]] : m[2]!.split(", "),
    proto: proto as "udp" | "tcp",
    dport: Number(port),
    ...(comment !== undefined ? { comment } : {}),
  };
}

export function parseNftAction(argv: readonly string[]): NftAction {
  const [, op, object, family, table, chain, ...rest] = argv;
  if ((op !== "insert" && op !== "add" && op !== "delete") || object !== "rule")
    throw unsupported(argv, "only `insert rule`, `add rule` and `delete rule` are supported");
  if (!FAMILIES.has(family ?? "") || !NAME.test(table ?? "") || !NAME.test(chain ?? ""))
    throw unsupported(argv, "expected a family (ip, inet, netdev), a table and a chain");
  const where = { family: family!, table: table!, chain: chain! };
  if (op === "delete") {
    if (rest.length !== 2 || rest[0] !== "handle" || !NUMBER.test(rest[1]!)) throw unsupported(argv, "a rule is deleted by `handle <number>` only");
    return { kind: "nft", op, ...where, handle: Number(rest[1]) };
  }
  const positioned = op === "insert" && rest[0] === "position";
  if (positioned && !NUMBER.test(rest[1] ?? "")) throw unsupported(argv, "position needs a rule handle");
  const rule = parseAccept(argv, positioned ? rest.slice(2) : rest);
  return { kind: "nft", op, ...where, ...(positioned ? { position: Number(rest[1]) } : {}), rule };
}

/** The words after the chain that recreate `rule`. */
export function nftAcceptWords(rule: NftAccept): string[] {
  const sources = rule.sources.length === 1 ? rule.sources[0]! : `{ ${rule.sources.join(", ")} }`;
  return ["ip", "saddr", sources, rule.proto, "dport", String(rule.dport), "accept", ...(rule.comment !== undefined ? ["comment", rule.comment] : [])];
}

export function nftHead(op: "insert" | "add" | "delete", c: NftChainRef): string[] {
  return ["nft", op, "rule", c.family, c.table, c.chain];
}

/** `nft -j list chain …`: the chain and its rules, what verification and the fingerprint read. */
export function nftListChainArgv(c: NftChainRef): string[] {
  return ["nft", "-j", "list", "chain", c.family, c.table, c.chain];
}

function matchOf(stmt: unknown): { left: unknown; right: unknown } | undefined {
  const s = single(stmt);
  return s && s[0] === "match" && isRecord(s[1]) && s[1].op === "==" ? { left: s[1].left, right: s[1].right } : undefined;
}

function isPayload(expr: unknown, protocol: string, field: string): boolean {
  const p = single(expr);
  return !!p && p[0] === "payload" && isRecord(p[1]) && p[1].protocol === protocol && p[1].field === field;
}

/** "10.0.0.1", {prefix}, or a set of those, as nft prints them back: a one-element set comes back as the bare value. */
function sourcesOf(right: unknown): string[] | undefined {
  const one = (v: unknown): string | undefined => {
    if (typeof v === "string") return v;
    const p = single(v);
    return p && p[0] === "prefix" && isRecord(p[1]) ? `${String(p[1].addr)}/${String(p[1].len)}` : undefined;
  };
  const s = single(right);
  const items = s && s[0] === "set" && Array.isArray(s[1]) ? s[1] : [right];
  const out = items.map(one);
  return out.every((x): x is string => x !== undefined) ? out : undefined;
}

/** The accept rule as `nft -j` reads it back, when it is one of this shape; a /32 prints as the bare address. */
export function acceptOf(rule: Pick<NftRule, "expr" | "comment">): NftAccept | undefined {
  const [saddr, dport, verdict, ...rest] = rule.expr;
  const s = matchOf(saddr);
  const d = matchOf(dport);
  const proto = ["udp", "tcp"].find((p) => d && isPayload(d.left, p, "dport")) as "udp" | "tcp" | undefined;
  const sources = s && isPayload(s.left, "ip", "saddr") ? sourcesOf(s.right) : undefined;
  if (!sources || !proto || typeof d!.right !== "number" || single(verdict)?.[0] !== "accept" || rest.length > 0) return undefined;
  return { sources, proto, dport: d!.right, ...(rule.comment !== undefined ? { comment: rule.comment } : {}) };
}

const bare = (a: string) => a.replace(/\/32$/, "");

export function sameAccept(a: NftAccept, b: NftAccept): boolean {
  const set = (x: NftAccept) => [...new Set(x.sources.map(bare))].sort().join(",");
  return set(a) === set(b) && a.proto === b.proto && a.dport === b.dport && a.comment === b.comment;
}
